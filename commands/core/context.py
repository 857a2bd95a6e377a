"""Who is asking, where, and what they typed: the only inputs a command sees besides storage."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from commands.core.reply import Outgoing
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


#: A metric as plain columns (what resolving a name and showing a metric need), not an ORM object.
#: team_goal: whether the team has an active team goal of it (a /progress of it may meet one).
MetricRow = namedtuple("MetricRow", "id code name_zh name_en unit aliases team_goal", defaults=(True,))


@dataclass
class Ctx:
    """Everything parse() and run() may consult. parse() uses only lang, tz and now.

    The team and the membership are known by id and role from the dispatcher's one query; the ORM
    objects `team` and `member` are loaded on first use (a progress entry needs only the ids)."""
    inv: Invocation
    lang: str
    tz: ZoneInfo
    now: datetime  # aware UTC
    team_id: int | None = None
    member_id: int | None = None
    #: The member's role as the dispatcher read it (see `role`).
    member_role: str | None = None
    #: The team's metrics (MetricRow, by id), when the dispatcher read them with the context: the
    #: routes that always need them (Route.with_metrics). None when not read.
    metrics: list[MetricRow] | None = None
    #: The team's working-day calendar setting ("CN", "US", "none"); None outside a team.
    calendar_code: str | None = None
    #: The member's display name as stored (what others may type for them without @).
    member_name: str | None = None
    #: Messages the command causes besides its reply; written to the outbox in the same transaction.
    outgoing: list[Outgoing] = field(default_factory=list)
    #: (model, id) -> the ORM object in this unit of work's Session.
    load: Callable[[type, int], object] | None = field(default=None, repr=False, compare=False)
    _team: Team | None = field(default=None, repr=False)
    _member: Member | None = field(default=None, repr=False)

    @property
    def team(self) -> Team | None:
        if self._team is None and self.team_id is not None and self.load is not None:
            self._team = self.load(Team, self.team_id)
        return self._team

    @team.setter
    def team(self, team: Team | None) -> None:
        self._team = team
        self.team_id = team.id if team is not None else None

    @property
    def member(self) -> Member | None:
        if self._member is None and self.member_id is not None and self.load is not None:
            self._member = self.load(Member, self.member_id)
        return self._member

    @member.setter
    def member(self, member: Member | None) -> None:
        self._member = member
        self.member_id = member.id if member is not None else None
        self.member_role = member.role if member is not None else None

    @property
    def role(self) -> str | None:
        """The asker's role in the team ("manager", "rep"...), None when not a member."""
        if self._member is not None:
            return self._member.role
        return self.member_role if self.member_id is not None else None

    @property
    def calendar(self):
        """The team's working-day calendar (commands/core/workdays.py); CN outside a team or for a
        setting the calendar library no longer knows."""
        from commands.core import workdays

        try:
            return workdays.calendar_for(self.calendar_code or "CN")
        except ValueError:
            return workdays.calendar_for("CN")

    @property
    def actor(self) -> Actor:
        return self.inv.actor

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    def send(self, msg: Outgoing) -> None:
        self.outgoing.append(msg)
