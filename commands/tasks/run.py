"""Running a /task request: add, done, reopen, reschedule, assign, cancel, snooze."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from commands.core import fmt, offdays, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import (
    adopt_team_of,
    looks_like_a_name,
    member_named,
    member_near,
    mention,
    recipient_prefs,
    require_member,
    resolve_member,
    team_members,
)
from commands.core.reply import Actions, Button, Reply, Text
from commands.i18n import t
from commands.tasks.notify import _buttons, _details, _notify, _notify_assigned
from commands.tasks.parse import (
    MAX_ID,
    SNOOZE,
    AddTask,
    AssignTask,
    CancelTask,
    CompleteTask,
    ListTasks,
    ReopenTask,
    RescheduleTask,
    SnoozeTask,
)
from commands.tasks.rules import allowed, may_assign_to
from commands.tasks.show import _list
from storage.models import Task
from storage.uow import UnitOfWork


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example("tasks.example") from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    session = uow.session
    task_id = getattr(req, "task_id", None)
    if ctx.team_id is None and task_id is not None:
        adopt_team_of(session, ctx, Task, task_id, MAX_ID)
    require_member(ctx)
    if isinstance(req, AddTask):
        return _add(session, req, ctx)
    if isinstance(req, ListTasks):
        return _list(session, req, ctx)
    task = _load(session, ctx, task_id)
    handler = {CompleteTask: _done, ReopenTask: _reopen, RescheduleTask: _reschedule,
               AssignTask: _assign, CancelTask: _cancel, SnoozeTask: _snooze}[type(req)]
    return handler(session, req, task, ctx)


def _is_manager(ctx: Ctx) -> bool:
    return ctx.role == "manager"


def _load(session, ctx: Ctx, task_id: int) -> Task:
    task = None
    if 0 < task_id <= MAX_ID:
        task = session.scalars(select(Task).where(Task.id == task_id, Task.team_id == ctx.team_id)
                         .with_for_update()).first()
    if task is None:
        raise UsageError("tasks.not_found", id=task_id, example="tasks.example_list")
    return task


def _check(action: str, task: Task, ctx: Ctx) -> None:
    if not allowed(action, task, ctx.actor.user_id, _is_manager(ctx)):
        raise Refused(f"tasks.refused_{action}", id=task.id, example="-")


def _resolve_assignee(session, ctx: Ctx, who: parsing.Mention | None) -> str:
    user_id = ctx.actor.user_id
    if who is not None:
        try:
            user_id = resolve_member(session, ctx, who).user_id
        except UsageError as e:
            raise UsageError("tasks.assignee_not_member", who=e.args_["who"], team=ctx.team.name,
                             example="-").suggesting(e.suggestion) from None
    if not may_assign_to(user_id, ctx.actor.user_id, _is_manager(ctx)):
        raise Refused("tasks.assign_others_refused", example="tasks.example_add_self")
    return user_id


#: Words that may stand before a member named without @: '给李雷 准备报价', '让李雷 …'.
_TO_WORDS = ("给", "让", "请", "为", "交给", "安排")


def _named_assignee(session, ctx: Ctx, title: str) -> tuple[parsing.Mention | None, str]:
    """A task title that starts with a member's name typed without @ ('李雷 拜访客户', 'amy call ACME',
    '给韩梅梅 准备报价'): that member is the assignee and the rest the title. A name a typo away from a
    member's ('李蕾') is asked about rather than read as part of the title."""
    words = title.split()
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        phrase = " ".join(words[:n])
        for candidate in (phrase, *(phrase[len(p):] for p in _TO_WORDS if phrase.startswith(p))):
            m = member_named(session, ctx.team_id, candidate)
            if m is not None:
                return parsing.Mention(m.user_id, m.display_name or None, phrase), " ".join(words[n:])
    glued = next((m for m in team_members(session, ctx.team_id) for name in (m.display_name or "",)
                  if len(name) >= 2 and not name.isascii() and words and words[0].startswith(name)
                  and len(words[0]) > len(name)), None)
    if glued is not None:
        # '李雷拜访客户': the member's name runs into the title; ask rather than guess whose task it is.
        raise UsageError("tasks.who_glued", who=mention(glued.user_id), name=glued.display_name,
                         rest=words[0][len(glued.display_name):], example="tasks.example_add")
    if len(words) > 1:
        first = words[0]
        near = member_near(session, ctx.team_id, first)
        name = (near.display_name or near.user_id) if near else ""
        if near is not None and (len(first) == len(name) and not first.isascii() and 2 <= len(first) <= 4
                                 or first.isascii() and len(first) >= 4 and abs(len(first) - len(name)) == 1):
            raise UsageError("tasks.who_meant", word=first, who=mention(near.user_id), example="tasks.example_add")
        bare = next((first[len(p):] for p in _TO_WORDS if first.startswith(p) and len(first) > len(p)), first)
        if looks_like_a_name(bare):
            # '王五 拜访客户' with nobody called 王五 in the team: a person the caller is not, so the task
            # must not silently become the caller's.
            raise UsageError("tasks.who_unknown", word=bare, team=ctx.team.name, example="tasks.example_add")
    return None, title


