"""Running a /task request: add, done, reopen, reschedule, assign, cancel, snooze."""
from __future__ import annotations

from sqlalchemy import select

from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import adopt_team_of, member_of, mention, require_member, resolve_person
from commands.core.reply import Reply, Text
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
    s = uow.session
    task_id = getattr(req, "task_id", None)
    if ctx.team_id is None and task_id is not None:
        adopt_team_of(s, ctx, Task, task_id, MAX_ID)
    require_member(ctx)
    if isinstance(req, AddTask):
        return _add(s, req, ctx)
    if isinstance(req, ListTasks):
        return _list(s, req, ctx)
    task = _load(s, ctx, task_id)
    handler = {CompleteTask: _done, ReopenTask: _reopen, RescheduleTask: _reschedule,
               AssignTask: _assign, CancelTask: _cancel, SnoozeTask: _snooze}[type(req)]
    return handler(s, req, task, ctx)


def _is_manager(ctx: Ctx) -> bool:
    return ctx.role == "manager"


def _load(s, ctx: Ctx, task_id: int) -> Task:
    task = None
    if 0 < task_id <= MAX_ID:
        task = s.scalars(select(Task).where(Task.id == task_id, Task.team_id == ctx.team_id)
                         .with_for_update()).first()
    if task is None:
        raise UsageError("tasks.not_found", id=task_id, example="tasks.example_list")
    return task


def _check(action: str, task: Task, ctx: Ctx) -> None:
    if not allowed(action, task, ctx.actor.user_id, _is_manager(ctx)):
        raise Refused(f"tasks.refused_{action}", id=task.id, example="-")


def _resolve_assignee(s, ctx: Ctx, who: parsing.Mention | None) -> str:
    user_id = ctx.actor.user_id if who is None else resolve_person(s, ctx, who)[0]
    if member_of(s, ctx.team_id, user_id) is None:
        raise UsageError("tasks.assignee_not_member", who=mention(user_id), team=ctx.team.name,
                         example="-")
    if not may_assign_to(user_id, ctx.actor.user_id, _is_manager(ctx)):
        raise Refused("tasks.assign_others_refused", example="tasks.example_add_self")
    return user_id


def _add(s, req: AddTask, ctx: Ctx) -> Reply:
    lang = ctx.lang
    assignee = _resolve_assignee(s, ctx, req.who)
    task = Task(team_id=ctx.team_id, assignee=assignee, created_by=ctx.actor.user_id, title=req.title,
                note=req.note, due_at=req.due_at, status="open", created_at=ctx.now, updated_at=ctx.now)
    s.add(task)
    s.flush()
    head = t(lang, "tasks.created", id=task.id, title=task.title, who=mention(assignee))
    parts: list = [Text(head), _details(task, ctx.tz, lang)]
    if assignee == ctx.actor.user_id:
        parts.append(_buttons(task, lang))
    else:
        _notify_assigned(s, ctx, task)
        parts.append(Text(t(lang, "tasks.dm_sent", who=mention(assignee))))
    return Reply(parts=tuple(parts), summary=head)


def _done(s, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("done", task, ctx)
    if task.status == "done":
        return Reply.text(t(lang, "tasks.already_done", id=task.id, title=task.title,
                            when=fmt.when(task.done_at or task.updated_at, ctx.tz, lang)))
    if task.status == "cancelled":
        raise Refused("tasks.is_cancelled", id=task.id, example="-")
    task.status, task.done_at, task.updated_at, task.snoozed_until = "done", ctx.now, ctx.now, None
    s.add(task)
    if task.created_by not in (ctx.actor.user_id, task.assignee):
        _notify(s, ctx, task, task.created_by, "done", "tasks.dm_done", by=mention(ctx.actor.user_id))
    return Reply.text(t(lang, "tasks.done", id=task.id, title=task.title))


def _reopen(s, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("reopen", task, ctx)
    if task.status == "open":
        return Reply.text(t(lang, "tasks.already_open", id=task.id, title=task.title))
    task.status, task.done_at, task.updated_at, task.snoozed_until = "open", None, ctx.now, None
    s.add(task)
    text = t(lang, "tasks.reopened", id=task.id, title=task.title, due=fmt.when(task.due_at, ctx.tz, lang))
    if task.due_at <= ctx.now:
        text += "\n" + t(lang, "tasks.reopened_overdue", id=task.id)
    return Reply.text(text)


def _reschedule(s, req: RescheduleTask, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("due", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    old = task.due_at
    task.due_at, task.snoozed_until, task.updated_at = req.due_at, None, ctx.now
    s.add(task)
    if task.assignee != ctx.actor.user_id:
        _notify(s, ctx, task, task.assignee, "rescheduled", "tasks.dm_due_changed", by=mention(ctx.actor.user_id),
                buttons=True)
    return Reply.text(t(lang, "tasks.due_changed", id=task.id, title=task.title,
                        due=fmt.when(task.due_at, ctx.tz, lang), old=fmt.when(old, ctx.tz, lang)))


def _assign(s, req: AssignTask, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("assign", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    assignee = _resolve_assignee(s, ctx, req.who)
    if assignee == task.assignee:
        return Reply.text(t(lang, "tasks.already_assigned", id=task.id, who=mention(assignee)))
    previous = task.assignee
    task.assignee, task.snoozed_until, task.updated_at = assignee, None, ctx.now
    s.add(task)
    head = t(lang, "tasks.reassigned", id=task.id, title=task.title, who=mention(assignee),
             previous=mention(previous))
    parts: list = [Text(head), _details(task, ctx.tz, lang)]
    if assignee == ctx.actor.user_id:
        parts.append(_buttons(task, lang))
    else:
        _notify_assigned(s, ctx, task)
        parts.append(Text(t(lang, "tasks.dm_sent", who=mention(assignee))))
    if previous != ctx.actor.user_id:
        _notify(s, ctx, task, previous, "unassigned", "tasks.dm_unassigned", by=mention(ctx.actor.user_id),
                who=mention(assignee))
    return Reply(parts=tuple(parts), summary=head)


def _cancel(s, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("cancel", task, ctx)
    if task.status == "cancelled":
        return Reply.text(t(lang, "tasks.already_cancelled", id=task.id, title=task.title))
    if task.status == "done":
        raise Refused("tasks.is_done", id=task.id, example="-")
    task.status, task.snoozed_until, task.updated_at = "cancelled", None, ctx.now
    s.add(task)
    if task.assignee != ctx.actor.user_id:
        _notify(s, ctx, task, task.assignee, "cancelled", "tasks.dm_cancelled", by=mention(ctx.actor.user_id))
    return Reply.text(t(lang, "tasks.cancelled", id=task.id, title=task.title))


def _snooze(s, req, task: Task, ctx: Ctx) -> Reply:
    lang = ctx.lang
    _check("snooze", task, ctx)
    if task.status != "open":
        raise Refused(f"tasks.is_{task.status}", id=task.id, example="-")
    task.snoozed_until, task.updated_at = ctx.now + SNOOZE, ctx.now
    s.add(task)
    return Reply.text(t(lang, "tasks.snoozed", id=task.id, title=task.title,
                        until=fmt.when(task.snoozed_until, ctx.tz, lang),
                        due=fmt.when(task.due_at, ctx.tz, lang)))
