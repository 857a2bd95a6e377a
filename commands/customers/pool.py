"""The pool (公海) rules as pure functions of a customer, its team's settings and the calendar, so the
list command, the warning job and the release job agree on one answer.

    return_on(active_at, team, tz)         local date the customer goes back to the pool
    warn_on(active_at, team, tz, cal)      warn_days working days before that
    stale_cutoff(team, now, tz, cal)       customers with active_at < this are "about to return" (or due)
    release_cutoff(team, now)              customers with active_at < this are due to return now
    reclaim_until(customer, team)          the last owner may claim it back from then on
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from commands.customers.stages import CLOSED


def may_return(stage: str, owner_id: str | None) -> bool:
    """Won and lost customers never go to the pool; pool customers are there already."""
    return owner_id is not None and stage not in CLOSED


def return_on(active_at: datetime, team, tz: ZoneInfo) -> date:
    return active_at.astimezone(tz).date() + timedelta(days=team.pool_days)


def warn_on(active_at: datetime, team, tz: ZoneInfo, cal) -> date:
    d = return_on(active_at, team, tz)
    for _ in range(max(0, team.warn_days)):
        d = cal.previous_workday(d)
    return d


def _local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(timezone.utc)


def stale_cutoff(team, now: datetime, tz: ZoneInfo, cal) -> datetime:
    """active_at before this: the customer returns to the pool within warn_days working days."""
    last = now.astimezone(tz).date()
    for _ in range(max(0, team.warn_days)):
        last = cal.next_workday(last + timedelta(days=1))
    return _local_midnight(last - timedelta(days=team.pool_days) + timedelta(days=1), tz)


def release_cutoff(team, now: datetime, tz: ZoneInfo) -> datetime:
    """active_at before this: the customer's return day has come."""
    return _local_midnight(now.astimezone(tz).date() - timedelta(days=team.pool_days) + timedelta(days=1), tz)


def reclaim_until(released_at: datetime | None, team) -> datetime | None:
    return released_at + timedelta(days=team.reclaim_days) if released_at is not None else None
