"""DingTalk Stream mode: the official `dingtalk_stream` SDK keeps a WebSocket to DingTalk, so the bot
needs no public URL. Robot messages arrive on the ChatbotMessage topic as the same JSON the HTTP
callback receives.

`TeambotHandler.process` is a coroutine on the SDK's event loop. Everything blocking (the database,
HTTP replies) runs in a thread executor (`await loop.run_in_executor(...)`), so one slow command
never stalls the connection or other messages. The reply goes to the message's sessionWebhook (the
same thing the SDK's `reply_markdown` helper does, but with our ActionCards and without blocking the
loop); if that fails or has expired, it is queued in the outbox for the DingTalk sender, which keeps
retrying with pacing. A private reply (refusal, usage error, personal list) to a group message is not
posted in the group: it is queued in the outbox as a 1:1 message to the sender, and the group gets a
short @-mention notice (DingTalkBot.route). A redelivered message (same msgId, e.g. after a reconnect
before our ack) is acknowledged without running the command or replying again.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor, ThreadPoolExecutor

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackMessage

from bot.config import Settings
from bot.dingtalk import render
from bot.dingtalk.api import DingTalkApi, NetworkError
from bot.dingtalk.inbound import PLATFORM, BadCallback, DingTalkBot, Inbound, parse_message
from bot.dingtalk.sender import classify_webhook
from commands.core.clock import Clock
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, reply_to_dict
from reminders.outbox import SendResult
from storage import outbox_store

log = logging.getLogger("teambot.dingtalk.stream")


def reply_destination(inb: Inbound) -> str:
    return f"channel:{inb.conversation_id}" if inb.group else f"user:{inb.user_id}"


class TeambotHandler(dingtalk_stream.ChatbotHandler):
    def __init__(self, bot: DingTalkBot, api: DingTalkApi, *, executor: Executor | None = None):
        super().__init__()
        self.bot = bot
        self.api = api
        self.executor = executor

    async def process(self, callback: CallbackMessage):
        try:
            inbound = parse_message(callback.data)
        except BadCallback as e:
            log.warning("DingTalk stream message unreadable: %s", e.reason)
            return AckMessage.STATUS_OK, "ignored"  # a retry would not make it readable
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, self.deliver, inbound)
        except Exception:
            log.exception("DingTalk message %s failed", inbound.msg_id)
        return AckMessage.STATUS_OK, "OK"

    def deliver(self, inb: Inbound) -> SendResult | None:
        """Run the command and post the answer (blocking). None for a redelivery."""
        if self.bot.seen(inb):
            log.info("DingTalk message %s was already handled; not answering twice", inb.msg_id)
            return None
        # A private reply to a group message goes to the sender 1:1 (queued in the outbox); the
        # group gets a short notice (DingTalkBot.route).
        reply = self.bot.route(inb, self.bot.handle(inb))
        result = self.post_reply(inb, reply)
        if not result.ok:
            log.warning("reply to %s via sessionWebhook failed (%s); queued in the outbox", inb.msg_id,
                        result.error)
            self.queue_reply(inb, reply)
        return result

    def post_reply(self, inb: Inbound, reply: Reply) -> SendResult:
        now_ms = int(self.bot.clock.now().timestamp() * 1000)
        if not inb.session_webhook or (inb.session_webhook_expires_ms and inb.session_webhook_expires_ms < now_ms):
            return SendResult.transient("no valid sessionWebhook")
        message = render.render(reply, at_user=inb.user_id if inb.group else None, group=inb.group)
        try:
            return classify_webhook(self.api.post_webhook(inb.session_webhook, message))
        except (NetworkError, ValueError) as e:
            return SendResult.transient(f"{type(e).__name__}: {e}")

    def queue_reply(self, inb: Inbound, reply: Reply) -> None:
        now = self.bot.clock.now()
        with self.bot.dispatcher.uow() as uow:
            outbox_store.enqueue(uow.session, platform=PLATFORM, destination=reply_destination(inb),
                                 payload=reply_to_dict(reply), now=now,
                                 dedupe_key=f"dingtalk-reply:{inb.msg_id}", due_at=now,
                                 expires_at=now + self.bot.dispatcher.windows.reply)


def build_client(settings: Settings, dispatcher: Dispatcher, clock: Clock, *,
                 executor: Executor | None = None) -> dingtalk_stream.DingTalkStreamClient:
    d = settings.dingtalk
    if d.api_url:
        # The SDK reads its endpoint once, at import; the override is for tests and proxies.
        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = (
            d.api_url.rstrip("/") + "/v1.0/gateway/connections/open")
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(d.app_key, d.app_secret))
    handler = TeambotHandler(DingTalkBot(dispatcher, clock), DingTalkApi.from_settings(settings),
                             executor=executor or ThreadPoolExecutor(max_workers=8,
                                                                     thread_name_prefix="dingtalk"))
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, handler)
    return client


def run_stream(settings: Settings, dispatcher: Dispatcher, clock: Clock) -> None:
    """Connect with the app's AppKey/AppSecret and handle robot messages until interrupted. Blocks;
    the SDK reconnects by itself after network errors."""
    log.info("DingTalk Stream mode: connecting as app %s", settings.dingtalk.app_key)
    build_client(settings, dispatcher, clock).start_forever()