def _away_note(session, ctx: Ctx, user_id: str) -> Text | None:
    """'@李雷 is away until …' when the assignee has said so (/teambot away)."""
    if user_id == ctx.actor.user_id:
        return None
    prefs = recipient_prefs(session, ctx.team, {user_id})
    if not prefs.away(user_id, ctx.now):
        return None
    last = (prefs.away_until(user_id).astimezone(ctx.tz) - timedelta(days=1)).date()
    return Text(t(ctx.lang, "tasks.assignee_away", who=mention(user_id), until=fmt.day(last, ctx.lang)))


def _off_day_parts(task: Task, ctx: Ctx) -> list:
    """The due day is not a working day: say so and offer the nearest working days as buttons."""
    off = offdays.off_day(task.due_at, ctx)
    if off is None:
        return []
    at = task.due_at.astimezone(ctx.tz).strftime("%H:%M")
    buttons = tuple(Button(t(ctx.lang, "core.off_day_button", day=fmt.month_day(d, ctx.lang)), "task.due",
                           f"{task.id} {d.isoformat()} {at}", command=f"/task due {task.id} {d.isoformat()} {at}")
                    for d in (off.before, off.after))
    return [Text(off.text), Actions(buttons)]


def _add(session, req: AddTask, ctx: Ctx) -> Reply:
    lang = ctx.lang
    if req.who is None:
        who, title = _named_assignee(session, ctx, req.title)
        if who is not None:
            req = replace(req, who=who, title=title)
    assignee = _resolve_assignee(session, ctx, req.who)
    task = Task(team_id=ctx.team_id, assignee=assignee, created_by=ctx.actor.user_id, title=req.title,
                note=req.note, due_at=req.due_at, status="open", created_at=ctx.now, updated_at=ctx.now)
    session.add(task)
    session.flush()
    head = t(lang, "tasks.created", id=task.id, title=task.title, who=mention(assignee))
    parts: list = [Text(head), _details(task, ctx.tz, lang)]
    if assignee == ctx.actor.user_id:
        parts.append(_buttons(task, lang))
    else:
        _notify_assigned(session, ctx, task)
        parts.append(Text(t(lang, "tasks.dm_sent", who=mention(assignee))))
    away = _away_note(session, ctx, assignee)
    if away is not None:
        parts.append(away)
    parts.extend(_off_day_parts(task, ctx))
    return Reply(parts=tuple(parts), summary=head)


