"""A project kick-off (项目启动会): the goal, the plan as tasks with owners and dates, the resources."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from commands import goals, kpi
from commands.core import fmt
from commands.core.people import mention
from commands.core.reply import Reply, Table, Text
from commands.core.roles import role_duty, role_name
from commands.i18n import t
from commands.resources.states import TERMINAL
from commands.resources.types import amount_text, state_name, type_name, what
from storage.models import ResourceRequest, ResourceStock, Task, Team

LIMIT = 15


def _like(column, project: str):
    escaped = project.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped.lower()}%", escape="\\")


def _plan(session, team: Team, project: str, tz, lang: str) -> tuple[list, list[Task]]:
    tasks = list(session.scalars(select(Task).where(Task.team_id == team.id, Task.status != "cancelled",
                                              or_(_like(Task.title, project), _like(Task.note, project)))
                           .order_by(Task.due_at, Task.id).limit(LIMIT)))
    if not tasks:
        return [Text(t(lang, "meetings.no_plan", project=project))], tasks
    header = tuple(t(lang, f"meetings.col_{c}") for c in ("id", "step", "owner", "due", "status"))
    rows = tuple((f"#{x.id}", x.title, mention(x.assignee), fmt.day(x.due_at.astimezone(tz).date(), lang),
                  t(lang, f"meetings.task_{x.status}")) for x in tasks)
    return [Table(header, rows), Text(t(lang, "meetings.plan_hint", project=project))], tasks


def _resources(session, team: Team, project: str, lang: str) -> list:
    asked = list(session.scalars(select(ResourceRequest).where(ResourceRequest.team_id == team.id,
                                                         _like(ResourceRequest.purpose, project))
                           .order_by(ResourceRequest.id).limit(LIMIT)))
    lines = []
    for r in asked:
        lines.append(f"• #{r.id} " + t(lang, "meetings.resource_line", what=what(r, lang), who=mention(r.requester),
                                       state=state_name(r.state, lang), open="" if r.state in TERMINAL else "⏳"))
    short = [x for x in session.scalars(select(ResourceStock).where(ResourceStock.team_id == team.id)
                                  .order_by(ResourceStock.type)) if x.needed > x.available]
    for x in short:
        lines.append("• " + t(lang, "meetings.stock_short", type=type_name(x.type, lang),
                              available=amount_text(x.type, x.available, lang),
                              needed=amount_text(x.type, x.needed, lang)))
    lines.append(t(lang, "meetings.resources_hint", project=project))
    return [Text("\n".join(lines))]


def kickoff_agenda(session, team: Team, project: str, now: datetime, tz, lang: str, *, minutes: int) -> Reply:
    """The agenda of the kick-off of `project`: what is known of it in the team's tasks and requests."""
    from commands.agenda import time_boxes

    goal_rows = goals.review_rows(session, team, goals.current_goals(session, team.id, now), now, tz, lang)
    goal_parts: list = [Text(t(lang, "meetings.goal_intro", project=project))]
    goal_parts.append(Table(goals.review_header(lang), tuple(goal_rows)) if goal_rows
                      else Text(t(lang, "meetings.no_goal")))
    plan_parts, tasks = _plan(session, team, project, tz, lang)
    owners: dict[str, int] = {}
    for x in tasks:
        owners[x.assignee] = owners.get(x.assignee, 0) + 1
    people = kpi.members(session, team.id)
    roles = [Text("\n".join(
        "• " + t(lang, "meetings.owner_line", who=mention(p.user_id), role=role_name(p.role, lang),
                 duty=role_duty(p.role, lang), n=owners.get(p.user_id, 0)) for p in people)
        or t(lang, "meetings.no_members"))]
    sections = [("goal", goal_parts, 1.0), ("plan", plan_parts, 2.0), ("owners", roles, 1.0),
                ("resources", _resources(session, team, project, lang), 1.0)]
    boxes = time_boxes(minutes, [w for _, _, w in sections])
    title = t(lang, "meetings.kickoff_title", project=project, team=team.name, minutes=minutes)
    parts: list = [Text(title)]
    for n, ((name, body, _), box) in enumerate(zip(sections, boxes, strict=True), start=1):
        parts.append(Text(t(lang, "meetings.section", n=n, name=t(lang, f"meetings.kick_{name}"), minutes=box)))
        parts += body
    parts.append(Text(t(lang, "meetings.one_hour", minutes=minutes)))
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))
