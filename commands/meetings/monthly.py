"""The monthly review (月度总结会): what the meeting on the first days of a month goes through."""
from __future__ import annotations

import importlib
from datetime import datetime

from sqlalchemy import select

from commands import activities, goals, kpi
from commands.core import fmt, parsing
from commands.core.metrics import metric_name, team_metrics
from commands.core.people import mention
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from commands.resources.returns import return_parts
from storage.models import Goal, GoalRevision, Metric, Team


def _feature(module: str):
    """A feature the monthly meeting shows when the team's teambot has it (assessments, honours)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _assessments(session, team: Team, month: parsing.Period, now: datetime, tz, lang: str) -> list | None:
    """The month's assessments, due or confirmed (commands/assess), None without that feature."""
    assess = _feature("commands.assess")
    overview = getattr(assess, "overview", None)
    if not callable(overview):
        return None
    reply = overview(session, team, month, now, tz, lang, None, public=False)
    return list(reply.parts[1:]) if reply is not None else None


def _honours(session, team: Team, month: parsing.Period, lang: str) -> list:
    """The month's proposed honours with their Confirm buttons (commands/kudos), [] without them."""
    kudos = _feature("commands.kudos")
    proposal_parts = getattr(kudos, "proposal_parts", None)
    return list(proposal_parts(session, team, month, lang)) if callable(proposal_parts) else []


def _kpis(session, team: Team, month: parsing.Period, now: datetime, tz, lang: str, metrics: list[Metric]) -> list:
    rows = kpi.kpi_rows(session, team, None, month, now, tz, metrics)
    return [kpi.kpi_table(rows, lang, month.kind)]


def _attainment(session, team: Team, month: parsing.Period, now, tz, lang: str, metrics: list[Metric]) -> list:
    """Assessments when that feature gives them; until then each member's attainment, the basis of one."""
    given = _assessments(session, team, month, now, tz, lang)
    if given is not None:
        return given
    primary, ranked = kpi.leaderboard(session, team, month, metrics, lang)
    parts: list = [Text(t(lang, "meetings.assess_basis"))]
    if primary is not None and ranked:
        parts += kpi.board_parts(primary, ranked, lang)[1:]
    else:
        parts.append(Text(t(lang, "meetings.no_attainment")))
    return parts


def _adjustments(session, team: Team, month: parsing.Period, tz, lang: str, metrics: list[Metric]) -> list:
    parts: list = []
    review = goals.month_review(session, team, month, tz, lang)
    if review is not None:
        parts += list(review.parts[1:])
    by_id = {m.id: m for m in metrics}
    revised = session.execute(select(GoalRevision, Goal).join(Goal, Goal.id == GoalRevision.goal_id)
                        .where(Goal.team_id == team.id, GoalRevision.changed_at >= month.start,
                               GoalRevision.changed_at < month.end)
                        .order_by(GoalRevision.changed_at, GoalRevision.id)).all()
    if revised:
        lines = [t(lang, "meetings.revisions_title", count=len(revised))]
        for rev, g in revised:
            m = by_id.get(g.metric_id)
            unit = m.unit if m else ""
            lines.append(t(lang, "meetings.revision_line", id=g.id, who=mention(rev.changed_by),
                           metric=metric_name(m, lang) if m else "—", old=fmt.amount(rev.old_target, unit, lang),
                           new=fmt.amount(rev.new_target, unit, lang), reason=rev.reason))
        parts.append(Text("\n".join(lines)))
    return parts or [Text(t(lang, "meetings.no_adjustments"))]


def _campaigns(session, team: Team, month: parsing.Period, tz, lang: str) -> list:
    start, end = month.start.astimezone(tz).date(), month.end.astimezone(tz).date()
    rows = activities.activities_between(session, team.id, start, end)
    parts: list = [activities.rows_table(rows, lang)] if rows else [Text(t(lang, "meetings.no_activities"))]
    parts += return_parts(session, team.id, lang, start=month.start, end=month.end,
                          title=t(lang, "resources.returns_title_period", period=fmt.period_label(month, lang)))
    return parts


def monthly_agenda(session, team: Team, month: parsing.Period, now: datetime, tz, lang: str, *, minutes: int) -> Reply:
    """The agenda of the monthly review of `month` (a calendar month, normally the last one)."""
    from commands.agenda import time_boxes

    metrics = team_metrics(session, team.id)
    sections = [
        ("kpis", _kpis(session, team, month, now, tz, lang, metrics), 2.0),
        ("assess", _attainment(session, team, month, now, tz, lang, metrics), 2.0),
    ]
    honours = _honours(session, team, month, lang)
    if honours:
        sections.append(("honours", honours, 1.0))
    sections.append(("adjust", _adjustments(session, team, month, tz, lang, metrics), 1.5))
    sections.append(("campaigns", _campaigns(session, team, month, tz, lang), 1.0))
    boxes = time_boxes(minutes, [w for _, _, w in sections])
    period = fmt.period_label(month, lang)
    title = t(lang, "meetings.monthly_title", team=team.name, period=period, minutes=minutes)
    parts: list = [Text(title), Text(t(lang, "meetings.monthly_intro", period=period))]
    for n, ((name, body, _), box) in enumerate(zip(sections, boxes, strict=True), start=1):
        parts.append(Text(t(lang, "meetings.section", n=n, name=t(lang, f"meetings.section_{name}"), minutes=box)))
        parts += body
    parts.append(Text(t(lang, "meetings.one_hour", minutes=minutes)))
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))
