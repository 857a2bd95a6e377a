"""The numbers of /kpi: per metric actual, target, attainment, 环比, 同比 and the pace still needed."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from commands import activities, goals
from commands.core import fmt, parsing, workdays
from commands.core.metrics import metric_name, shown_metrics
from commands.core.reply import Table
from commands.i18n import t
from storage import queries
from storage.models import Member, Metric, Team

# -- computing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """How a period in progress is compared (like for like): its first `elapsed` working days, up to
    now, against the first `elapsed` working days of the previous period and of the same period a
    year before (the team's calendar)."""
    elapsed: int
    #: Working days in the whole period (for the forecast at the current pace).
    total: int
    previous: tuple[datetime, datetime]
    last_year: tuple[datetime, datetime]


@dataclass(frozen=True)
class KpiRow:
    metric: Metric
    actual: float | None
    target: float | None
    attainment: float | None
    previous: float | None
    #: 环比: % change; for a % metric, the change in percentage points.
    change: float | None
    last_year: float | None
    #: 同比, like `change`.
    yoy: float | None
    #: Per working day still needed to reach the target (sum metrics with a target, period not over).
    pace: float | None
    remaining: int
    #: Still to go to the target (sum metrics with a target), 0 once reached.
    gap: float | None = None
    #: The whole period's value at the current pace (sum metrics, period in progress).
    forecast: float | None = None
    #: Set when the period is in progress and compared like for like.
    comparison: Comparison | None = None
    #: The period is over.
    over: bool = False
    #: Said after the metric's name when it is not compared with the previous period (活动参与人数:
    #: with the previous activity).
    basis: str = ""


def change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / abs(before)


def _change(m: Metric, now: float | None, before: float | None) -> float | None:
    """% change, or for a percentage metric the difference in percentage points."""
    if m.unit == "%":
        return None if now is None or before is None else now - before
    return change(now, before)


def remaining_workdays(team: Team, period: parsing.Period, now: datetime, tz) -> int:
    """Working days left in the period, today included (0 once it is over)."""
    today = now.astimezone(tz).date()
    start = max(today, period.start.astimezone(tz).date())
    return workdays.calendar_for(team.calendar).workdays(start, period.end.astimezone(tz).date())


def _whole(period: parsing.Period, tz) -> parsing.Period:
    """The calendar period `period` is (or is the start of: a summary caps it at its fire time)."""
    if period.kind not in goals.CALENDAR_KINDS:
        return period
    return parsing.period_of(period.kind, period.start.astimezone(tz).date(), tz)


def _nth_workday_end(p: parsing.Period, n: int, cal, tz) -> datetime:
    """The end of the n-th working day of p (midnight after it); p's start when n is 0; p's end when p
    has fewer working days."""
    if n <= 0:
        return p.start
    d, end, count = p.start.astimezone(tz).date(), p.end.astimezone(tz).date(), 0
    while d < end:
        if cal.is_workday(d):
            count += 1
            if count == n:
                return datetime.combine(d + timedelta(days=1), time(0), tz)
        d += timedelta(days=1)
    return p.end


def comparison(team: Team, period: parsing.Period, now: datetime, tz) -> Comparison | None:
    """Like-for-like ranges for a calendar period in progress at `now`; None for one that is over (or
    not a calendar period), which is compared whole."""
    whole = _whole(period, tz)
    if whole.kind not in goals.CALENDAR_KINDS or not whole.start <= now < whole.end:
        return None
    cal = workdays.calendar_for(team.calendar)
    first, today = whole.start.astimezone(tz).date(), now.astimezone(tz).date()
    elapsed = cal.workdays(first, today + timedelta(days=1))
    total = cal.workdays(first, whole.end.astimezone(tz).date())
    prev, ly = parsing.previous(whole, tz), goals.shift_year(whole, tz)
    return Comparison(elapsed, total, (prev.start, _nth_workday_end(prev, elapsed, cal, tz)),
                      (ly.start, _nth_workday_end(ly, elapsed, cal, tz)))


def _fill(m: Metric, v: float | None) -> float | None:
    """Nothing logged is 0 for a summed metric, and unknown ("—") for an average or a latest value."""
    return (v or 0.0) if m.aggregation == queries.SUM else v


def kpi_rows(session, team: Team, user_id: str | None, period: parsing.Period, now: datetime, tz,
             metrics: list[Metric] | None = None) -> list[KpiRow]:
    metrics = metrics if metrics is not None else shown_metrics(session, team.id)
    cmp = comparison(team, period, now, tz)
    if cmp is not None:
        ranges = [(period.start, period.end), cmp.previous, cmp.last_year]
    else:
        prev, ly = parsing.previous(period, tz), goals.shift_year(period, tz)
        ranges = [(period.start, period.end), (prev.start, prev.end), (ly.start, ly.end)]
    cur, before, year_ago = queries.actuals_for_periods(session, team.id, metrics, ranges, user_id=user_id)
    targets = goals.targets_for(session, team.id, user_id, period)
    remaining = remaining_workdays(team, period, now, tz)
    over = _whole(period, tz).end <= now
    rows = []
    for m in metrics:
        actual = _fill(m, cur.get(m.id))
        previous = _fill(m, before.get(m.id))
        last_year = _fill(m, year_ago.get(m.id))
        goal = targets.get(m.id)
        target = goal.target if goal else None
        pace = gap = forecast = None
        summed = m.aggregation == queries.SUM
        if summed and target is not None:
            gap = max(0.0, target - (actual or 0.0))
            if remaining > 0:
                pace = gap / remaining
        if summed and cmp is not None and cmp.elapsed > 0:
            forecast = (actual or 0.0) / cmp.elapsed * cmp.total
        rows.append(KpiRow(m, actual, target, goals.attainment(actual, target), previous,
                           _change(m, actual, previous), last_year, _change(m, actual, last_year), pace, remaining,
                           gap=gap, forecast=forecast, comparison=cmp, over=over))
    if user_id is None:
        rows = [_by_activity(session, team, period, tz, r) if r.metric.code == activities.METRIC else r for r in rows]
    return rows


def _by_activity(session, team: Team, period: parsing.Period, tz, row: KpiRow) -> KpiRow:
    """活动参与人数 is compared with the previous activity, not the previous period (以上次活动参与人数为
    基准): the period's latest activity with a result, against the one before it; a relative goal's
    target is that activity's base raised by the goal's percentage."""
    found = activities.latest_result(session, team.id, period.start.astimezone(tz).date(),
                                     period.end.astimezone(tz).date())
    if found is None:
        return row
    a, prev = found.activity, found.previous
    goal = goals.targets_for(session, team.id, None, period).get(row.metric.id)
    target = found.target if goal is not None and goal.basis == "relative" else row.target
    actual = float(a.participants)
    previous = float(prev.participants) if prev is not None else None
    return KpiRow(row.metric, actual, target, goals.attainment(actual, target), previous, change(actual, previous),
                  None, None, None, row.remaining, comparison=row.comparison, over=row.over,
                  basis=f"#{a.id} {a.name}")


def _needed(r: KpiRow, lang: str) -> str:
    """'还差 2 个，剩 15 个工作日' / '2 to go, 15 working days left'; money with the daily pace."""
    if r.gap is None or r.over:
        return "—"
    if r.gap <= 0:
        return t(lang, "kpi.needed_reached")
    unit = r.metric.unit
    gap = fmt.plan_amount(r.gap, unit, lang)
    if unit == "count":
        gap = t(lang, "kpi.count", n=gap)
    if r.remaining <= 0:
        return t(lang, "kpi.needed_no_days", gap=gap)
    text = t(lang, "kpi.needed", gap=gap, days=r.remaining)
    per_day = r.gap / r.remaining
    if unit != "count" or per_day >= 1:
        shown = (t(lang, "kpi.count", n=fmt.number(math.ceil(per_day))) if unit == "count"
                 else fmt.plan_amount(per_day, unit, lang))
        text += t(lang, "kpi.needed_per_day", pace=shown)
    return text


def previous_header(kind: str, like_for_like: bool, lang: str) -> str:
    """'上月同期' / 'Same days last month' in progress, '上月' / 'Last month' once over."""
    if kind not in goals.CALENDAR_KINDS:
        return t(lang, "kpi.col_previous")
    return t(lang, f"kpi.col_previous_{'same_' if like_for_like else ''}{kind}")


def kpi_table(rows: list[KpiRow], lang: str, kind: str = "") -> Table:
    def a(m: Metric, v: float | None) -> str:
        return "—" if v is None else fmt.amount(v, m.unit, lang)

    def signed(m: Metric, x: float | None) -> str:
        if x is None:
            return "—"
        if m.unit == "%":
            return fmt.points(x, lang)
        return ("+" if x > 0 else "") + goals.pct(x)

    cmp = rows[0].comparison if rows else None
    cols = ["metric", "actual", "target", "attainment", "previous", "change", "last_year", "yoy"]
    if cmp is not None:
        cols.append("forecast")
    cols.append("needed")
    header = tuple(previous_header(kind, cmp is not None, lang) if c == "previous" else t(lang, f"kpi.col_{c}")
                   for c in cols)
    body = []
    for r in rows:
        m = r.metric
        name = metric_name(m, lang) + (t(lang, "activities.kpi_basis", name=r.basis) if r.basis else "")
        row = [name, a(m, r.actual), a(m, r.target), goals.pct(r.attainment), a(m, r.previous),
               signed(m, r.change), a(m, r.last_year), signed(m, r.yoy)]
        if cmp is not None:
            row.append("—" if r.forecast is None else fmt.plan_amount(r.forecast, m.unit, lang))
        row.append(_needed(r, lang))
        body.append(tuple(row))
    return Table(header, tuple(body))


def members(session, team_id: int) -> list[Member]:
    rows = list(session.scalars(select(Member).where(Member.team_id == team_id)))
    rows.sort(key=lambda m: (m.joined_at, m.user_id))
    return rows


def primary_metric(metrics: list[Metric]) -> Metric | None:
    """The metric a leaderboard ranks by: sales, else the first summed metric, else the first."""
    for m in metrics:
        if m.code == "sales":
            return m
    return next((m for m in metrics if m.aggregation == queries.SUM), metrics[0] if metrics else None)
