"""What is mine, at a glance: the Slack Home tab's content as a neutral Reply.

    reply = home.build(session, ctx, page=1)

Sections, per team the person is in (at most MAX_TEAMS):
  * my open tasks, soonest due first, each with Done / Snooze buttons; TASKS_PER_PAGE of them and
    a More button (`home.tasks`, value = the next page) that shows the next ones;
  * 今天要跟进的客户: my customers whose planned follow-up is due, with Log / Snooze buttons;
  * my KPIs against my goals this period (the first of month, quarter, week, year I have goals for);
  * resource requests waiting for my decision (managers, resource admins), with their stage's buttons;
  * the team's next meeting, with a button previewing its agenda.
Every button runs an ordinary command as the clicking user, so the server re-checks it; the adapter
re-publishes the view after each click. Nothing here writes.
"""
from __future__ import annotations

from sqlalchemy import func, select

from commands import agenda, goals, kpi, resources
from commands.core import fmt, forms, parsing
from commands.core.context import Ctx
from commands.core.metrics import metric_name
from commands.core.people import mention
from commands.core.reply import Actions, Button, Reply, Table, Text
from commands.i18n import t
from commands.settings import help_reply
from storage.models import Member, ResourceRequest, Task, Team

MAX_TEAMS = 3
TASKS_PER_PAGE = 10
REQUESTS_SHOWN = 5
FOLLOWUPS_SHOWN = 5
#: action_id of the Home tab's own paging buttons (value: the page to show). Adapters handle it.
TASKS_PAGE_ACTION = "home.tasks"
PERIOD_KINDS = ("month", "quarter", "week", "year")


