"""A DingTalk robot message (HTTP callback body or Stream-mode payload: the same JSON) -> an
Invocation for the core, and the core's Reply -> the DingTalk message answering it.

Identity: `senderStaffId` (the organisation's userid) is the user id members are stored under; a
sender from outside the organisation has only `senderId` and is treated as a stranger under it.
Mentions: in a group the text carries `@昵称` while `atUsers` lists the mentioned people's staff ids
(plus the robot itself, which has no staff id). When the count of `@name`s in the text equals the
count of mentioned staff ids, they are paired in order and rewritten as `<@staffId|昵称>`, so the core
resolves people by id even before they are members. Otherwise `@name` stays as typed and the core
resolves it against the team's member names (commands.core.people.resolve_person).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.dingtalk.api import DingTalkApi, NetworkError
from bot.dingtalk.render import render
from bot.dingtalk.sender import classify_webhook
from bot.kit import inbound as kit
from bot.kit.notices import generic_error, notice, text_only
from commands.core.clock import Clock
from commands.core.context import Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, Text
from reminders.outbox import SendResult

log = logging.getLogger("teambot.dingtalk")

PLATFORM = "dingtalk"
MAX_TEXT = 4000


class BadCallback(ValueError):
    """The JSON is not a robot message we can read; `reason` is safe to show and log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Inbound:
    msg_id: str
    user_id: str
    name: str
    conversation_id: str
    group: bool
    text: str
    #: Staff ids from atUsers, the robot excluded, in the order DingTalk gave them.
    at_staff_ids: tuple[str, ...] = ()
    session_webhook: str | None = None
    session_webhook_expires_ms: int | None = None
    is_text: bool = True


