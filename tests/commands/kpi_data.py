"""Seeded random progress for KPI, goal, agenda and summary tests, and the independent expectations.

`generate()` writes a team's progress straight into the database (like /progress would) for several
members and metrics and returns the same values as plain Python records. The `expected_*` functions
compute what the features must show using only those records and plain Python -- no SQL, no code
from commands/ or storage/queries.py -- so a test compares two independent computations.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select

from storage.models import Member, Metric, ProgressEntry, ProgressValue, Team

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Metric code -> (aggregation, unit). "pipeline" is added by the tests with /kpi metric add.
AGG = {"sales": ("sum", "CNY"), "customers": ("sum", "count"), "csat": ("average", "%"),
       "event_participants": ("sum", "count"), "visits": ("sum", "count"), "pipeline": ("last", "CNY")}
REPS = ("李雷", "韩梅梅", "alice")


@dataclass(frozen=True)
class Value:
    user: str
    metric: str
    value: float
    at: datetime  # aware UTC
    seq: int  # insertion order (ties on `at` go to the later row)


@dataclass(frozen=True)
class Entry:
    user: str
    at: datetime
    note: str
    blocker: bool


@dataclass
class Data:
    values: list[Value] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


def local(d: date | str, hm: str = "00:00", tz: ZoneInfo = SHANGHAI) -> datetime:
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return datetime.combine(d, time.fromisoformat(hm)).replace(tzinfo=tz).astimezone(UTC)


def generate(session, team: Team, *, start: date, end: datetime, seed: int = 7, users=REPS,
             history: tuple[date, date] | None = None) -> Data:
    """Entries on random days in [start, end) (and sparser ones over `history`, for 同比), each
    with a random subset of metric values. Deals get notes so 'wins' can be checked."""
    rng = random.Random(seed)
    metrics = {m.code: m for m in session.scalars(select(Metric).where(Metric.team_id == team.id))}
    data = Data()
    seq = 0

    def days(a: date, b: date, p: float):
        d = a
        while d < b:
            for u in users:
                if rng.random() < p:
                    yield d, u
            d += timedelta(days=1)

    plan = list(days(history[0], history[1], 0.25)) if history else []
    plan += list(days(start, end.astimezone(SHANGHAI).date() + timedelta(days=1), 0.7))
    for d, u in plan:
        at = local(d, f"{rng.randint(9, 18):02d}:{rng.choice((0, 15, 30, 45)):02d}")
        if at >= end:
            continue
        vals = {}
        if rng.random() < 0.55:
            vals["sales"] = float(rng.randrange(5, 400) * 1000)
        if rng.random() < 0.3:
            vals["customers"] = float(rng.randint(1, 3))
        if rng.random() < 0.25:
            vals["csat"] = float(rng.randint(60, 100))
        if rng.random() < 0.5:
            vals["visits"] = float(rng.randint(1, 6))
        if rng.random() < 0.1:
            vals["event_participants"] = float(rng.randint(5, 80))
        if "pipeline" in metrics and rng.random() < 0.3:
            vals["pipeline"] = float(rng.randrange(100, 3000) * 1000)
        blocker = not vals and rng.random() < 0.5
        note = f"{u} 跟进 {d.isoformat()}" if not blocker else f"{u} 卡在法务 {d.isoformat()}"
        if not vals and not blocker:
            continue
        e = ProgressEntry(team_id=team.id, user_id=u, note=note, is_blocker=blocker, created_at=at)
        session.add(e)
        session.flush()
        data.entries.append(Entry(u, at, note, blocker))
        for code, v in vals.items():
            session.add(ProgressValue(entry_id=e.id, team_id=team.id, metric_id=metrics[code].id, user_id=u,
                                value=v, created_at=at))
            seq += 1
            data.values.append(Value(u, code, v, at, seq))
    session.flush()
    return data


def actual(data: Data, code: str, start: datetime, end: datetime, user: str | None = None) -> float | None:
    """Plain Python: the metric's actual over [start, end) for a person or (None) the team."""
    agg, unit = AGG[code]
    vals = [v for v in data.values if v.metric == code and start <= v.at < end and (user is None or v.user == user)]
    if agg == "sum":
        return float(sum(v.value for v in vals))
    if not vals:
        return None
    if agg == "average":
        return sum(v.value for v in vals) / len(vals)
    latest: dict[str, Value] = {}
    for v in vals:
        cur = latest.get(v.user)
        if cur is None or (v.at, v.seq) > (cur.at, cur.seq):
            latest[v.user] = v
    picked = [v.value for v in latest.values()]
    return sum(picked) / len(picked) if unit == "%" else float(sum(picked))


def workdays(a: date, b: date) -> int:
    """Working days d with a <= d < b, straight from chinese_calendar."""
    n, d = 0, a
    while d < b:
        n += chinese_calendar.is_workday(d)
        d += timedelta(days=1)
    return n


def same_days(period: tuple[datetime, datetime], n: int) -> tuple[datetime, datetime]:
    """The first n working days of a period, for like-for-like comparisons: [start, the midnight after
    the n-th working day) -- the whole period when it has fewer."""
    start, end = period
    d, count = start.astimezone(SHANGHAI).date(), 0
    if n <= 0:
        return start, start
    while local(d) < end:
        count += chinese_calendar.is_workday(d)
        if count == n:
            return start, local(d + timedelta(days=1))
        d += timedelta(days=1)
    return start, end


def month(y: int, m: int) -> tuple[datetime, datetime]:
    start = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return local(start), local(nxt)


def quarter(y: int, q: int) -> tuple[datetime, datetime]:
    start = date(y, 3 * q - 2, 1)
    end = date(y + (q == 4), (3 * q) % 12 + 1, 1)
    return local(start), local(end)


def add_members(session, team: Team, users=REPS) -> None:
    for u in users:
        session.add(Member(team_id=team.id, user_id=u, display_name=u, role="rep", joined_at=team.created_at))
    session.flush()


NOW = local("2026-10-20", "10:00")  # Tuesday


def world(uow, clock, *, seed: int = 7):
    """A team 华东一组 (manager wang; reps 李雷, 韩梅梅, alice) with a `pipeline` metric (latest
    value) added by /kpi metric add, progress from 2026-04-01 to NOW plus sparse 2025 history, set
    up through the real dispatcher. -> (chat, data, team id)."""
    from tests.kit.dialog import Chat

    clock.set(NOW)
    chat = Chat(uow, clock)
    for line in ("/team setup 华东一组", "/team add @李雷 rep", "/team add @韩梅梅 rep", "/team add @alice rep",
                 "/kpi metric add pipeline 管道 Pipeline CNY last 商机"):
        reply = chat.say("wang", line)
        assert reply.ok, reply.plain()
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        data = generate(u.session, team, start=date(2026, 4, 1), end=NOW, seed=seed,
                        history=(date(2025, 4, 1), date(2025, 12, 31)))
        team_id = team.id
    return chat, data, team_id


def table_after(reply, heading: str | None = None):
    """The first Table part of a reply (after the Text part containing `heading`, when given)."""
    from commands.core.reply import Table, Text

    seen = heading is None
    for p in reply.parts:
        if isinstance(p, Text) and heading is not None and heading in p.text:
            seen = True
        elif isinstance(p, Table) and seen:
            return p
    raise AssertionError(f"no table after {heading!r} in:\n{reply.plain()}")


def rows_by_first(table) -> dict[str, tuple[str, ...]]:
    return {r[0]: r for r in table.rows}
