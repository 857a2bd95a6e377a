"""/task (任务): action plans as tasks with an owner, a due date and a note.

Grammar (keywords are case-insensitive; Chinese keywords need no space after them):

    add @user <title> due <date> [note <text>]      新建 @李雷 拜访客户 截止 下周五 备注 带上报价单
        due separators: due, due:, by, deadline, 截止, 截止到, 截至; note separators: note, note:, 备注
        no mention, @me, @我: the caller
    list [mine|@user|team|overdue]                    列表 [我的|@某人|团队|逾期]  (default: mine)
    done <id>                                         完成 <id>
    reopen <id>                                       重开 <id>
    due <id> <date>                                   改期 <id> <date>   (also 截止, 延期)
    assign <id> @user                                 转给 <id> @某人    (also 指派)
    cancel <id>                                       取消 <id>
    snooze <id>                                       推迟 <id>           (also 稍后): reminders wait one day

Permission rules (checked on the server for typed commands and button clicks alike):

    | action | assignee | creator | manager | any other member |
    |--------|----------|---------|---------|------------------|
    | add    | -        | -       | for anyone in the team | for themselves only |
    | list   | yes      | yes     | yes     | yes              |
    | done   | yes      | no      | yes     | no               |
    | snooze | yes      | no      | yes     | no               |
    | reopen | no       | yes     | yes     | no               |
    | due    | yes      | yes     | yes     | no               |
    | assign | no       | yes, to themselves only | yes, to anyone in the team | no |
    | cancel | no       | yes     | yes     | no               |

A person who holds several of these positions has the union of their rights. The assignee must be a
member of the team. A task id of another team answers "not found", exactly like an id that does not
exist, so ids never leak across teams.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from commands.core import fmt, paging, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.keywords import keyword, split_head
from commands.core.people import adopt_team_of, member_of, mention, require_member, resolve_person
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Table, Text
from commands.i18n import t
from storage.models import OutboxMessage, Task, UserPref
from storage.uow import UnitOfWork

MAX_TITLE = 200
MAX_NOTE = 2000
LIST_LIMIT = 30
SNOOZE = timedelta(days=1)
#: Task ids are INTEGER columns; a bigger number can't be an id (and must not reach the database).
MAX_ID = 2**31 - 1

# -- the rule table above, as data ------------------------------------------------------------

ASSIGNEE, CREATOR, MANAGER = "assignee", "creator", "manager"
RULES: dict[str, frozenset[str]] = {
    "done": frozenset({ASSIGNEE, MANAGER}),
    "snooze": frozenset({ASSIGNEE, MANAGER}),
    "reopen": frozenset({CREATOR, MANAGER}),
    "due": frozenset({CREATOR, ASSIGNEE, MANAGER}),
    "assign": frozenset({CREATOR, MANAGER}),
    "cancel": frozenset({CREATOR, MANAGER}),
}


def positions(task: Task, user_id: str, is_manager: bool) -> frozenset[str]:
    """What the person is to this task: assignee, creator, manager (any number of them)."""
    out = set()
    if task.assignee == user_id:
        out.add(ASSIGNEE)
    if task.created_by == user_id:
        out.add(CREATOR)
    if is_manager:
        out.add(MANAGER)
    return frozenset(out)


def allowed(action: str, task: Task, user_id: str, is_manager: bool) -> bool:
    return bool(RULES[action] & positions(task, user_id, is_manager))


def may_assign_to(target: str, user_id: str, is_manager: bool) -> bool:
    """A manager assigns to anyone in the team; everyone else only to themselves."""
    return is_manager or target == user_id


# -- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddTask:
    #: None: the caller.
    who: parsing.Mention | None
    title: str
    due_at: datetime
    note: str = ""


@dataclass(frozen=True)
class ListTasks:
    scope: str  # "mine" | "user" | "team" | "overdue"
    who: parsing.Mention | None = None
    page: int = 1  # `page N` (commands/paging.py): LIST_LIMIT rows a page, a More button for the next


@dataclass(frozen=True)
class CompleteTask:
    task_id: int


@dataclass(frozen=True)
class ReopenTask:
    task_id: int


@dataclass(frozen=True)
class RescheduleTask:
    task_id: int
    due_at: datetime


@dataclass(frozen=True)
class AssignTask:
    task_id: int
    who: parsing.Mention | None


@dataclass(frozen=True)
class CancelTask:
    task_id: int


@dataclass(frozen=True)
class SnoozeTask:
    task_id: int


KEYWORDS = {
    "add": ("add", "new", "create", "新建", "添加", "新增", "创建", "布置"),
    "list": ("list", "ls", "show", "列表", "查看", "清单"),
    "done": ("done", "complete", "finish", "finished", "完成", "已完成", "搞定"),
    "reopen": ("reopen", "重开", "重新打开", "重启"),
    "due": ("due", "reschedule", "改期", "截止", "延期"),
    "assign": ("assign", "reassign", "转给", "指派", "转交"),
    "cancel": ("cancel", "取消", "作废"),
    "snooze": ("snooze", "later", "推迟", "稍后"),
}
SCOPES = {
    "mine": ("mine", "my", "me", "我的", "我"),
    "team": ("team", "all", "团队", "全部", "全队"),
    "overdue": ("overdue", "late", "逾期", "过期", "超期"),
}
SELF_NAMES = frozenset({"me", "myself", "self", "我", "自己", "本人"})

_DUE_SEP = re.compile(r"(?<!\S)(?:due|by|deadline)(?:\s*:|(?=\s|$))|(?:截止到|截止日期|截止|截至)\s*:?",
                      re.IGNORECASE)
_NOTE_SEP = re.compile(r"(?<!\S)notes?(?:\s*:|(?=\s|$))|备注\s*:?", re.IGNORECASE)
_ID = re.compile(r"#?(\d+)")
_TRIM = " \t\n,，;；:：、。"


def _due(text: str, ctx: Ctx, example: str) -> datetime:
    try:
        return parsing.parse_due(text, ctx.now, ctx.tz)
    except UsageError as e:
        raise e.with_example(example) from None


def parse(text: str, ctx: Ctx):
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example("tasks.example") from None


def _parse(text: str, ctx: Ctx):
    if not text:
        return ListTasks("mine")
    kw, head, rest = split_head(text, KEYWORDS)
    if kw is None and keyword(head, SCOPES):
        kw, rest = "list", text  # "/task overdue", "/task 我的"
    if kw is None and head.startswith(("@", "<@")):
        kw, rest = "add", text  # "/task @li call ACME due friday"
    if kw is None:
        raise UsageError("tasks.unknown_keyword", word=head, example="tasks.example")
    if kw == "add":
        return _parse_add(rest, ctx)
    if kw == "list":
        return _parse_list(rest)
    example = f"tasks.example_{kw}"
    task_id, rest = _take_id(rest, example)
    if kw == "due":
        for prefix in ("to ", "改到", "改为", "到"):
            if rest.casefold().startswith(prefix):
                rest = rest[len(prefix):].strip()
                break
        if not rest:
            raise UsageError("tasks.due_required", example=example)
        return RescheduleTask(task_id, _due(rest, ctx, example))
    if kw == "assign":
        mentions, leftover = parsing.take_mentions(rest)
        if len(mentions) != 1:
            raise UsageError("tasks.one_person", example=example)
        if leftover.strip(_TRIM).casefold() not in ("", "to", "给"):
            raise UsageError("tasks.unexpected_text", text=leftover, example=example)
        return AssignTask(task_id, _who(mentions[0]))
    if rest:
        raise UsageError("tasks.unexpected_text", text=rest, example=example)
    return {"done": CompleteTask, "reopen": ReopenTask, "cancel": CancelTask,
            "snooze": SnoozeTask}[kw](task_id)


def _take_id(rest: str, example: str) -> tuple[int, str]:
    word, _, after = rest.partition(" ")
    m = _ID.match(word)
    if not word:
        raise UsageError("tasks.id_required", example=example)
    if m is None:
        raise UsageError("tasks.bad_id", value=word, example=example)
    # "完成12" splits fine, and so does "#12改到下周五" / "12 @li".
    tail = word[m.end():]
    if len(m.group(1)) > 18:
        raise UsageError("tasks.bad_id", value=word, example=example)
    # Numbers beyond the id column's range are "not found" in run(); they never reach the database.
    return int(m.group(1)), (tail + " " + after).strip()


def _who(m: parsing.Mention) -> parsing.Mention | None:
    if not m.user_id and (m.name or "").casefold() in SELF_NAMES:
        return None
    return m


def _parse_add(rest: str, ctx: Ctx) -> AddTask:
    mentions, body = parsing.take_mentions(rest)
    if len(mentions) > 1:
        raise UsageError("tasks.one_assignee", example="tasks.example_add")
    who = _who(mentions[0]) if mentions else None
    body = body.strip()
    dues = list(_DUE_SEP.finditer(body))
    if not dues:
        raise UsageError("tasks.due_required", example="tasks.example_add")
    # The note starts at the first note keyword after a due keyword, so a title may say "note"
    # ("send meeting note due fri") and a note may say "by" ("... note bring the quote by hand").
    note_m = next((m for m in _NOTE_SEP.finditer(body) if m.start() >= dues[0].end()), None)
    head = body[:note_m.start()] if note_m else body
    note = body[note_m.end():].strip(_TRIM) if note_m else ""
    # The date follows the last due keyword, so a title may say "by" ("call ACME by phone due fri").
    sep = [m for m in dues if m.end() <= len(head)][-1]
    title = head[:sep.start()].strip(_TRIM)
    when = head[sep.end():].strip(_TRIM)
    if not title:
        raise UsageError("tasks.title_required", example="tasks.example_add")
    if len(title) > MAX_TITLE:
        raise UsageError("tasks.title_too_long", max=MAX_TITLE, example="tasks.example_add")
    if not when:
        raise UsageError("tasks.due_required", example="tasks.example_add")
    if len(note) > MAX_NOTE:
        raise UsageError("tasks.note_too_long", max=MAX_NOTE, example="tasks.example_add")
    return AddTask(who=who, title=title, due_at=_due(when, ctx, "tasks.example_add"), note=note)


def _parse_list(rest: str) -> ListTasks:
    page, rest = paging.take_page(rest, "tasks.example_list")
    if page != 1:
        return replace(_parse_list(rest), page=page)
    mentions, leftover = parsing.take_mentions(rest)
    leftover = leftover.strip(_TRIM)
    if len(mentions) > 1:
        raise UsageError("tasks.one_person", example="tasks.example_list")
    if mentions:
        if leftover:
            raise UsageError("tasks.unexpected_text", text=leftover, example="tasks.example_list")
        who = _who(mentions[0])
        return ListTasks("mine") if who is None else ListTasks("user", who)
    if not leftover:
        return ListTasks("mine")
    scope = keyword(leftover, SCOPES)
    if scope is None:
        raise UsageError("tasks.bad_scope", value=leftover, example="tasks.example_list")
    return ListTasks(scope)


# -- running ------------------------------------------------------------------------------------


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


# -- list -----------------------------------------------------------------------------------------


def _list(s, req: ListTasks, ctx: Ctx) -> Reply:
    lang = ctx.lang
    q = select(Task).where(Task.team_id == ctx.team_id, Task.status == "open")
    scope_arg = req.scope  # how the More button's command names the scope
    if req.scope == "mine":
        q = q.where(Task.assignee == ctx.actor.user_id)
        label = t(lang, "tasks.scope_mine")
    elif req.scope == "user":
        user_id, _ = resolve_person(s, ctx, req.who)
        if member_of(s, ctx.team_id, user_id) is None:
            raise UsageError("tasks.assignee_not_member", who=mention(user_id), team=ctx.team.name,
                             example="-")
        q = q.where(Task.assignee == user_id)
        label = t(lang, "tasks.scope_user", who=mention(user_id))
        scope_arg = mention(user_id)
    elif req.scope == "overdue":
        q = q.where(Task.due_at < ctx.now)
        label = t(lang, "tasks.scope_overdue", team=ctx.team.name)
    else:
        label = t(lang, "tasks.scope_team", team=ctx.team.name)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    if not total:
        return Reply.text(t(lang, "tasks.list_empty", scope=label))
    start = paging.offset(req.page, LIST_LIMIT)
    if start >= total:
        return Reply.text(paging.past_end(lang, req.page, total, LIST_LIMIT))
    tasks = list(s.scalars(q.order_by(Task.due_at, Task.id).offset(start).limit(LIST_LIMIT)))
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


# -- what the assignee (or creator) hears -------------------------------------------------------


def _details(task: Task, tz, lang: str) -> Fields:
    pairs = [(t(lang, "tasks.label_assignee"), mention(task.assignee)),
             (t(lang, "tasks.label_due"), fmt.when(task.due_at, tz, lang))]
    if task.note:
        pairs.append((t(lang, "tasks.label_note"), task.note))
    return Fields(tuple(pairs))


def _buttons(task: Task, lang: str) -> Actions:
    return Actions((
        Button(label=t(lang, "tasks.button_done"), action_id="task.done", value=str(task.id),
               command=f"/task done {task.id}", style="primary"),
        Button(label=t(lang, "tasks.button_snooze"), action_id="task.snooze", value=str(task.id),
               command=f"/task snooze {task.id}"),
    ))


def _recipient(s, ctx: Ctx, user_id: str):
    """The recipient's own language and time zone (their choice, else the team's)."""
    pref = s.get(UserPref, (ctx.actor.platform, user_id))
    lang = (pref.lang if pref else None) or ctx.team.lang
    try:
        tz = ZoneInfo((pref.tz if pref else None) or ctx.team.tz)
    except (KeyError, ValueError, OSError):
        tz = ctx.tz
    return lang, tz


def _next_seq(s, ctx: Ctx, prefix: str) -> int:
    """The n of a dedupe key `prefix:n`: one more than any already queued (here or in the outbox)."""
    keys = list(s.scalars(select(OutboxMessage.dedupe_key)
                          .where(OutboxMessage.dedupe_key.like(prefix + ":%"))))
    keys += [m.dedupe_key for m in ctx.outgoing if m.dedupe_key and m.dedupe_key.startswith(prefix + ":")]
    seen = [int(k.rsplit(":", 1)[1]) for k in keys if k.rsplit(":", 1)[1].isdigit()]
    return max(seen, default=0) + 1


def _notify_assigned(s, ctx: Ctx, task: Task) -> None:
    _notify(s, ctx, task, task.assignee, "assigned", "tasks.dm_assigned", by=mention(ctx.actor.user_id),
            buttons=True)


def _notify(s, ctx: Ctx, task: Task, user_id: str, kind: str, key: str, *, buttons: bool = False,
            **args) -> None:
    lang, tz = _recipient(s, ctx, user_id)
    head = t(lang, key, id=task.id, title=task.title, team=ctx.team.name, **args)
    parts: list = [Text(head), _details(task, tz, lang)]
    if buttons:
        parts.append(_buttons(task, lang))
    prefix = f"task:{task.id}:{kind}"
    ctx.send(Outgoing(destination=f"user:{user_id}",
                      reply=Reply(parts=tuple(parts), private=False, summary=head),
                      dedupe_key=f"{prefix}:{_next_seq(s, ctx, prefix)}"))
