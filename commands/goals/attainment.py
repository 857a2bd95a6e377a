"""Numbers shared with /kpi, the agenda and the summaries: attainment, pace and a goal's progress."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.core import fmt, workdays
from commands.goals.windows import Window, window
from storage import queries
from storage.models import Goal, Metric, Team


def pct(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{fmt.number(round(x, 1))}%"


def attainment(actual: float | None, target: float | None) -> float | None:
    if actual is None or target is None or target <= 0:
        return None
    return 100.0 * actual / target


def upto(now: datetime) -> datetime:
    """The exclusive end of "everything until now", now included (a value logged this very instant counts)."""
    return now + timedelta(microseconds=1)


@dataclass(frozen=True)
class Progress:
    """How far a goal is, measured in working days of the team's calendar."""
    actual: float | None
    target: float
    attainment: float | None
    #: Where a straight line from 0 to the target would be by today (sum metrics; else the target).
    expected: float
    forecast: float | None
    elapsed: int
    total: int


def progress_of(session, goal: Goal, metric: Metric, team: Team, now: datetime, tz) -> tuple[Window, Progress]:
    w = window(goal, now, tz)
    # Never past `now`: a late (catch-up) scheduled run counts what the on-time run would have.
    actual = queries.actuals(session, team.id, [metric], w.start, min(w.end, upto(now)),
                             user_id=goal.user_id).get(metric.id)
    if metric.aggregation == queries.SUM:
        actual = actual or 0.0
    cal = workdays.calendar_for(team.calendar)
    start_d, end_d = w.start.date(), w.end.date()
    today = now.astimezone(tz).date()
    total = cal.workdays(start_d, end_d)
    elapsed = cal.workdays(start_d, min(today + timedelta(days=1), end_d))
    if metric.aggregation == queries.SUM:
        expected = goal.target * (elapsed / total) if total else goal.target
        forecast = (actual or 0.0) * total / elapsed if elapsed else actual
    else:
        expected, forecast = goal.target, actual
    return w, Progress(actual, goal.target, attainment(actual, goal.target), expected, forecast, elapsed, total)
