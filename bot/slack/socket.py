"""Socket Mode: Slack opens a websocket to us (no public URL). Uses Bolt's built-in websocket
client, so no extra dependency; `apps.connections.open` goes through the app's WebClient and so
honours SLACK_API_URL. That client pings Slack and reconnects by itself; a thread of ours looks at
it every second and tells the ConnectionWatch /healthz reads whether it is connected."""
from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings
from bot.kit.front import Front, Probes
from bot.kit.liveness import ConnectionWatch

log = logging.getLogger("teambot.slack.socket")


def build_handler(settings: Settings, app: App) -> SocketModeHandler:
    if not settings.slack.app_token:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN (an app-level token starting with xapp-)")
    return SocketModeHandler(app, app_token=settings.slack.app_token, logger=log)


def serve_socket_mode(settings: Settings, app: App, *, probes: Probes | None = None) -> None:
    """Connect to Slack over Socket Mode and handle deliveries until interrupted, with /healthz and
    /metrics on the HTTP port. Blocks."""
    handler = build_handler(settings, app)
    probes = probes or Probes()
    stop = Front(limits=settings.http, probes=probes).serve_in_background(settings)
    done = threading.Event()
    client = getattr(handler, "client", None)
    if probes.connection is not None and client is not None:
        threading.Thread(target=watch_connection, args=(client, probes.connection, done), daemon=True,
                         name="socket-mode-watch").start()
    log.info("Slack Socket Mode: connecting")
    try:
        handler.start()
    finally:
        done.set()
        stop()


def watch_connection(client, watch: ConnectionWatch, done: threading.Event, every: float = 1.0) -> None:
    """Until `done`: whether the Socket Mode client is connected, every `every` seconds."""
    while not done.is_set():
        try:
            connected = client.is_connected()
        except Exception:  # noqa: BLE001 - a client between sessions may not say
            connected = False
        if connected:
            watch.up()
        elif watch.is_up:
            watch.down("the Socket Mode session closed; the client is reconnecting")
        done.wait(every)
