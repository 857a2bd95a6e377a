"""The monthly goal review (scheduled): goals that ended, and a suggestion for the next period."""
from __future__ import annotations

import math
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from commands.core import fmt, parsing
from commands.core.metrics import metric_name, team_metrics
from commands.core.reply import Reply, Table, Text
from commands.goals.attainment import attainment, pct
from commands.goals.run import _who
from commands.goals.windows import Window, label
from commands.i18n import t
from storage import queries
from storage.models import Goal, Metric, Team


def nice(value: float) -> float:
    """A round number near value (two significant digits): 1,234,567 -> 1,200,000; 87 -> 87."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    digits = math.floor(math.log10(value)) - 1
    step = 10 ** max(digits, 0)
    return float(round(value / step) * step)


def suggestion(actual: float, target: float) -> tuple[str, float | None]:
    """What to do with a recurring or follow-up target after a period: ("raise"|"lower"|"keep", new)."""
    att = 100.0 * actual / target if target > 0 else 0.0
    if att >= 120:
        return "raise", nice(actual * 1.05)
    if att < 70:
        return "lower", nice((actual + target) / 2)
    return "keep", None


def ended_goals(session, team_id: int, month: parsing.Period, tz) -> list[tuple[Goal, Window]]:
    """Goals whose measured window ended within `month` (a calendar month), with that window:
    calendar goals and deadlines that ended then, and recurring goals whose month (or quarter or
    year, when it ended with this month) is over. Weekly recurring goals are reviewed weekly, not here."""
    out: list[tuple[Goal, Window]] = []
    q = select(Goal).where(Goal.team_id == team_id, Goal.status == "active")
    for g in session.scalars(q.order_by(Goal.id)):
        if g.recurring:
            if g.kind == "week":
                continue
            p = parsing.period_of(g.kind, month.start, tz)
            if p.end == month.end and g.created_at < p.end:
                out.append((g, Window(p.start, p.end, p.kind)))
        elif month.start < g.period_end <= month.end:
            out.append((g, Window(g.period_start.astimezone(tz), g.period_end.astimezone(tz), g.kind)))
    out.sort(key=lambda x: (x[0].user_id is not None, x[0].user_id or "", x[0].metric_id, x[0].id))
    return out


def month_review(session, team: Team, month: parsing.Period, tz, lang: str) -> Reply | None:
    """Last month's goals met or missed, with suggested adjustments (goal review, first working day)."""
    goals = ended_goals(session, team.id, month, tz)
    if not goals:
        return None
    metrics = {m.id: m for m in team_metrics(session, team.id)}
    rows = []
    met = 0
    suggestions = []
    for g, w in goals:
        m = metrics[g.metric_id]
        actual = queries.actuals(session, team.id, [m], w.start, w.end, user_id=g.user_id).get(m.id) or 0.0
        ok = actual >= g.target
        met += ok
        action, new = suggestion(actual, g.target)
        def a(v: float, m: Metric = m) -> str:
            return fmt.amount(v, m.unit, lang)

        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), label(g, tz, lang), a(g.target), a(actual),
                     pct(attainment(actual, g.target)),
                     t(lang, "goals.met") if ok else t(lang, "goals.missed")))
        if action != "keep":
            suggestions.append(t(lang, f"goals.suggest_{action}", id=g.id, who=_who(g, lang),
                                 metric=metric_name(m, lang), new=a(new),
                                 command=f"/goal adjust {g.id} {fmt.number(new).replace(',', '')} because …"))
    title = t(lang, "goals.month_review_title", team=team.name, period=fmt.period_label(month, lang),
              met=met, total=len(goals))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "period", "target", "actual",
                                                        "attainment", "result"))
    parts: list = [Text(title), Table(header, tuple(rows))]
    parts.append(Text(t(lang, "goals.suggestions_title") + "\n" + "\n".join(suggestions)) if suggestions
                 else Text(t(lang, "goals.suggestions_none")))
    return Reply(parts=tuple(parts), private=False, summary=title)


def shift_year(p: parsing.Period, tz) -> parsing.Period:
    """The same period one year earlier (weeks: 52 weeks earlier, the same ISO week)."""
    d = p.start.date()
    d = d - timedelta(weeks=52) if p.kind == "week" else d - relativedelta(years=1)
    return parsing.period_of(p.kind, d, tz)
