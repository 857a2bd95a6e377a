"""/activity text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import split_head

MAX_NAME = 120
MAX_COUNT = 10**9
MAX_BUDGET = 10**12
MAX_ID = 2**31 - 1
EXAMPLE = "activities.example"


@dataclass(frozen=True)
class AddActivity:
    name: str
    day: date
    budget: int | None = None


@dataclass(frozen=True)
class RecordResult:
    activity_id: int
    participants: int
    leads: int | None = None


@dataclass(frozen=True)
class ListActivities:
    pass


@dataclass(frozen=True)
class ShowHelp:
    pass


KEYWORDS = {
    "add": ("add", "new", "create", "plan", "新建", "添加", "创建", "新增", "登记"),
    "result": ("result", "results", "outcome", "结果", "效果", "复盘", "录入"),
    "list": ("list", "ls", "all", "列表", "清单", "全部"),
    "help": ("help", "帮助", "?"),
}
BUDGET_KEYS = ("budget", "cost", "预算", "费用", "经费", "成本")
PARTICIPANT_KEYS = ("participants", "participant", "attendees", "attendance", "people", "参与人数", "参与",
                    "人数", "参会人数", "到场人数", "到场", "参加人数")
LEAD_KEYS = ("leads", "lead", "线索", "线索数", "留资", "商机")
_ID = re.compile(r"#?(\d+)")
_TRIM = " \t\n,，;；:：、。"
_PAST = {"昨天": -1, "昨日": -1, "前天": -2, "yesterday": -1, "今天": 0, "今日": 0, "today": 0}
#: Where a date may start inside a word typed without a space ("华南展会12月20日").
_DATE_START = re.compile(r"\d|今|明|后天|昨|前天|下周|本周|这周|下个?月|本月")
_YEAR = re.compile(r"\d{4}")


def parse(text: str, ctx: Ctx):
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example(EXAMPLE) from None


def _parse(text: str, ctx: Ctx):
    if not text:
        return ListActivities()
    kw, head, rest = split_head(text, KEYWORDS)
    if kw is None:
        raise UsageError("activities.unknown_keyword", word=head, example=EXAMPLE)
    if kw == "help":
        return ShowHelp()
    if kw == "list":
        if rest.strip(_TRIM):
            raise UsageError("activities.unexpected_text", text=rest.strip(_TRIM), example="activities.example_list")
        return ListActivities()
    if kw == "add":
        return _parse_add(rest, ctx)
    return _parse_result(rest)


def _key(key: str, keys: tuple[str, ...]) -> bool:
    return key.casefold() in keys


#: What may follow a count: 120人, 15条, 3家.
_UNITS = "人名位个条家次"


def _count(raw: str, example: str, *, limit: int = MAX_COUNT) -> int:
    raw = raw.strip(_TRIM)
    if limit == MAX_COUNT and len(raw) > 1 and raw[-1] in _UNITS and raw[-2].isdigit():
        raw = raw[:-1]
    try:
        a = parsing.parse_amount(raw)
    except UsageError:
        raise UsageError("activities.bad_count", value=raw, example=example) from None
    if a.percent or a.value < 0 or a.value != int(a.value):
        raise UsageError("activities.bad_count", value=raw, example=example)
    if a.value > limit:
        raise UsageError("activities.too_big", value=raw, example=example)
    return int(a.value)


def _no_loose_pairs(words: str, keys: tuple[str, ...], example: str) -> None:
    """'预算 5万' or 'participants 120' (a key and its value without '='): refused with the pair to write."""
    tokens = words.split()
    for i, tok in enumerate(tokens):
        low = parsing._nfkc(tok).casefold().strip(_TRIM)
        value = tokens[i + 1] if i + 1 < len(tokens) else ""
        if low in keys and value and parsing.is_amount(parsing._nfkc(value).strip(_TRIM)):
            raise UsageError("activities.write_pair", name=tok, value=value, example=example)
        for key in sorted(keys, key=len, reverse=True):  # '预算5万', '参与人数120'
            if not key.isascii() and low.startswith(key) and parsing.is_amount(low[len(key):]):
                raise UsageError("activities.write_pair", name=key, value=tok[len(key):], example=example)


def _parse_add(rest: str, ctx: Ctx) -> AddActivity:
    example = "activities.example_add"
    words, pairs = parsing.split_pairs(rest)
    budget = None
    for key, value in pairs:
        if not _key(key, BUDGET_KEYS):
            raise UsageError("activities.unknown_key_add", name=key, example=example)
        if budget is not None:
            raise UsageError("activities.key_twice", name=key, example=example)
        budget = _count(value, example, limit=MAX_BUDGET)
    _no_loose_pairs(words, BUDGET_KEYS, example)
    words = words.strip(_TRIM)
    if not words:
        raise UsageError("activities.add_empty", example=example)
    name, day = _split_name_day(words, ctx, example)
    if len(name) > MAX_NAME:
        raise UsageError("activities.name_too_long", max=MAX_NAME, example=example)
    return AddActivity(name=name, day=day, budget=budget)


def _split_name_day(text: str, ctx: Ctx, example: str) -> tuple[str, date]:
    """'华南展会 12月20日' -> ('华南展会', 2026-12-20): the longest ending that reads as a day."""
    words = text.split()
    first_error: UsageError | None = None
    for i in range(1, len(words)):
        try:
            return " ".join(words[:i]).strip(_TRIM), parse_day(" ".join(words[i:]), ctx)
        except UsageError as e:
            if e.key == "parse.past_date" or (first_error is None and i == len(words) - 1):
                first_error = e
    last = words[-1]
    for m in _DATE_START.finditer(last):
        if m.start() == 0 and len(words) == 1:
            continue
        try:
            day = parse_day(last[m.start():], ctx)
        except UsageError:
            continue
        name = " ".join([*words[:-1], last[:m.start()]]).strip(_TRIM)
        if name:
            return name, day
    if len(words) == 1:
        try:
            parse_day(text, ctx)
        except UsageError:
            raise UsageError("activities.date_required", example=example) from None
        raise UsageError("activities.name_required", example=example)
    if first_error is not None and first_error.key != "parse.bad_date":
        raise first_error.with_example(example)
    raise UsageError("activities.date_required", example=example)


def parse_day(text: str, ctx: Ctx) -> date:
    """The day an activity is on: a coming one (the due-date grammar) or one that happened (昨天,
    2026-11-20, 11月20日 of this year)."""
    today = ctx.local_now.date()
    low = parsing._nfkc(text).casefold().strip()
    if low in _PAST:
        return today + timedelta(days=_PAST[low])
    try:
        return _date(text, ctx.now, ctx)
    except UsageError as e:
        if e.key != "parse.past_date":
            raise
        past = e
    # Read it as someone would have some months ago: the latest reading that is not after today.
    starts = [ctx.now - relativedelta(months=n) for n in (1, 2, 3, 4, 6, 9, 12)]
    if _YEAR.search(low):
        starts.append(datetime(1990, 1, 1, tzinfo=ctx.tz))
    for start in starts:
        try:
            d = _date(text, start, ctx)
        except UsageError:
            continue
        if d <= today:
            return d
    raise past


def _date(text: str, now: datetime, ctx: Ctx) -> date:
    due = parsing.parse_due(text, now, ctx.tz, default_time=time(23, 59), calendar=ctx.calendar)
    return due.astimezone(ctx.tz).date()


def _parse_result(rest: str) -> RecordResult:
    example = "activities.example_result"
    word, _, after = rest.partition(" ")
    if not word:
        raise UsageError("activities.id_required", example=example)
    m = _ID.match(word)
    if m is None or len(m.group(1)) > 12:
        raise UsageError("activities.bad_id", value=word, example=example)
    activity_id = int(m.group(1))
    words, pairs = parsing.split_pairs((word[m.end():] + " " + after).strip())
    _no_loose_pairs(words, PARTICIPANT_KEYS + LEAD_KEYS, example)
    participants = leads = None
    for key, value in pairs:
        if _key(key, PARTICIPANT_KEYS):
            if participants is not None:
                raise UsageError("activities.key_twice", name=key, example=example)
            participants = _count(value, example)
        elif _key(key, LEAD_KEYS):
            if leads is not None:
                raise UsageError("activities.key_twice", name=key, example=example)
            leads = _count(value, example)
        else:
            raise UsageError("activities.unknown_key_result", name=key, example=example)
    if words.strip(_TRIM):
        raise UsageError("activities.unexpected_text", text=words.strip(_TRIM), example=example)
    if participants is None:
        raise UsageError("activities.participants_required", example=example)
    return RecordResult(activity_id=activity_id, participants=participants, leads=leads)
