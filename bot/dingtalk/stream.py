"""DingTalk Stream mode: the official `dingtalk_stream` SDK keeps a WebSocket to DingTalk, so the bot
needs no public URL. Robot messages arrive on the ChatbotMessage topic as the same JSON the HTTP
callback receives, and take the same path (bot.dingtalk.inbound.DingTalkBot.deliver): the command
runs, the answer goes to the message's sessionWebhook, or through the outbox when that fails.

`TeambotHandler.process` is a coroutine on the SDK's event loop. Everything blocking (the database,
HTTP replies) runs in a thread executor (`await loop.run_in_executor(...)`), so one slow command
never stalls the connection or other messages. A redelivered message (same msgId, e.g. after a
reconnect before our ack) is acknowledged without running the command or replying again.

The connection (WatchedStreamClient): the SDK's own loop is replaced, since the gateway is known to
go quiet after a server-side disconnect, and the SDK then waits for ever on a connection nothing
comes through. Ours reconnects at once after a disconnect frame; after a closed or reset connection
or a refused open, after a pause that doubles up to 30 s; and when nothing (no ping, no message)
has come from the gateway for [health] stream_silence_seconds, it drops the connection and opens a
new one. Its state goes to the ConnectionWatch that /healthz reads.
"""
from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from urllib.parse import quote_plus

import dingtalk_stream
import websockets
from dingtalk_stream import AckMessage, CallbackMessage
from dingtalk_stream.frames import SystemMessage

from bot.config import Settings
from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.inbound import BadCallback, DingTalkBot, parse_message
from bot.kit.front import Front, Probes
from bot.kit.liveness import ConnectionWatch
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher

log = logging.getLogger("teambot.dingtalk.stream")


class TeambotHandler(dingtalk_stream.ChatbotHandler):
    def __init__(self, bot: DingTalkBot, *, executor: Executor | None = None):
        super().__init__()
        self.bot = bot
        self.executor = executor

    async def process(self, callback: CallbackMessage):
        try:
            inbound = parse_message(callback.data)
        except BadCallback as e:
            log.warning("DingTalk stream message unreadable: %s", e.reason)
            return AckMessage.STATUS_OK, "ignored"  # a retry would not make it readable
        await asyncio.get_running_loop().run_in_executor(self.executor, self.bot.deliver, inbound)
        return AckMessage.STATUS_OK, "OK"


#: The longest pause between two attempts to connect.
RETRY_CAP_SECONDS = 30.0


class WatchedStreamClient(dingtalk_stream.DingTalkStreamClient):
    """The SDK's client (its handlers, acks, open_connection) with a connection loop of our own."""

    def __init__(self, credential: dingtalk_stream.Credential, *, watch: ConnectionWatch | None = None,
                 silence_seconds: float = 90.0, retry_first: float = 1.0, retry_cap: float = RETRY_CAP_SECONDS):
        super().__init__(credential, logger=logging.getLogger("teambot.dingtalk.sdk"))
        self.watch = watch or ConnectionWatch("dingtalk_stream")
        self.silence_seconds = silence_seconds
        self.retry_first = retry_first
        self.retry_cap = retry_cap

    async def start(self) -> None:
        self.pre_start()
        pause = self.retry_first
        while True:
            connection = await asyncio.to_thread(self.open_connection)
            if connection:
                before = self.watch.connects
                reason, at_once = await self.session(connection)
                self.watch.down(reason)
                log.warning("DingTalk Stream connection lost (%s); reconnecting", reason)
                if self.watch.connects > before:  # it was up: start over with a short pause
                    pause = self.retry_first
                if at_once:
                    continue
            else:
                self.watch.down("the gateway did not open a connection")
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.retry_cap)

    async def session(self, connection: dict) -> tuple[str, bool]:
        """One connection, until it ends: (why, whether to reconnect at once)."""
        uri = f'{connection["endpoint"]}?ticket={quote_plus(str(connection["ticket"]))}'
        silent = asyncio.Event()
        try:
            async with websockets.connect(uri, close_timeout=2, open_timeout=10) as ws:
                self.websocket = ws
                self.watch.up()
                log.info("DingTalk Stream connected")
                watchdog = asyncio.create_task(self._watchdog(ws, silent))
                try:
                    async for raw in ws:
                        self.watch.heard()
                        message = json.loads(raw)
                        if _topic(message) == SystemMessage.TOPIC_DISCONNECT:
                            await self.route_message(message)  # acknowledged, then closed by us
                            return "the gateway sent a disconnect frame", True
                        asyncio.create_task(self.background_task(message))
                finally:
                    watchdog.cancel()
        except (websockets.exceptions.WebSocketException, OSError, TimeoutError, ValueError) as e:
            if silent.is_set():
                return f"nothing from the gateway for {self.silence_seconds:g}s", True
            return f"{type(e).__name__}: {e}", False
        if silent.is_set():
            return f"nothing from the gateway for {self.silence_seconds:g}s", True
        return "the gateway closed the connection", False

    async def _watchdog(self, ws, silent: asyncio.Event) -> None:
        step = max(0.02, min(1.0, self.silence_seconds / 4))
        while True:
            await asyncio.sleep(step)
            if self.watch.silent_for() > self.silence_seconds:
                silent.set()
                transport = getattr(ws, "transport", None)
                if transport is not None:
                    transport.abort()  # no close handshake with a gateway that says nothing
                return

    async def route_message(self, json_message: dict):
        """The gateway's pings are answered quietly (the SDK logs each one as an unknown topic)."""
        if json_message.get("type") == SystemMessage.TYPE and _topic(json_message) == "ping":
            ack = await self.system_handler.raw_process(SystemMessage.from_dict(json_message))
            await self.websocket.send(json.dumps(ack.to_dict()))
            return ""
        return await super().route_message(json_message)


def _topic(message: dict) -> str:
    headers = message.get("headers") if isinstance(message, dict) else None
    return str(headers.get("topic") or "") if isinstance(headers, dict) else ""


def build_client(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, executor: Executor | None = None,
                 watch: ConnectionWatch | None = None) -> WatchedStreamClient:
    d = settings.dingtalk
    if d.api_url:
        # The SDK reads its endpoint from the class; the override is for tests and proxies.
        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = (
            d.api_url.rstrip("/") + "/v1.0/gateway/connections/open")
    client = WatchedStreamClient(dingtalk_stream.Credential(d.app_key, d.app_secret), watch=watch,
                                 silence_seconds=settings.health.stream_silence_seconds)
    handler = TeambotHandler(DingTalkBot(dispatcher, clock, DingTalkApi.from_settings(settings)),
                             executor=executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="dingtalk"))
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, handler)
    return client


def run_stream(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, probes: Probes | None = None) -> None:
    """Connect with the app's AppKey/AppSecret and handle robot messages until interrupted, with
    /healthz and /metrics on the HTTP port. Blocks; the SDK reconnects by itself after network errors."""
    probes = probes or Probes()
    stop = Front(limits=settings.http, probes=probes).serve_in_background(settings)
    log.info("DingTalk Stream mode: connecting as app %s", settings.dingtalk.app_key)
    try:
        build_client(settings, dispatcher, clock, watch=probes.connection).start_forever()
    finally:
        stop()
