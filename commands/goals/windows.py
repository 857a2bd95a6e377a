"""Windows: the period a goal is measured over, and the targets that apply to one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from commands.core import fmt, parsing
from commands.goals.parse import CALENDAR_KINDS
from commands.i18n import t
from storage.models import Goal


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    kind: str  # week | month | quarter | year | deadline

    def period(self) -> parsing.Period:
        return parsing.Period(self.start, self.end, self.kind, "")


def window(goal: Goal, at: datetime, tz) -> Window:
    """The period `goal` is measured over at time `at` (its current one when recurring)."""
    if goal.recurring:
        p = parsing.period_of(goal.kind, at, tz)
        return Window(p.start, p.end, p.kind)
    return Window(goal.period_start.astimezone(tz), goal.period_end.astimezone(tz), goal.kind)


def previous_windows(w: Window, tz, n: int) -> list[Window]:
    """The n windows just before w: previous calendar periods, or equally long spans for a deadline."""
    out: list[Window] = []
    if w.kind in CALENDAR_KINDS:
        p = parsing.Period(w.start, w.end, w.kind, "")
        for _ in range(n):
            p = parsing.previous(p, tz)
            out.append(Window(p.start, p.end, p.kind))
        return out
    length = (w.end.date() - w.start.date()).days
    end = w.start.date()
    for _ in range(n):
        start = end - timedelta(days=length)
        out.append(Window(datetime.combine(start, time(0), tz), datetime.combine(end, time(0), tz), w.kind))
        end = start
    return out


def label(goal: Goal, tz, lang: str) -> str:
    if goal.recurring:
        return t(lang, f"goals.every_{goal.kind}")
    if goal.kind == "deadline":
        last = (goal.period_end.astimezone(tz) - timedelta(days=1)).date()
        return t(lang, "goals.by_day", day=fmt.day(last, lang))
    w = window(goal, goal.period_start, tz)
    return fmt.period_label(parsing.Period(w.start, w.end, w.kind, ""), lang)


def targets_for(session, team_id: int, user_id: str | None, period: parsing.Period) -> dict[int, Goal]:
    """metric id -> goal, for every metric with a target for that scope and period."""
    if period.kind not in CALENDAR_KINDS:
        return {}
    q = select(Goal).where(Goal.team_id == team_id, Goal.kind == period.kind, Goal.status == "active",
                           Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id)
    out: dict[int, Goal] = {}
    for g in sorted(session.scalars(q), key=lambda g: (not g.recurring, g.id)):
        if g.recurring and g.created_at < period.end:
            out[g.metric_id] = g
        elif not g.recurring and g.period_start == period.start:
            out[g.metric_id] = g  # an exact goal wins over a recurring one
    return out


def user_targets(session, team_id: int, period: parsing.Period) -> dict[tuple[str, int], float]:
    """(user id, metric id) -> target, for every member with a goal in that calendar period."""
    if period.kind not in CALENDAR_KINDS:
        return {}
    q = select(Goal).where(Goal.team_id == team_id, Goal.kind == period.kind, Goal.status == "active",
                           Goal.user_id.is_not(None))
    out: dict[tuple[str, int], float] = {}
    for g in sorted(session.scalars(q), key=lambda g: (not g.recurring, g.id)):
        if (g.recurring and g.created_at < period.end) or (not g.recurring and g.period_start == period.start):
            out[(g.user_id, g.metric_id)] = g.target
    return out
