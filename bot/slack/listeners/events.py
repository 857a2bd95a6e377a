"""Events API deliveries other than the Home tab. Every event is acknowledged with 200 (an error or
a 404 makes Slack retry, and after many failures it turns the subscription off):
  * `message`: only direct messages from people run, as a command, answered with say(); Slack's
    retries of an event we are still (or already) answering are recognised by its event id;
  * `tokens_revoked` / `app_uninstalled`: in multi-workspace mode the workspace's installation is
    deleted (Bolt's own listeners); with one workspace there is nothing stored to delete;
  * any other type (reaction_added, member_joined_channel, ...): logged once at INFO and ignored.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

from slack_bolt import App

from bot.slack.bridge import PLATFORM, SlackBridge, lang_of, token_of
from bot.slack.render import message_payload, unescape
from commands.core.router import split_command

log = logging.getLogger("teambot.slack")


class Seen:
    """Event ids this process already answered, so a Slack retry of an event we handled (slowly)
    does not say() the stored reply a second time. Bounded and thread-safe."""

    def __init__(self, size: int = 10_000):
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._ids:
                return False
            self._ids[key] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._ids.pop(key, None)


def _from_a_person(event: dict, context) -> bool:
    return (event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")
            and bool(event.get("user")) and event.get("user") != context.get("bot_user_id"))


def register(app: App, bridge: SlackBridge) -> None:
    seen = Seen()

    @app.event("message")
    def on_message(event: dict, body: dict, say, context) -> None:
        event_id = body.get("event_id") or ""
        if not _from_a_person(event, context) or (event_id and not seen.claim(event_id)):
            return
        if event_id and bridge.dispatcher.already_answered(PLATFORM, event_id):
            # Slack's retry of an event another replica answered (refused or not): answered once.
            log.info("Slack event %s was already answered; not answering twice", event_id)
            return
        try:
            name, text = split_command(unescape(event.get("text") or ""))
            inv = bridge.invocation(user_id=event["user"], channel_id=event.get("channel") or "",
                                    command=name, text=text, delivery_key=event_id or None,
                                    direct=True, token=token_of(context))
            reply = bridge.run(inv)
            extra = {"thread_ts": event["thread_ts"]} if event.get("thread_ts") else {}
            say(**message_payload(reply, lang_of(inv)), **extra)
        except Exception:
            if event_id:
                seen.release(event_id)
            log.exception("direct message from %s failed", event.get("user"))

    if app.installation_store is not None:
        app.enable_token_revocation_listeners()
    else:
        @app.event(re.compile(r"^(tokens_revoked|app_uninstalled)$"))
        def on_revoked(event: dict, body: dict) -> None:
            log.warning("Slack says %s for workspace %s; SLACK_BOT_TOKEN will stop working",
                        event.get("type"), body.get("team_id"))


def register_last(app: App) -> None:
    """The catch-all: registered after every other event listener (Bolt runs the first that matches)."""
    logged: set[str] = set()

    @app.event(re.compile(".*"))
    def on_other_event(event: dict) -> None:
        kind = str(event.get("type") or "?")[:60]
        if kind not in logged and len(logged) < 1000:
            logged.add(kind)
            log.info("ignoring Slack %s events (no listener for them)", kind)
