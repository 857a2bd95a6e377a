"""The App Home tab: published when a person opens it (commands/home.py: my tasks, KPIs,
approvals, the next meeting), and again after each of their clicks and forms (bridge.publish_home)."""
from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.bridge import SlackBridge, token_of


def register(app: App, bridge: SlackBridge) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict, client: WebClient, context) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        bridge.publish_home(client, event["user"], token=token_of(context))
