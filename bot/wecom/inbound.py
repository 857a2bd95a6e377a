"""A decrypted WeCom callback (XML) -> an Invocation for the core; the answer goes out through the
app message API (bot.wecom.sender), never in the callback's response, so WeCom's 5-second deadline is
never at risk.

Messages handled:
  * MsgType text: FromUserName (the member's userid, which members are stored under), Content, MsgId,
    and ChatId when the message comes from a group chat. The delivery key is the MsgId, so a
    redelivered callback never runs twice.
  * MsgType event, Event template_card_event: a click on one of our button cards; EventKey is
    `tb:<typed command>` and runs as that command from FromUserName.
  * Other events (enter_agent, subscribe, ...) are ignored; other message types get a short hint.

Mentions: WeCom has no mention list in callbacks. A bare `@token` that is a userid WeCom knows
(`/cgi-bin/user/get`, cached) is rewritten as `<@userid|name>`, so the core resolves people by id even
before they are members; any other `@name` stays as typed and the core matches it against member
names (commands.core.people.resolve_person).
"""
from __future__ import annotations

import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from bot.kit import inbound as kit
from bot.kit.notices import text_only
from bot.wecom.api import WeComApi
from bot.wecom.render import command_from_key
from bot.wecom.sender import WeComSender
from commands.core.clock import Clock
from commands.core.context import Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, reply_to_dict
from reminders.outbox import SendResult

log = logging.getLogger("teambot.wecom")

PLATFORM = "wecom"
MAX_XML = 256_000
MAX_TEXT = 4000
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class BadXml(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_xml(text: str) -> dict[str, str]:
    """A flat WeCom XML document -> {tag: text}; nested elements as "Parent.Child".
    Refuses DTDs and entity declarations outright (no entity expansion, no billion laughs) and
    anything over MAX_XML characters."""
    if len(text) > MAX_XML:
        raise BadXml("xml too large")
    if _DTD.search(text):
        raise BadXml("DTD or entity declaration")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise BadXml("not well-formed xml") from None
    out: dict[str, str] = {}
    for child in root:
        if len(child):
            for sub in child:
                out[f"{child.tag}.{sub.tag}"] = (sub.text or "").strip()
        else:
            out[child.tag] = child.text or ""
    return out


@dataclass(frozen=True)
class Inbound:
    user_id: str
    text: str
    delivery_key: str
    chat_id: str | None = None
    #: From a button card rather than typed.
    clicked: bool = False
    is_text: bool = True


def to_inbound(msg: dict[str, str]) -> Inbound | None:
    """None for callbacks that need no answer (events other than card clicks)."""
    user = (msg.get("FromUserName") or msg.get("From.UserId") or "").strip()
    kind = (msg.get("MsgType") or "").strip()
    chat = (msg.get("ChatId") or "").strip() or None
    if not user or len(user) > 64 or (chat and len(chat) > 100):
        raise BadXml("missing or oversized FromUserName / ChatId")
    if kind == "event":
        if (msg.get("Event") or "").strip() != "template_card_event":
            return None
        command = command_from_key(msg.get("EventKey"))
        if not command:
            return None
        digest = hashlib.sha256("\n".join((msg.get("TaskId") or "", msg.get("EventKey") or "", user))
                                .encode()).hexdigest()[:40]
        return Inbound(user, command[:MAX_TEXT], f"card:{digest}", chat, clicked=True)
    msg_id = (msg.get("MsgId") or msg.get("MsgID") or "").strip()
    if not msg_id or len(msg_id) > 150:
        raise BadXml("missing MsgId")
    if kind != "text":
        return Inbound(user, "", msg_id, chat, is_text=False)
    content = msg.get("Content") or msg.get("Text.Content") or ""
    return Inbound(user, content[:MAX_TEXT], msg_id, chat)


class WeComBot:
    """Blocking: runs in a worker thread (Starlette's background task after the 200 went out)."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock, api: WeComApi, sender: WeComSender):
        self.dispatcher = dispatcher
        self.clock = clock
        self.api = api
        self.sender = sender

    def seen(self, inb: Inbound) -> bool:
        return self.dispatcher.already_answered(PLATFORM, inb.delivery_key)

    def resolve_mentions(self, text: str) -> str:
        """`@userid` -> `<@userid|name>` for each userid WeCom knows."""
        found = []
        for m in kit.others(text):
            name = kit.mention_name(m)
            known = self.api.user_name(name) if kit.ID_SHAPE.fullmatch(name) else None
            if known is not None:
                found.append((m, f"<@{name}|{known}>"))
        return kit.replace_mentions(text, found)

    def to_invocation(self, inb: Inbound, received_at: datetime) -> Invocation:
        text = kit.strip_bot_mention(inb.text)
        if not inb.clicked:
            text = self.resolve_mentions(text)
        return kit.invocation(platform=PLATFORM, user_id=inb.user_id, name=self.api.user_name(inb.user_id) or "",
                              channel=inb.chat_id or f"dm:{inb.user_id}", text=text, received_at=received_at,
                              delivery_key=inb.delivery_key, direct=inb.chat_id is None)

    def handle(self, inb: Inbound) -> Reply:
        if not inb.is_text:
            return Reply.text(text_only())
        return self.dispatcher.handle(self.to_invocation(inb, self.clock.now()))

    @staticmethod
    def destination(inb: Inbound, reply: Reply) -> str:
        # A private answer to something said in a group goes to the person's chat with the app.
        if inb.chat_id and not reply.private:
            return f"channel:{inb.chat_id}"
        return f"user:{inb.user_id}"

    def process(self, inb: Inbound) -> SendResult | None:
        """Run the command and send the answer. None for a redelivery (already answered)."""
        try:
            if self.seen(inb):
                log.info("WeCom message %s was already handled; not answering twice", inb.delivery_key)
                return None
            reply = self.handle(inb)
            destination = self.destination(inb, reply)
            result = self.sender.send(PLATFORM, destination, reply_to_dict(reply))
            if not result.ok:
                log.warning("reply to %s failed (%s); queued in the outbox", inb.delivery_key, result.error)
                self.dispatcher.queue_reply(reply, platform=PLATFORM, destination=destination,
                                            key=f"wecom-reply:{inb.delivery_key}")
            return result
        except Exception:  # a background task has nobody to tell; log it with the key
            log.exception("WeCom message %s failed", inb.delivery_key)
            return None
