"""Who is asking, where, and what they typed: the only inputs a command sees besides storage."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from commands.reply import Outgoing
from storage.models import Member, Team


@dataclass(frozen=True)
class Actor:
    platform: str  # "slack", "console", "dingtalk", "wecom"
    user_id: str
    name: str = ""
    #: What the platform says about the person (Slack users.info); used until they choose.
    locale: str | None = None
    tz: str | None = None


@dataclass(frozen=True)
class Invocation:
    actor: Actor
    channel: str
    #: Command name as typed, without the slash: "progress", "进展", "team" ...
    command: str
    text: str
    received_at: datetime
    #: The platform's id for this delivery; a retry carries the same one (Slack trigger_id, event id).
    delivery_key: str | None = None
    #: True when the channel is a direct conversation with the bot.
    direct: bool = False


@dataclass
class Ctx:
    """Everything parse() and run() may consult. parse() uses only lang, tz and now."""
    inv: Invocation
    lang: str
    tz: ZoneInfo
    now: datetime  # aware UTC
    team: Team | None = None
    member: Member | None = None
    #: Messages the command causes besides its reply; written to the outbox in the same transaction.
    outgoing: list[Outgoing] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return self.inv.actor

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    def send(self, msg: Outgoing) -> None:
        self.outgoing.append(msg)
