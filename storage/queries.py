"""Aggregate queries shared by /kpi, /goal, /agenda, the exports and the scheduled summaries.

Every number is computed by the database (GROUP BY over an indexed time range of `progress_value`);
Python only receives one row per (metric) or per (person, metric), never a period's raw values.

Aggregations (Metric.aggregation):
- ``sum``:     SUM(value) over the period;
- ``average``: AVG(value) over the period (each logged value weighs the same);
- ``last``:    each person's latest value in the period (ties on time: the later row). For a person
  that is the actual; for the team it is the SUM of the members' latest values, or their AVG when
  the unit is "%" (a team's satisfaction is not the sum of its members').

A metric with no values in the period has no entry in the result (callers show "—", or 0 for a sum).

The covering index ``ix_value_team_time_cover`` (team_id, created_at, metric_id, user_id, value)
lets every query here run as an index-only range scan of the team's period on SQLite and
PostgreSQL, a person's too (their rows are picked out of the team's in the index).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlmodel import Session

from storage.customer_queries import COMPUTED, record_actuals, record_actuals_by_user
from storage.models import Goal, Metric, ProgressEntry, ProgressValue

SUM, AVERAGE, LAST = "sum", "average", "last"


@dataclass(frozen=True)
class Deal:
    """One big progress value, for 'wins worth sharing'."""
    user_id: str
    metric_id: int
    value: float
    note: str
    created_at: datetime
    entry_id: int


@dataclass(frozen=True)
class Activity:
    """What one person logged in a range: entries and blockers."""
    user_id: str
    entries: int
    blockers: int


def _by_agg(metrics: Iterable[Metric]) -> tuple[list[int], list[int], dict[int, Metric]]:
    """-> (ids of sum/average metrics, ids of last metrics, id -> metric); the metrics computed from
    the customer records (storage/customer_queries.py) are in neither list."""
    by_id = {m.id: m for m in metrics if m.code not in COMPUTED}
    plain = [i for i, m in by_id.items() if m.aggregation != LAST]
    last = [i for i, m in by_id.items() if m.aggregation == LAST]
    return plain, last, by_id


def _range(start: datetime, end: datetime):
    return and_(ProgressValue.created_at >= start, ProgressValue.created_at < end)


def _latest_per_user(team_id: int, metric_ids: Sequence[int], start: datetime, end: datetime,
                     user_id: str | None):
    """Subquery: (metric_id, user_id, value) of each person's latest value per metric in the range."""
    rn = func.row_number().over(partition_by=(ProgressValue.metric_id, ProgressValue.user_id),
                                order_by=(ProgressValue.created_at.desc(), ProgressValue.id.desc()))
    q = (select(ProgressValue.metric_id, ProgressValue.user_id, ProgressValue.value, rn.label("rn"))
         .where(ProgressValue.team_id == team_id, ProgressValue.metric_id.in_(metric_ids),
                _range(start, end)))
    if user_id is not None:
        q = q.where(ProgressValue.user_id == user_id)
    return q.subquery()


def _computed(session: Session, team_id: int, metrics: list[Metric], start: datetime, end: datetime,
              user_id: str | None) -> dict[int, float]:
    ids = {m.code: m.id for m in metrics if m.code in COMPUTED}
    if not ids:
        return {}
    values = record_actuals(session, team_id, list(ids), start, end, user_id=user_id)
    return {ids[code]: v for code, v in values.items()}


def actuals(session: Session, team_id: int, metrics: Iterable[Metric], start: datetime, end: datetime, *,
            user_id: str | None = None) -> dict[int, float]:
    """metric id -> the team's (or one person's) actual in [start, end)."""
    metrics = list(metrics)
    plain, last, by_id = _by_agg(metrics)
    out: dict[int, float] = _computed(session, team_id, metrics, start, end, user_id)
    if plain:
        q = (select(ProgressValue.metric_id, func.sum(ProgressValue.value), func.avg(ProgressValue.value))
             .where(ProgressValue.team_id == team_id, ProgressValue.metric_id.in_(plain), _range(start, end)))
        if user_id is not None:
            q = q.where(ProgressValue.user_id == user_id)
        for metric_id, total, avg in session.execute(q.group_by(ProgressValue.metric_id)):
            out[metric_id] = float(avg if by_id[metric_id].aggregation == AVERAGE else total)
    if last:
        sub = _latest_per_user(team_id, last, start, end, user_id)
        q = (select(sub.c.metric_id, func.sum(sub.c.value), func.avg(sub.c.value))
             .where(sub.c.rn == 1).group_by(sub.c.metric_id))
        for metric_id, total, avg in session.execute(q):
            out[metric_id] = float(avg if by_id[metric_id].unit == "%" else total)
    return out


