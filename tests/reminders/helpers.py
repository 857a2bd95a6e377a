"""Small builders for reminder tests: teams, members, tasks, preferences, progress."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from storage.models import FireLedger, Member, OutboxMessage, ProgressEntry, Task, Team, UserPref

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def local(d: date | str, hm: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """Aware UTC for a local date and HH:MM."""
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return datetime.combine(d, time.fromisoformat(hm)).replace(tzinfo=tz).astimezone(UTC)


def add_team(session: Session, *, channel: str = "C1", name: str = "华东销售", tz: str = "Asia/Shanghai",
             calendar: str = "CN", lang: str = "zh", platform: str = "slack",
             created_at: datetime = EPOCH) -> Team:
    team = Team(platform=platform, channel_id=channel, name=name, tz=tz, calendar=calendar, lang=lang,
                created_by="UMGR", created_at=created_at)
    session.add(team)
    session.flush()
    return team


def add_member(session: Session, team: Team, user: str, role: str = "rep", name: str = "") -> Member:
    m = Member(team_id=team.id, user_id=user, display_name=name or user, role=role, joined_at=EPOCH)
    session.add(m)
    session.flush()
    return m


def add_task(session: Session, team: Team, assignee: str, title: str, due_at: datetime, *, status: str = "open",
             note: str = "", snoozed_until: datetime | None = None) -> Task:
    task = Task(team_id=team.id, assignee=assignee, created_by="UMGR", title=title, note=note, due_at=due_at,
                status=status, snoozed_until=snoozed_until, created_at=EPOCH, updated_at=EPOCH)
    session.add(task)
    session.flush()
    return task


def set_pref(session: Session, user: str, *, platform: str = "slack", lang: str | None = None,
             tz: str | None = None, away_until: datetime | None = None) -> UserPref:
    p = UserPref(platform=platform, user_id=user, lang=lang, tz=tz, away_until=away_until, updated_at=EPOCH)
    session.add(p)
    session.flush()
    return p


def add_progress(session: Session, team: Team, user: str, at: datetime, note: str = "拜访客户") -> ProgressEntry:
    e = ProgressEntry(team_id=team.id, user_id=user, note=note, created_at=at)
    session.add(e)
    session.flush()
    return e


def outbox_rows(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def ledger_rows(session: Session) -> list[FireLedger]:
    return list(session.scalars(select(FireLedger).order_by(FireLedger.occurrence, FireLedger.id)))


def summary(m: OutboxMessage) -> str:
    return json.loads(m.payload)["summary"]


def every(start: datetime, end: datetime, step: timedelta):
    t = start
    while t <= end:
        yield t
        t += step
