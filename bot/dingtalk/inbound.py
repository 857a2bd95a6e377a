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
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.dingtalk.render import render
from commands.core import router
from commands.core.clock import Clock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, Text, reply_to_dict
from storage import outbox_store
from storage.models import InboundReceipt

log = logging.getLogger("teambot.dingtalk")

PLATFORM = "dingtalk"
MAX_TEXT = 4000
TEXT_ONLY = ("🙂 我只看得懂文字命令，例如 /teambot help。\n"
             "I only read text commands, e.g. /teambot help.")
#: In a group, a private reply goes to the sender 1:1 (through the outbox); the group gets this notice.
PRIVATE_NOTICE = {"zh": "已私信回复你。", "en": "I've replied to you in a direct message."}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
#: Words that mean the sender themself in a mention (`@我`): never paired with an atUsers entry.
SELF_NAMES = frozenset({"me", "myself", "self", "我", "自己", "本人"})

_AT = "@＠﹫"
_STOP = r"\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|"
_BARE = re.compile(r"(?<![A-Za-z0-9._%+\-" + _AT + r"])[" + _AT + r"](?P<name>[^" + _STOP + r"]+)")
#: What the core accepts as an id inside `<@id|name>` (commands.core.parsing).
_ID_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


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


def _s(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def parse_message(data: dict) -> Inbound:
    if not isinstance(data, dict):
        raise BadCallback("body is not a JSON object")
    msg_id = _s(data.get("msgId")).strip()
    user_id = _s(data.get("senderStaffId")).strip() or _s(data.get("senderId")).strip()
    conversation = _s(data.get("conversationId")).strip()
    if not msg_id or not user_id or not conversation:
        raise BadCallback("msgId, sender and conversationId are required")
    if len(msg_id) > 150 or len(user_id) > 64 or len(conversation) > 100:
        raise BadCallback("id too long")
    kind = _s(data.get("msgtype")) or "text"
    text = ""
    if kind == "text":
        body = data.get("text")
        text = _s(body.get("content")) if isinstance(body, dict) else ""
    elif kind == "richText":
        content = data.get("content")
        items = content.get("richText") if isinstance(content, dict) else None
        text = "".join(_s(i.get("text")) for i in (items or []) if isinstance(i, dict))
    bot = _s(data.get("chatbotUserId"))
    at_ids: list[str] = []
    for u in data.get("atUsers") or []:
        if not isinstance(u, dict):
            continue
        staff = _s(u.get("staffId")).strip()
        if staff and _s(u.get("dingtalkId")) != bot and staff not in at_ids:
            at_ids.append(staff)
    expires = data.get("sessionWebhookExpiredTime")
    return Inbound(
        msg_id=msg_id, user_id=user_id, name=_s(data.get("senderNick"))[:80], conversation_id=conversation,
        group=_s(data.get("conversationType")) == "2", text=text[:MAX_TEXT], at_staff_ids=tuple(at_ids),
        session_webhook=_s(data.get("sessionWebhook")) or None,
        session_webhook_expires_ms=int(expires) if isinstance(expires, int | str) and str(expires).isdigit()
        else None,
        is_text=kind in ("text", "richText"),
    )


def strip_bot_mention(text: str) -> str:
    """DingTalk removes the robot's own @ from text.content, leaving a leading space; some clients
    keep it. Drop a leading `@name` when what follows is a command."""
    text = (text or "").strip()
    m = _BARE.match(text)
    if m is None:
        return text
    rest = text[m.end():].strip()
    if not rest:
        return ""
    if router.find(router.split_command(rest)[0]) is not None:
        return rest
    return text


def pair_mentions(text: str, staff_ids: tuple[str, ...]) -> str:
    """Rewrite `@昵称` as `<@staffId|昵称>` when the mentions and atUsers pair up one to one."""
    found = [m for m in _BARE.finditer(text)
             if m.group("name").rstrip(".").casefold() not in SELF_NAMES]
    if not found or len(found) != len(staff_ids) or not all(_ID_OK.fullmatch(s) for s in staff_ids):
        return text
    out: list[str] = []
    pos = 0
    for m, staff in zip(found, staff_ids):
        name = m.group("name").rstrip(".")
        out.append(text[pos:m.start()])
        out.append(f"<@{staff}|{name}>")
        pos = m.start("name") + len(name)
    out.append(text[pos:])
    return "".join(out)


def to_invocation(inb: Inbound, received_at: datetime) -> Invocation:
    text = pair_mentions(strip_bot_mention(inb.text), inb.at_staff_ids)
    command, rest = router.split_command(text) if text else ("teambot", "help")
    return Invocation(actor=Actor(platform=PLATFORM, user_id=inb.user_id, name=inb.name or inb.user_id),
                      channel=inb.conversation_id, command=command or "teambot", text=rest,
                      received_at=received_at, delivery_key=inb.msg_id, direct=not inb.group)


def private_dm_key(msg_id: str) -> str:
    """The outbox dedupe key of the 1:1 message carrying a private reply to message `msg_id`."""
    return f"dingtalk:private:{msg_id}"


def reply_lang(reply: Reply, default: str = "zh") -> str:
    """The language a reply is written in, guessed from its text: mostly CJK -> zh, mostly Latin
    letters -> en (a Chinese team or person name inside an English sentence stays en)."""
    sample = reply.summary or reply.plain()
    cjk, latin = len(_CJK.findall(sample)), len(_LATIN.findall(sample))
    if not cjk and not latin:
        return default if default in PRIVATE_NOTICE else "zh"
    return "zh" if cjk * 2 >= latin else "en"


def private_notice(reply: Reply, user_id: str, default_lang: str = "zh") -> Reply:
    """What the group sees instead of a private reply: `@sender 已私信回复你。`. The mention is part
    of the text, so the notice @s the sender also when it is queued in the outbox."""
    text = f"<@{user_id}> " + PRIVATE_NOTICE[reply_lang(reply, default_lang)]
    return Reply(parts=(Text(text),), private=False, ok=reply.ok, summary=text)


class DingTalkBot:
    """The adapter's core, shared by HTTP and Stream mode. Blocking: call from a worker thread."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock):
        self.dispatcher = dispatcher
        self.clock = clock

    def seen(self, inb: Inbound) -> bool:
        """True when this message id was already acted on (a redelivery)."""
        with self.dispatcher.uow() as uow:
            return uow.session.scalars(select(InboundReceipt.id).where(
                InboundReceipt.platform == PLATFORM, InboundReceipt.key == inb.msg_id)).first() is not None

    def handle(self, inb: Inbound) -> Reply:
        if not inb.is_text:
            return Reply.text(TEXT_ONLY)
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
        now = self.clock.now()
        with self.dispatcher.uow() as uow:
            outbox_store.enqueue(uow.session, platform=PLATFORM, destination=f"user:{inb.user_id}",
                                 payload=reply_to_dict(reply), now=now,
                                 dedupe_key=private_dm_key(inb.msg_id), due_at=now,
                                 expires_at=now + self.dispatcher.windows.reply)
        return private_notice(reply, inb.user_id, getattr(self.dispatcher, "default_lang", "zh"))

    def answer(self, inb: Inbound) -> dict:
        """The rendered answer (HTTP mode sends it as the response body)."""
        reply = self.route(inb, self.handle(inb))
        return render(reply, at_user=inb.user_id if inb.group else None, group=inb.group)
