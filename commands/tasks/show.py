"""Reading tasks: the list, a page at a time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from commands.core import fmt, paging
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.people import member_named, member_near, mention, resolve_member
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from commands.tasks.parse import LIST_LIMIT, ListTasks
from storage.models import Task


def _list(session, req: ListTasks, ctx: Ctx) -> Reply:
    lang = ctx.lang
    q = select(Task).where(Task.team_id == ctx.team_id, Task.status == "open")
    scope_arg = req.scope  # how the More button's command names the scope
    if req.scope == "mine":
        q = q.where(Task.assignee == ctx.actor.user_id)
        label = t(lang, "tasks.scope_mine")
    elif req.scope == "user":
        if not req.who.user_id and req.who.raw == req.who.name and member_named(session, ctx.team_id, req.who.raw) is None:
            # Neither a scope nor, it turns out, a member's name.
            raise UsageError("tasks.bad_scope", value=req.who.raw, example="tasks.example_list") \
                .suggesting(_near(session, ctx, req.who.raw))
        user_id = resolve_member(session, ctx, req.who).user_id
        q = q.where(Task.assignee == user_id)
        label = t(lang, "tasks.scope_user", who=mention(user_id))
        scope_arg = mention(user_id)
    elif req.scope == "overdue":
        q = q.where(Task.due_at < ctx.now)
        label = t(lang, "tasks.scope_overdue", team=ctx.team.name)
    else:
        label = t(lang, "tasks.scope_team", team=ctx.team.name)
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    if not total:
        return Reply.text(t(lang, "tasks.list_empty", scope=label))
    start = paging.offset(req.page, LIST_LIMIT)
    if start >= total:
        return Reply.text(paging.past_end(lang, req.page, total, LIST_LIMIT))
    tasks = list(session.scalars(q.order_by(Task.due_at, Task.id).offset(start).limit(LIST_LIMIT)))
    rows = tuple((f"#{x.id}", _clip(x.title, 60), mention(x.assignee), _due_cell(x, ctx, lang),
                  _status_cell(x, ctx, lang)) for x in tasks)
    header = tuple(t(lang, f"tasks.col_{c}") for c in ("id", "title", "assignee", "due", "status"))
    title = t(lang, "tasks.list_title", scope=label, count=total, tz=fmt.zone_name(ctx.tz))
    parts: list = [Text(title), Table(header, rows)]
    shown_until = start + len(tasks)
    if total > shown_until:
        parts.append(Text(t(lang, "tasks.list_more", n=total - shown_until)))
        parts.append(paging.more_button(lang, f"/task list {scope_arg}", req.page, shown_until, total,
                                        "task.more"))
    return Reply(parts=tuple(parts), summary=title)


def _near(session, ctx: Ctx, word: str) -> str | None:
    m = member_near(session, ctx.team_id, word)
    return mention(m.user_id) if m else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(dt: datetime, tz, lang: str) -> str:
    local = dt.astimezone(tz)
    if lang == "zh":
        return f"{local:%m-%d} {fmt.weekday(local.date(), lang)} {local:%H:%M}"
    return f"{fmt.weekday(local.date(), lang)} {local:%m-%d %H:%M}"


def _due_cell(task: Task, ctx: Ctx, lang: str) -> str:
    return ("⚠️ " if task.due_at < ctx.now else "") + _short(task.due_at, ctx.tz, lang)


def _status_cell(task: Task, ctx: Ctx, lang: str) -> str:
    if task.status == "open" and task.snoozed_until and task.snoozed_until > ctx.now:
        return t(lang, "tasks.status_snoozed", until=_short(task.snoozed_until, ctx.tz, lang))
    if task.status == "open" and task.due_at < ctx.now:
        return t(lang, "tasks.status_overdue")
    return t(lang, f"tasks.status_{task.status}")
