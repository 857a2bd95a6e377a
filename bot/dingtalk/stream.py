"""DingTalk Stream mode: the official `dingtalk_stream` SDK keeps a WebSocket to DingTalk, so the bot
needs no public URL. Robot messages arrive on the ChatbotMessage topic as the same JSON the HTTP
callback receives, and take the same path (bot.dingtalk.inbound.DingTalkBot.deliver): the command
runs, the answer goes to the message's sessionWebhook, or through the outbox when that fails.

`TeambotHandler.process` is a coroutine on the SDK's event loop. Everything blocking (the database,
HTTP replies) runs in a thread executor (`await loop.run_in_executor(...)`), so one slow command
never stalls the connection or other messages. A redelivered message (same msgId, e.g. after a
reconnect before our ack) is acknowledged without running the command or replying again.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor, ThreadPoolExecutor

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackMessage

from bot.config import Settings
from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.inbound import BadCallback, DingTalkBot, parse_message
from bot.kit.front import Front, Probes
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


def build_client(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
                 executor: Executor | None = None) -> dingtalk_stream.DingTalkStreamClient:
    d = settings.dingtalk
    if d.api_url:
        # The SDK reads its endpoint once, at import; the override is for tests and proxies.
        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = (
            d.api_url.rstrip("/") + "/v1.0/gateway/connections/open")
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(d.app_key, d.app_secret))
    handler = TeambotHandler(DingTalkBot(dispatcher, clock, DingTalkApi.from_settings(settings)),
                             executor=executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="dingtalk"))
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, handler)
    return client


def run_stream(settings: Settings, dispatcher: Dispatcher, clock: Clock, *, probes: Probes | None = None) -> None:
    """Connect with the app's AppKey/AppSecret and handle robot messages until interrupted, with
    /healthz and /metrics on the HTTP port. Blocks; the SDK reconnects by itself after network errors."""
    stop = Front(limits=settings.http, probes=probes or Probes()).serve_in_background(settings)
    log.info("DingTalk Stream mode: connecting as app %s", settings.dingtalk.app_key)
    try:
        build_client(settings, dispatcher, clock).start_forever()
    finally:
        stop()
