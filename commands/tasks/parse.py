"""/task text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from commands.core import paging, parsing, suggest
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword, split_head

MAX_TITLE = 200
MAX_NOTE = 2000
LIST_LIMIT = 30
SNOOZE = timedelta(days=1)
#: Task ids are INTEGER columns; a bigger number can't be an id (and must not reach the database).
MAX_ID = 2**31 - 1


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
    page: int = 1  # `page N` (commands/core/paging.py): LIST_LIMIT rows a page, a More button for the next


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
    "cancel": ("cancel", "取消", "作废", "撤销", "撤消"),
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
        return parsing.parse_due(text, ctx.now, ctx.tz, calendar=ctx.calendar)
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
        return _parse_list(rest, ctx)
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
        words = leftover.strip(_TRIM).split()
        if not mentions and words and words[0].casefold() in ("to", "给"):
            words = words[1:]
        if not mentions and len(words) == 1:
            # A member named without @ ('/task assign 3 李雷'): run() checks the name against the team.
            return AssignTask(task_id, _who(parsing.Mention(None, words[0], words[0])))
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


def _parse_list(rest: str, ctx: Ctx) -> ListTasks:
    page, rest = paging.take_page(rest, "tasks.example_list")
    if page != 1:
        return replace(_parse_list(rest, ctx), page=page)
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
        guess = suggest.closest(leftover, [a for names in SCOPES.values() for a in names])
        if guess is None and len(leftover.split()) == 1:
            # A member named without @ ('/task list 李雷'): run() checks the name against the team.
            return ListTasks("user", parsing.Mention(None, leftover, leftover))
        raise UsageError("tasks.bad_scope", value=leftover, example="tasks.example_list").suggesting(guess)
    return ListTasks(scope)