def actuals_by_user(session: Session, team_id: int, metrics: Iterable[Metric], start: datetime,
                    end: datetime) -> dict[str, dict[int, float]]:
    """user id -> metric id -> that person's actual in [start, end)."""
    metrics = list(metrics)
    plain, last, by_id = _by_agg(metrics)
    out: dict[str, dict[int, float]] = {}
    computed = {m.code: m.id for m in metrics if m.code in COMPUTED}
    for user, values in record_actuals_by_user(session, team_id, list(computed), start, end).items():
        out[user] = {computed[code]: v for code, v in values.items()}
    if plain:
        # The range scan sits in a subquery that OFFSET 0 keeps from being flattened, so SQLite's
        # planner never trades it for an index whose order matches the GROUP BY (one such index
        # made it read every row the team ever logged; test_queries checks the plan).
        rng = (select(ProgressValue.user_id, ProgressValue.metric_id, ProgressValue.value)
               .where(ProgressValue.team_id == team_id, ProgressValue.metric_id.in_(plain), _range(start, end))
               .offset(0).subquery())
        q = (select(rng.c.user_id, rng.c.metric_id, func.sum(rng.c.value), func.avg(rng.c.value))
             .group_by(rng.c.metric_id, rng.c.user_id))
        for user, metric_id, total, avg in session.execute(q):
            value = avg if by_id[metric_id].aggregation == AVERAGE else total
            out.setdefault(user, {})[metric_id] = float(value)
    if last:
        sub = _latest_per_user(team_id, last, start, end, None)
        for metric_id, user, value, _rn in session.execute(select(sub).where(sub.c.rn == 1)):
            out.setdefault(user, {})[metric_id] = float(value)
    return out


def actuals_for_periods(session: Session, team_id: int, metrics: Sequence[Metric],
                        ranges: Sequence[tuple[datetime, datetime]], *, user_id: str | None = None
                        ) -> list[dict[int, float]]:
    """actuals() for several ranges (previous periods, the same period last year, ...), in order."""
    return [actuals(session, team_id, metrics, a, b, user_id=user_id) for a, b in ranges]


def biggest(session: Session, team_id: int, metric_id: int, start: datetime, end: datetime, *,
            limit: int = 3) -> list[Deal]:
    """The largest single values of a metric in the range, with their notes (wins worth sharing)."""
    q = (select(ProgressValue.user_id, ProgressValue.metric_id, ProgressValue.value, ProgressEntry.note,
                ProgressValue.created_at, ProgressValue.entry_id)
         .join(ProgressEntry, ProgressEntry.id == ProgressValue.entry_id)
         .where(ProgressValue.team_id == team_id, ProgressValue.metric_id == metric_id, _range(start, end),
                ProgressValue.value > 0)
         .order_by(ProgressValue.value.desc(), ProgressValue.created_at, ProgressValue.id)
         .limit(limit))
    return [Deal(u, m, float(v), n, at, e) for u, m, v, n, at, e in session.execute(q)]


def activity(session: Session, team_id: int, start: datetime, end: datetime) -> dict[str, Activity]:
    """user id -> number of progress entries and blockers they logged in [start, end)."""
    blocker = func.sum(cast(ProgressEntry.is_blocker, Integer))
    q = (select(ProgressEntry.user_id, func.count(), blocker)
         .where(ProgressEntry.team_id == team_id, ProgressEntry.created_at >= start,
                ProgressEntry.created_at < end)
         .group_by(ProgressEntry.user_id))
    return {u: Activity(u, int(n), int(b or 0)) for u, n, b in session.execute(q)}


def blockers(session: Session, team_id: int, start: datetime, end: datetime, *, limit: int = 10
             ) -> list[ProgressEntry]:
    """The blockers raised in [start, end), newest first (at most `limit`)."""
    q = (select(ProgressEntry)
         .where(ProgressEntry.team_id == team_id, ProgressEntry.is_blocker.is_(True),
                ProgressEntry.created_at >= start, ProgressEntry.created_at < end)
         .order_by(ProgressEntry.created_at.desc(), ProgressEntry.id.desc())
         .limit(limit))
    return list(session.scalars(q))


def team_goal_of(metric=Metric):
    """A column for a metric query: whether the team has an active team goal of that metric (a
    correlated EXISTS on the goal index, so /progress learns it in the query it makes anyway)."""
    found = select(Goal.id).where(Goal.team_id == metric.team_id, Goal.metric_id == metric.id,
                                  Goal.user_id.is_(None), Goal.status == "active").exists()
    # 1/0 rather than a boolean: plain integers come out of the prebuilt statements as they are.
    return case((found, 1), else_=0).label("team_goal")