def _str(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def parse_message(data: dict) -> Inbound:
    if not isinstance(data, dict):
        raise BadCallback("body is not a JSON object")
    msg_id = _str(data.get("msgId")).strip()
    user_id = _str(data.get("senderStaffId")).strip() or _str(data.get("senderId")).strip()
    conversation = _str(data.get("conversationId")).strip()
    if not msg_id or not user_id or not conversation:
        raise BadCallback("msgId, sender and conversationId are required")
    if len(msg_id) > 150 or len(user_id) > 64 or len(conversation) > 100:
        raise BadCallback("id too long")
    kind = _str(data.get("msgtype")) or "text"
    text = ""
    if kind == "text":
        body = data.get("text")
        text = _str(body.get("content")) if isinstance(body, dict) else ""
    elif kind == "richText":
        content = data.get("content")
        items = content.get("richText") if isinstance(content, dict) else None
        text = "".join(_str(i.get("text")) for i in (items or []) if isinstance(i, dict))
    bot = _str(data.get("chatbotUserId"))
    at_ids: list[str] = []
    for u in data.get("atUsers") or []:
        if not isinstance(u, dict):
            continue
        staff = _str(u.get("staffId")).strip()
        if staff and _str(u.get("dingtalkId")) != bot and staff not in at_ids:
            at_ids.append(staff)
    expires = data.get("sessionWebhookExpiredTime")
    return Inbound(
        msg_id=msg_id, user_id=user_id, name=_str(data.get("senderNick"))[:80], conversation_id=conversation,
        group=_str(data.get("conversationType")) == "2", text=text[:MAX_TEXT], at_staff_ids=tuple(at_ids),
        session_webhook=_str(data.get("sessionWebhook")) or None,
        session_webhook_expires_ms=int(expires) if isinstance(expires, int | str) and str(expires).isdigit()
        else None,
        is_text=kind in ("text", "richText"),
    )


def pair_mentions(text: str, staff_ids: tuple[str, ...]) -> str:
    """Rewrite `@昵称` as `<@staffId|昵称>` when the mentions and atUsers pair up one to one."""
    found = kit.others(text)
    if not found or len(found) != len(staff_ids) or not all(kit.ID_SHAPE.fullmatch(s) for s in staff_ids):
        return text
    return kit.replace_mentions(text, [(m, f"<@{staff}|{kit.mention_name(m)}>")
                                       for m, staff in zip(found, staff_ids)])


def to_invocation(inb: Inbound, received_at: datetime) -> Invocation:
    return kit.invocation(platform=PLATFORM, user_id=inb.user_id, name=inb.name, channel=inb.conversation_id,
                          text=pair_mentions(kit.strip_bot_mention(inb.text), inb.at_staff_ids),
                          received_at=received_at, delivery_key=inb.msg_id, direct=not inb.group)


def private_dm_key(msg_id: str) -> str:
    """The outbox dedupe key of the 1:1 message carrying a private reply to message `msg_id`."""
    return f"dingtalk:private:{msg_id}"


def private_notice(reply: Reply, user_id: str, lang: str) -> Reply:
    """What the group sees instead of a private reply: `@sender 已私信回复你。` in the sender's language.
    The mention is part of the text, so the notice @s the sender also when it is queued in the outbox."""
    text = f"<@{user_id}> " + notice("private_notice", lang)
    return Reply(parts=(Text(text),), private=False, ok=reply.ok, summary=text)


def reply_destination(inb: Inbound) -> str:
    return f"channel:{inb.conversation_id}" if inb.group else f"user:{inb.user_id}"


class DingTalkBot:
    """The adapter's core, one path for HTTP and Stream mode: run the message's command, then answer
    through the message's sessionWebhook; when that has expired or fails, the answer is queued in the
    outbox, whose DingTalk sender delivers it through the OpenAPI (the robot's group and 1:1 message
    APIs) with retries and pacing. Blocking: call from a worker thread."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, api: DingTalkApi):
        self.dispatcher = dispatcher
        self.clock = clock
        self.api = api

    def deliver(self, inb: Inbound) -> SendResult | None:
        """Run the command and post the answer. None for a redelivery (already answered)."""
        try:
            return self._deliver(inb)
        except Exception:  # the dispatcher answers its own failures; this is the last guard
            log.exception("DingTalk message %s failed outside the dispatcher", inb.msg_id)
            return self.post_reply(inb, Reply.text(generic_error(), ok=False))

    def _deliver(self, inb: Inbound) -> SendResult | None:
        if self.dispatcher.already_answered(PLATFORM, inb.msg_id):
            log.info("DingTalk message %s was already handled; not answering twice", inb.msg_id)
            return None
        reply = self.route(inb, self.handle(inb))
        result = self.post_reply(inb, reply)
        if not result.ok:
            log.info("reply to %s through its sessionWebhook failed (%s); queued for the OpenAPI",
                     inb.msg_id, result.error)
            self.dispatcher.queue_reply(reply, platform=PLATFORM, destination=reply_destination(inb),
                                        key=f"dingtalk-reply:{inb.msg_id}")
        return result

    def handle(self, inb: Inbound) -> Reply:
        if not inb.is_text:
            return Reply.text(text_only())
        # Dispatcher.handle answers every failure with a Reply (and dedupes by delivery_key).
        return self.dispatcher.handle(to_invocation(inb, self.clock.now()))

    def route(self, inb: Inbound, reply: Reply) -> Reply:
        """What to answer in the conversation. DingTalk has no message only one person in a group
        sees, so a private reply to a group message is queued in the outbox as a 1:1 message to the
        sender (DingTalkSender sends `user:` destinations with the robot's 1:1 API) and the group gets
        a short notice instead. The dedupe key (per msgId) keeps a redelivery from queueing it twice.
        Non-private replies and 1:1 conversations are answered as they are."""
        if not inb.group or not reply.private:
            return reply
        self.dispatcher.queue_reply(reply, platform=PLATFORM, destination=f"user:{inb.user_id}",
                                    key=private_dm_key(inb.msg_id))
        return private_notice(reply, inb.user_id, self.dispatcher.language(to_invocation(inb, self.clock.now())))

    def post_reply(self, inb: Inbound, reply: Reply) -> SendResult:
        """The answer, to the message's sessionWebhook (while it is valid)."""
        now_ms = int(self.clock.now().timestamp() * 1000)
        if not inb.session_webhook or (inb.session_webhook_expires_ms and inb.session_webhook_expires_ms < now_ms):
            return SendResult.transient("no valid sessionWebhook")
        message = render(reply, at_user=inb.user_id if inb.group else None, group=inb.group)
        try:
            return classify_webhook(self.api.webhooks.post(inb.session_webhook, message))
        except (NetworkError, ValueError) as e:
            return SendResult.transient(f"{type(e).__name__}: {e}")
