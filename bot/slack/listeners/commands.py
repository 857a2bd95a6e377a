"""Slash commands: one listener for every command, ours (commands.core.router.ROUTES) and any other
pointed at us, which the core answers with usage (Bolt tries each listener's matcher in turn, so one
listener is also the cheapest). A bare `/task`, `/progress`, `/resource` or `/goal` gets its form as a
modal opened with the command's trigger_id; everything else is answered in the ack, inside Slack's
3 seconds, where it cannot get lost the way a later response_url post can."""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.kit.notices import generic_error
from bot.slack.bridge import SlackBridge, form_of, is_direct, lang_of, response_type, token_of
from bot.slack.render import message_payload, unescape

log = logging.getLogger("teambot.slack")


def register(app: App, bridge: SlackBridge) -> None:
    def on_command(ack, body: dict, client: WebClient, context) -> None:
        try:
            channel_id = body.get("channel_id") or ""
            inv = bridge.invocation(
                user_id=body.get("user_id") or "", channel_id=channel_id,
                command=(body.get("command") or "").lstrip("/"), text=unescape(body.get("text") or ""),
                delivery_key=body.get("trigger_id"), user_name=body.get("user_name") or "",
                direct=is_direct(channel_id, body.get("channel_name")), token=token_of(context))
            reply = bridge.run(inv)
            if bridge.open_modal(client, body.get("trigger_id"), form_of(reply), channel_id):
                ack()
                return
            ack(response_type=response_type(reply), **message_payload(reply, lang_of(inv)))
        except Exception:
            log.exception("slash command failed: %s", body.get("command"))
            ack(response_type="ephemeral", text=generic_error())

    app.command(re.compile(r"^/"))(on_command)