def _done(session, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("done", task, ctx)
    if task.status == "done":
        return Reply.text(t(lang, "tasks.already_done", id=task.id, title=task.title,
                            when=fmt.when(task.done_at or task.updated_at, ctx.tz, lang)))
    if task.status == "cancelled":
        raise Refused("tasks.is_cancelled", id=task.id, example="-")
    task.status, task.done_at, task.updated_at, task.snoozed_until = "done", ctx.now, ctx.now, None
    session.add(task)
    if task.created_by not in (ctx.actor.user_id, task.assignee):
        _notify(session, ctx, task, task.created_by, "done", "tasks.dm_done", by=mention(ctx.actor.user_id))
    return Reply.text(t(lang, "tasks.done", id=task.id, title=task.title))


def _reopen(session, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("reopen", task, ctx)
    if task.status == "open":
        return Reply.text(t(lang, "tasks.already_open", id=task.id, title=task.title))
    task.status, task.done_at, task.updated_at, task.snoozed_until = "open", None, ctx.now, None
    session.add(task)
    text = t(lang, "tasks.reopened", id=task.id, title=task.title, due=fmt.when(task.due_at, ctx.tz, lang))
    if task.due_at <= ctx.now:
        text += "\n" + t(lang, "tasks.reopened_overdue", id=task.id)
    return Reply.text(text)


def _reschedule(session, req: RescheduleTask, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("due", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    old = task.due_at
    task.due_at, task.snoozed_until, task.updated_at = req.due_at, None, ctx.now
    session.add(task)
    if task.assignee != ctx.actor.user_id:
        _notify(session, ctx, task, task.assignee, "rescheduled", "tasks.dm_due_changed", by=mention(ctx.actor.user_id),
                buttons=True)
    text = t(lang, "tasks.due_changed", id=task.id, title=task.title,
             due=fmt.when(task.due_at, ctx.tz, lang), old=fmt.when(old, ctx.tz, lang))
    return Reply(parts=(Text(text), *_off_day_parts(task, ctx)), summary=text.split("\n")[0])


def _assign(session, req: AssignTask, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("assign", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    assignee = _resolve_assignee(session, ctx, req.who)
    if assignee == task.assignee:
        return Reply.text(t(lang, "tasks.already_assigned", id=task.id, who=mention(assignee)))
    previous = task.assignee
    task.assignee, task.snoozed_until, task.updated_at = assignee, None, ctx.now
    session.add(task)
    head = t(lang, "tasks.reassigned", id=task.id, title=task.title, who=mention(assignee),
             previous=mention(previous))
    parts: list = [Text(head), _details(task, ctx.tz, lang)]
    if assignee == ctx.actor.user_id:
        parts.append(_buttons(task, lang))
    else:
        _notify_assigned(session, ctx, task)
        parts.append(Text(t(lang, "tasks.dm_sent", who=mention(assignee))))
    away = _away_note(session, ctx, assignee)
    if away is not None:
        parts.append(away)
    if previous != ctx.actor.user_id:
        _notify(session, ctx, task, previous, "unassigned", "tasks.dm_unassigned", by=mention(ctx.actor.user_id),
                who=mention(assignee))
    return Reply(parts=tuple(parts), summary=head)


def _cancel(session, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("cancel", task, ctx)
    if task.status == "cancelled":
        return Reply.text(t(lang, "tasks.already_cancelled", id=task.id, title=task.title))
    if task.status == "done":
        raise Refused("tasks.is_done", id=task.id, example="-")
    task.status, task.snoozed_until, task.updated_at = "cancelled", None, ctx.now
    session.add(task)
    if task.assignee != ctx.actor.user_id:
        _notify(session, ctx, task, task.assignee, "cancelled", "tasks.dm_cancelled", by=mention(ctx.actor.user_id))
    return Reply.text(t(lang, "tasks.cancelled", id=task.id, title=task.title))


def _snooze(session, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("snooze", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    task.snoozed_until, task.updated_at = ctx.now + SNOOZE, ctx.now
    session.add(task)
    text = t(lang, "tasks.snoozed", id=task.id, title=task.title, until=fmt.when(task.snoozed_until, ctx.tz, lang),
             due=fmt.when(task.due_at, ctx.tz, lang))
    if task.snoozed_until <= task.due_at:
        return Reply.text(text)
    # Snoozed past the deadline: the task will be overdue before anyone hears of it again.
    until = task.snoozed_until.astimezone(ctx.tz)
    warn = t(lang, "tasks.snooze_past_due", id=task.id, until=fmt.when(task.snoozed_until, ctx.tz, lang),
             due=fmt.when(task.due_at, ctx.tz, lang))
    move = Button(t(lang, "tasks.button_move_due", day=fmt.month_day(until.date(), lang)), "task.due",
                  f"{task.id} {until:%Y-%m-%d %H:%M}", command=f"/task due {task.id} {until:%Y-%m-%d %H:%M}")
    return Reply(parts=(Text(text), Text(warn), Actions((move,))), summary=text.split("\n")[0])
