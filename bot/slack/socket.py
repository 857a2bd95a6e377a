"""Socket Mode: Slack opens a websocket to us (no public URL). Uses Bolt's built-in websocket
client, so no extra dependency; `apps.connections.open` goes through the app's WebClient and so
honours SLACK_API_URL."""
from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings
from bot.kit.front import Front, Probes

log = logging.getLogger("teambot.slack.socket")


def build_handler(settings: Settings, app: App) -> SocketModeHandler:
    if not settings.slack.app_token:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN (an app-level token starting with xapp-)")
    return SocketModeHandler(app, app_token=settings.slack.app_token, logger=log)


def serve_socket_mode(settings: Settings, app: App, *, probes: Probes | None = None) -> None:
    """Connect to Slack over Socket Mode and handle deliveries until interrupted, with /healthz and
    /metrics on the HTTP port. Blocks."""
    handler = build_handler(settings, app)
    stop = Front(limits=settings.http, probes=probes or Probes()).serve_in_background(settings)
    log.info("Slack Socket Mode: connecting")
    try:
        handler.start()
    finally:
        stop()
