"""The quarterly goal review (季度目标回顾), posted on the first working day of a quarter: last quarter's
goals met or missed, and how each annual goal stands after it, with a suggested adjustment."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from commands import goals
from commands.core import fmt, parsing
from commands.core.metrics import metric_name, team_metrics
from commands.core.reply import Reply, Table, Text
from commands.goals.run import _who
from commands.i18n import t
from storage import queries
from storage.models import Goal, Metric, Team


def annual_goals(session, team_id: int, quarter: parsing.Period) -> list[Goal]:
    """Active year goals whose year holds the quarter (recurring yearly ones included)."""
    q = select(Goal).where(Goal.team_id == team_id, Goal.status == "active", Goal.kind == "year")
    out = [g for g in session.scalars(q.order_by(Goal.id))
           if g.recurring or (g.period_start is not None and g.period_start < quarter.end <= g.period_end)]
    out.sort(key=lambda g: (g.user_id is not None, g.user_id or "", g.metric_id, g.id))
    return out


def _ended(session, team: Team, quarter: parsing.Period, tz, lang: str, metrics: dict[int, Metric]):
    rows, met = [], 0
    for g, w in goals.ended_goals(session, team.id, quarter, tz):
        if g.kind == "year":
            continue  # shown with the annual goals
        m = metrics[g.metric_id]
        actual = queries.actuals(session, team.id, [m], w.start, w.end, user_id=g.user_id).get(m.id) or 0.0
        ok = actual >= g.target
        met += ok
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), goals.label(g, tz, lang),
                     fmt.amount(g.target, m.unit, lang), fmt.amount(actual, m.unit, lang),
                     goals.pct(goals.attainment(actual, g.target)),
                     t(lang, "goals.met") if ok else t(lang, "goals.missed")))
    return rows, met


def _annual(session, team: Team, quarter: parsing.Period, tz, lang: str, metrics: dict[int, Metric]):
    at = quarter.end - timedelta(microseconds=1)
    rows, suggestions = [], []
    for g in annual_goals(session, team.id, quarter):
        m = metrics[g.metric_id]
        _w, p = goals.progress_of(session, g, m, team, at, tz)
        actual = p.actual or 0.0
        outlook = p.forecast if p.forecast is not None else actual
        action, new = goals.suggestion(outlook, g.target)
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), fmt.amount(g.target, m.unit, lang),
                     fmt.amount(actual, m.unit, lang), goals.pct(goals.attainment(actual, g.target)),
                     fmt.plan_amount(p.expected, m.unit, lang), fmt.plan_amount(outlook, m.unit, lang),
                     t(lang, f"meetings.outlook_{action}")))
        if action != "keep":
            suggestions.append(t(lang, f"meetings.annual_{action}", id=g.id, who=_who(g, lang),
                                 metric=metric_name(m, lang), outlook=fmt.plan_amount(outlook, m.unit, lang),
                                 new=fmt.amount(new, m.unit, lang),
                                 command=f"/goal adjust {g.id} {fmt.number(new).replace(',', '')} because …"))
    return rows, suggestions


def quarter_review(session, team: Team, quarter: parsing.Period, tz, lang: str) -> Reply | None:
    """None when the team had no goal end in the quarter and has no annual goal."""
    metrics = {m.id: m for m in team_metrics(session, team.id)}
    ended, met = _ended(session, team, quarter, tz, lang, metrics)
    annual, suggestions = _annual(session, team, quarter, tz, lang, metrics)
    if not ended and not annual:
        return None
    period = fmt.period_label(quarter, lang)
    title = t(lang, "meetings.quarter_title", team=team.name, period=period, met=met, total=len(ended))
    parts: list = [Text(title)]
    if ended:
        header = tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "period", "target", "actual",
                                                            "attainment", "result"))
        parts.append(Table(header, tuple(ended)))
    else:
        parts.append(Text(t(lang, "meetings.quarter_none_ended", period=period)))
    if annual:
        parts.append(Text(t(lang, "meetings.annual_title", period=period)))
        header = tuple(t(lang, f"meetings.col_{c}") for c in ("id", "who", "metric", "year_target", "ytd",
                                                               "attainment", "expected", "outlook", "assessment"))
        parts.append(Table(header, tuple(annual)))
        parts.append(Text(t(lang, "meetings.annual_suggestions") + "\n" + "\n".join(suggestions)) if suggestions
                     else Text(t(lang, "meetings.annual_keep")))
    return Reply(parts=tuple(parts), private=False, summary=title.replace("*", ""))