def build(session, ctx: Ctx, *, page: int = 1) -> Reply:
    lang = ctx.lang
    rows = session.execute(select(Team, Member).join(Member, Member.team_id == Team.id)
                     .where(Team.platform == ctx.actor.platform, Member.user_id == ctx.actor.user_id)
                     .order_by(Team.id)).all()
    if not rows:
        return Reply(parts=(Text(t(lang, "home.no_team")), *help_reply(lang).parts),
                     summary=t(lang, "home.no_team"))
    parts: list = [Text(t(lang, "home.intro")), _quick_actions(lang)]
    shown = rows[:MAX_TEAMS]
    per_page = max(3, TASKS_PER_PAGE // len(shown))
    for team, member in shown:
        if len(rows) > 1:
            parts.append(Text(t(lang, "home.team", team=team.name)))
        parts.extend(_tasks(session, ctx, team, max(1, page), per_page))
        parts.extend(_followups(session, ctx, team))
        parts.extend(_kpis(session, ctx, team))
        if member.role in (resources.MANAGER, resources.RESOURCE_ADMIN):
            parts.extend(_approvals(session, ctx, team, member.role))
        parts.extend(_meeting(session, ctx, team))
    if len(rows) > MAX_TEAMS:
        parts.append(Text(t(lang, "home.more_teams", n=len(rows) - MAX_TEAMS)))
    return Reply(parts=tuple(parts), summary=t(lang, "home.intro"))


def _quick_actions(lang: str) -> Actions:
    """Bare commands: each opens its form (the forms the features declare with a Home entry)."""
    return Actions(tuple(
        Button(t(lang, f"{form.catalog}.form.home"), f"home.new_{name}", name, command=f"/{name}",
               style="primary" if form.primary else None)
        for name, form in forms.home_entries()))


def _tasks(session, ctx: Ctx, team: Team, page: int, per_page: int) -> list:
    lang, tz = ctx.lang, ctx.tz
    q = select(Task).where(Task.team_id == team.id, Task.assignee == ctx.actor.user_id, Task.status == "open")
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    if not total:
        return [Text(t(lang, "home.tasks_none"))]
    pages = -(-total // per_page)
    page = min(page, pages)
    start = (page - 1) * per_page
    tasks = list(session.scalars(q.order_by(Task.due_at, Task.id).offset(start).limit(per_page)))
    key = "home.tasks_title_paged" if pages > 1 else "home.tasks_title"
    out: list = [Text(t(lang, key, count=total, page=page, pages=pages))]
    for task in tasks:
        due = fmt.when(task.due_at, tz, lang)
        line = f"*#{task.id}* {_clip(task.title, 150)}\n" + (
            t(lang, "home.task_overdue", due=due) if task.due_at < ctx.now else t(lang, "home.task_due", due=due))
        if task.snoozed_until and task.snoozed_until > ctx.now:
            line += " · " + t(lang, "home.task_snoozed", until=fmt.when(task.snoozed_until, tz, lang))
        out.append(Text(line))
        out.append(Actions((
            Button(t(lang, "tasks.button_done"), "task.done", str(task.id), command=f"/task done {task.id}",
                   style="primary"),
            Button(t(lang, "tasks.button_snooze"), "task.snooze", str(task.id),
                   command=f"/task snooze {task.id}"),
        )))
    nav = []
    if page > 1:
        nav.append(Button(t(lang, "home.first_page"), TASKS_PAGE_ACTION, "1"))
    if start + len(tasks) < total:
        nav.append(Button(t(lang, "paging.more", left=total - start - len(tasks)), TASKS_PAGE_ACTION,
                          str(page + 1)))
    if nav:
        out.append(Actions(tuple(nav)))
    return out


def _followups(session, ctx: Ctx, team: Team) -> list:
    """今天要跟进的客户: my customers whose planned follow-up is due (today or missed), with buttons to
    log it or move it to the next working day. Nothing when there are none."""
    from storage.models import Customer, FollowUp

    lang, today = ctx.lang, ctx.local_now.date()
    q = (select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
         .where(FollowUp.team_id == team.id, FollowUp.next_state == "pending", FollowUp.next_on <= today,
                Customer.owner_id == ctx.actor.user_id))
    rows = session.execute(q.order_by(FollowUp.next_on, FollowUp.id).limit(FOLLOWUPS_SHOWN + 1)).all()
    if not rows:
        return []
    out: list = [Text(t(lang, "home.followups_title"))]
    for f, c in rows[:FOLLOWUPS_SHOWN]:
        due = fmt.day(f.next_on, lang)
        out.append(Text(f"*#{c.id}* {_clip(c.name, 80)} · " + t(lang, "home.followup_planned", day=due)
                        + f"\n{_clip(f.note, 150)}"))
        out.append(Actions((
            Button(t(lang, "customers.button_followup"), "customer.followup", str(c.id), command=f"/followup {c.id}",
                   style="primary"),
            Button(t(lang, "home.followup_snooze"), "followup.snooze", str(c.id), command=f"/followup snooze {c.id}"),
        )))
    if len(rows) > FOLLOWUPS_SHOWN:
        out.append(Text(t(lang, "home.followups_more")))
    return out


def _period(session, team: Team, user_id: str, ctx: Ctx) -> parsing.Period:
    """The current period I have goals for (month first), else this month."""
    for kind in PERIOD_KINDS:
        p = parsing.period_of(kind, ctx.now, ctx.tz)
        if goals.targets_for(session, team.id, user_id, p):
            return p
    return parsing.period_of("month", ctx.now, ctx.tz)


def _kpis(session, ctx: Ctx, team: Team) -> list:
    lang, me = ctx.lang, ctx.actor.user_id
    period = _period(session, team, me, ctx)
    rows = kpi.kpi_rows(session, team, me, period, ctx.now, ctx.tz)
    title = Text(t(lang, "home.kpi_title", period=fmt.period_label(period, lang)))
    with_target = [r for r in rows if r.target is not None]
    shown = with_target or [r for r in rows if r.actual]
    if not shown:
        return [title, Text(t(lang, "home.kpi_none"))]

    def a(r, v):
        return "—" if v is None else fmt.amount(v, r.metric.unit, lang)

    header = tuple(t(lang, f"kpi.col_{c}") for c in ("metric", "actual", "target", "attainment"))
    table = Table(header, tuple((metric_name(r.metric, lang), a(r, r.actual), a(r, r.target),
                                 goals.pct(r.attainment)) for r in shown))
    out = [title, table]
    if not with_target:
        out.append(Text(t(lang, "home.kpi_no_goals")))
    return out


def _approvals(session, ctx: Ctx, team: Team, role: str) -> list:
    lang, tz = ctx.lang, ctx.tz
    states = [st for st, who in resources.NEXT_ACTOR.items() if who == role]
    q = select(ResourceRequest).where(ResourceRequest.team_id == team.id, ResourceRequest.state.in_(states))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    title = Text(t(lang, "home.approvals_title", count=total))
    if not total:
        return [title, Text(t(lang, "home.approvals_none"))]
    out: list = [title]
    for row in session.scalars(q.order_by(ResourceRequest.updated_at, ResourceRequest.id).limit(REQUESTS_SHOWN)):
        line = (f"*#{row.id}* {resources.what(row, lang)} · {mention(row.requester)} · {_clip(row.purpose, 120)}\n"
                + resources.state_name(row.state, lang))
        if row.needed_by is not None:
            line += " · " + t(lang, "home.needed_by", when=fmt.when(row.needed_by, tz, lang))
        out.append(Text(line))
        buttons = resources.stage_buttons(row, lang)
        if buttons is not None:
            out.append(buttons)
    if total > REQUESTS_SHOWN:
        out.append(Actions((Button(t(lang, "paging.more", left=total - REQUESTS_SHOWN), "home.requests", "",
                                   command="/resource list pending"),)))
    return out


def _meeting(session, ctx: Ctx, team: Team) -> list:
    lang, tz = ctx.lang, ctx.tz
    plan = agenda.plan_of(session, team.id)
    at, _ = agenda.next_meeting(plan, team, ctx.now, tz)
    return [Text(t(lang, "home.meeting", team=team.name, when=fmt.when(at, tz, lang), minutes=plan.minutes)),
            Actions((Button(t(lang, "home.agenda_button"), "home.agenda", "", command="/agenda"),))]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
