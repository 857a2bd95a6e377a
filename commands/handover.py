"""What a member leaves open when they leave the team, and the handover a manager is offered.

`/team remove @李雷` lists their open tasks (with a button to take each over), their current goals,
their resource requests still in the flow, and requests that now have nobody to approve them.
Another feature adds its own items by appending a function to PROVIDERS:
`provider(session, team, user_id, ctx) -> Items`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from commands import goals, resources
from commands.core import fmt
from commands.core.metrics import metric_name, team_metrics
from commands.core.people import mention, typed_mention
from commands.core.reply import Button
from commands.i18n import t
from storage.models import Member, ResourceRequest, Task, Team

#: Buttons offered at most (the rest are listed with the command that does it).
MAX_BUTTONS = 5


@dataclass
class Items:
    lines: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)


def _tasks(session, team: Team, user_id: str, ctx) -> Items:
    out = Items()
    rows = session.scalars(select(Task).where(Task.team_id == team.id, Task.assignee == user_id, Task.status == "open")
                     .order_by(Task.due_at, Task.id))
    to_me = typed_mention(ctx, ctx.actor.user_id)
    for task in rows:
        due = fmt.month_day(task.due_at.astimezone(ctx.tz).date(), ctx.lang)
        out.lines.append(t(ctx.lang, "team.open_task", id=task.id, title=task.title, due=due))
        if len(out.buttons) < MAX_BUTTONS:
            out.buttons.append(Button(t(ctx.lang, "team.button_take_task", id=task.id), "task.assign",
                                      f"{task.id}", command=f"/task assign {task.id} {to_me}"))
    return out


def _goals(session, team: Team, user_id: str, ctx) -> Items:
    metrics = {m.id: m for m in team_metrics(session, team.id)}
    out = Items()
    for g in goals.current_goals(session, team.id, ctx.now):
        if g.user_id != user_id:
            continue
        m = metrics[g.metric_id]
        out.lines.append(t(ctx.lang, "team.open_goal", id=g.id, metric=metric_name(m, ctx.lang),
                           target=fmt.plan_amount(g.target, m.unit, ctx.lang), period=goals.label(g, ctx.tz, ctx.lang)))
    return out


def _requests(session, team: Team, user_id: str, ctx) -> Items:
    out = Items()
    rows = session.scalars(select(ResourceRequest).where(ResourceRequest.team_id == team.id,
                                                   ResourceRequest.requester == user_id,
                                                   ResourceRequest.state.not_in(resources.TERMINAL))
                     .order_by(ResourceRequest.id))
    for r in rows:
        out.lines.append(t(ctx.lang, "team.open_request", id=r.id, what=resources.what(r, ctx.lang),
                           state=resources.state_name(r.state, ctx.lang)))
    return out


def _orphaned_approvals(session, team: Team, user_id: str, ctx) -> Items:
    """Requests waiting for a role the leaver held and nobody else in the team holds (they were the last one).
    A role the leaver never had was orphaned before them: not theirs to hand over."""
    out = Items()
    theirs = set(session.scalars(select(Member.role).where(Member.team_id == team.id, Member.user_id == user_id)))
    others = set(session.scalars(select(Member.role).where(Member.team_id == team.id, Member.user_id != user_id)))
    waiting = [st for st, role in resources.NEXT_ACTOR.items() if role in ("manager", "resource_admin")
               and role in theirs and role not in others]
    if not waiting:
        return out
    for r in session.scalars(select(ResourceRequest).where(ResourceRequest.team_id == team.id,
                                                     ResourceRequest.state.in_(waiting)).order_by(ResourceRequest.id)):
        out.lines.append(t(ctx.lang, "team.orphaned_request", id=r.id, what=resources.what(r, ctx.lang),
                           state=resources.state_name(r.state, ctx.lang)))
    return out


def _customers(session, team: Team, user_id: str, ctx) -> Items:
    """The customers they own: how many, and the handover that moves them (with their reminders and
    open tasks) to the manager or whoever the manager names."""
    from storage.models import Customer

    out = Items()
    rows = list(session.scalars(select(Customer.name).where(Customer.team_id == team.id, Customer.owner_id == user_id)
                          .order_by(Customer.id).limit(6)))
    if not rows:
        return out
    n = session.scalar(select(func.count()).select_from(Customer)
                 .where(Customer.team_id == team.id, Customer.owner_id == user_id))
    names = "、".join(rows[:5]) + ("…" if n > 5 else "")
    who, me = typed_mention(ctx, user_id), typed_mention(ctx, ctx.actor.user_id)
    out.lines.append(t(ctx.lang, "team.open_customers", n=n, names=names, who=who))
    out.buttons.append(Button(t(ctx.lang, "team.button_take_customers", n=n), "customer.transfer", user_id,
                              command=f"/customer transfer all {who} {me}"))
    return out


PROVIDERS: list[Callable[..., Items]] = [_tasks, _goals, _requests, _orphaned_approvals, _customers]


def left_open(session, team: Team, user_id: str, ctx) -> tuple[str, list[Button]]:
    """-> (the text that lists what `user_id` leaves open, the buttons to take tasks over)."""
    lines: list[str] = []
    buttons: list[Button] = []
    for provider in PROVIDERS:
        items = provider(session, team, user_id, ctx)
        lines += items.lines
        buttons += items.buttons
    if not lines:
        return t(ctx.lang, "team.nothing_open", who=mention(user_id)), []
    text = t(ctx.lang, "team.left_open", who=mention(user_id)) + "\n" + "\n".join(f"• {x}" for x in lines)
    if buttons:
        text += "\n" + t(ctx.lang, "team.handover_hint")
    return text, buttons
