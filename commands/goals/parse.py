"""/goal text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword

ACHIEVABLE_FACTOR = 2.0
LOOKBACK = 6
MAX_ID = 2**31 - 1
MAX_REASON = 500
CALENDAR_KINDS = ("week", "month", "quarter", "year")

KEYWORDS = {
    "set": ("set", "add", "new", "设定", "设置", "设立", "制定", "新建"),
    "list": ("list", "ls", "show", "列表", "查看"),
    "review": ("review", "回顾", "复盘", "检查"),
    "adjust": ("adjust", "change", "update", "调整", "修改"),
    "history": ("history", "log", "历史", "记录"),
}
RECURRING = {
    "weekly": "week", "every week": "week", "每周": "week", "每星期": "week",
    "monthly": "month", "every month": "month", "每月": "month", "每个月": "month",
    "quarterly": "quarter", "every quarter": "quarter", "每季度": "quarter", "每季": "quarter",
    "yearly": "year", "annually": "year", "annual": "year", "every year": "year", "每年": "year",
}
DEADLINE_WORDS = ("by", "before", "until", "deadline", "截止", "截至", "截止到", "之前", "前")
FOR_WORDS = ("for", "为", "给")
TEAM_WORDS = ("team", "团队", "全队", "全组", "小组")
REASON_WORDS = ("because", "since", "reason", "因为", "原因", "理由")


# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetGoal:
    #: The words naming the metric, as typed (None: none given).
    metric: str | None
    target: parsing.Amount | None
    relative: bool
    period: parsing.Period | None = None
    recurring: str | None = None
    #: Last day (local) of a deadline goal.
    deadline: date | None = None
    who: parsing.Mention | None = None
    team: bool = False

    @property
    def timed(self) -> bool:
        return self.period is not None or self.recurring is not None or self.deadline is not None


@dataclass(frozen=True)
class ListGoals:
    pass


@dataclass(frozen=True)
class ReviewGoals:
    pass


@dataclass(frozen=True)
class AdjustGoal:
    goal_id: int
    target: parsing.Amount
    reason: str


@dataclass(frozen=True)
class GoalHistory:
    goal_id: int


# -- parsing -----------------------------------------------------------------------------------


def parse(text: str, ctx: Ctx):
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example("goals.example") from None


def _parse(text: str, ctx: Ctx):
    if not text:
        return ListGoals()
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    kw = keyword(head, KEYWORDS)
    if kw is None:
        for name in sorted((n for ns in KEYWORDS.values() for n in ns if not n.isascii()), key=len, reverse=True):
            if text.startswith(name):
                kw, rest = keyword(name, KEYWORDS), text[len(name):].strip()
                break
    if kw is None:
        raise UsageError("goals.unknown_keyword", word=head, example="goals.example")
    if kw in ("list", "review"):
        if rest:
            raise UsageError("goals.unexpected_text", text=rest, example=f"goals.example_{kw}")
        return ListGoals() if kw == "list" else ReviewGoals()
    if kw == "set":
        return _parse_set(rest, ctx)
    goal_id, rest = _take_id(rest, f"goals.example_{kw}")
    if kw == "history":
        if rest:
            raise UsageError("goals.unexpected_text", text=rest, example="goals.example_history")
        return GoalHistory(goal_id)
    return _parse_adjust(goal_id, rest)


def _take_id(rest: str, example: str) -> tuple[int, str]:
    word, _, after = rest.partition(" ")
    digits = word.lstrip("#")
    if not word:
        raise UsageError("goals.id_required", example=example)
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise UsageError("goals.bad_id", value=word, example=example)
    return int(digits), after.strip()


def _parse_adjust(goal_id: int, rest: str) -> AdjustGoal:
    example = "goals.example_adjust"
    words = rest.split()
    idx = next((i for i, w in enumerate(words) if w.casefold().strip(",，") in REASON_WORDS), None)
    if idx is None:
        # "调整 3 150万因为客户延期": a Chinese reason word glued to the number.
        for i, w in enumerate(words):
            for rw in REASON_WORDS:
                if not rw.isascii() and rw in w and not w.startswith(rw):
                    a, _, b = w.partition(rw)
                    words = words[:i] + [a, rw] + ([b] if b else []) + words[i + 1:]
                    idx = i + 1
                    break
            if idx is not None:
                break
    if idx is None:
        raise UsageError("goals.reason_required", example=example)
    amount_words, reason = words[:idx], " ".join(words[idx + 1:]).strip(" ,，:：")
    if len(amount_words) != 1:
        raise UsageError("goals.target_required", example=example)
    if not reason:
        raise UsageError("goals.reason_required", example=example)
    if len(reason) > MAX_REASON:
        raise UsageError("goals.reason_too_long", max=MAX_REASON, example=example)
    raw = amount_words[0].strip(",，")
    amount = parsing.parse_amount(raw)
    if _is_relative(raw, amount):
        raise UsageError("goals.adjust_absolute", example=example)
    return AdjustGoal(goal_id=goal_id, target=amount, reason=reason)


def _is_relative(raw: str, amount: parsing.Amount) -> bool:
    s = parsing._nfkc(raw).strip()
    return amount.percent and s[:1] in "+-−"


def _parse_set(rest: str, ctx: Ctx) -> SetGoal:
    example = "goals.example_set"
    mentions, rest = parsing.take_mentions(rest)
    if len(mentions) > 1:
        raise UsageError("goals.one_person", example=example)
    words = [w for w in rest.split() if w]
    team = False
    kept: list[str] = []
    for i, w in enumerate(words):
        low = w.casefold()
        if low in FOR_WORDS or (low == "the" and i + 1 < len(words) and words[i + 1].casefold() in TEAM_WORDS):
            continue
        if low in TEAM_WORDS or (low[:1] in ("为", "给") and low[1:] in TEAM_WORDS):
            team = True
            continue
        kept.append(w)
    words = kept
    if team and mentions:
        raise UsageError("goals.team_or_person", example=example)

    deadline = None
    recurring = None
    period = None
    # a deadline: "by <date>" / "截止 <date>" / "<date>前"
    idx = next((i for i, w in enumerate(words) if w.casefold() in DEADLINE_WORDS), None)
    if idx is not None:
        date_text = " ".join(words[idx + 1:])
        if not date_text:
            raise UsageError("goals.deadline_date_required", example="goals.example_deadline")
        deadline = _deadline(date_text, ctx)
        words = words[:idx]
    else:
        for i, w in enumerate(words):
            if len(w) > 1 and w.endswith(("前", "之前", "以前")) and not w.startswith(("前", "之前", "以前")):
                deadline = _deadline(w, ctx)
                words = words[:i] + words[i + 1:]
                break
    if deadline is None:
        recurring, words = _take_recurring(words)
    if deadline is None and recurring is None:
        period, words = _take_period(words, ctx)
        if period is not None and period.kind == "day":
            deadline, period = period.start.date(), None
            if _day_end(deadline, ctx) <= ctx.now:
                raise UsageError("goals.period_over", period=deadline.isoformat(), example=example)
        if period is not None and period.end <= ctx.now:
            raise UsageError("goals.period_over", period=fmt.period_label(period, ctx.lang), example=example)

    target = None
    relative = False
    for i in range(len(words) - 1, -1, -1):
        try:
            amount = parsing.parse_amount(words[i])
        except UsageError:
            continue
        target, relative = amount, _is_relative(words[i], amount)
        words = words[:i] + words[i + 1:]
        break
    metric = " ".join(words).strip(" ,，") or None
    if relative and deadline is not None:
        raise UsageError("goals.relative_needs_period", example="goals.example_relative")
    if target is not None and not relative and target.value <= 0:
        raise UsageError("goals.target_positive", example=example)
    who = mentions[0] if mentions else None
    return SetGoal(metric=metric, target=target, relative=relative, period=period, recurring=recurring,
                   deadline=deadline, who=who, team=team)


def _deadline(text: str, ctx: Ctx) -> date:
    due = parsing.parse_due(text, ctx.now, ctx.tz, default_time=time(23, 59))
    return due.astimezone(ctx.tz).date()


def _day_end(d: date, ctx: Ctx) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), ctx.tz)


def _take_recurring(words: list[str]) -> tuple[str | None, list[str]]:
    for n in (2, 1):
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i:i + n]).casefold()
            if phrase in RECURRING:
                return RECURRING[phrase], words[:i] + words[i + n:]
    return None, words


def _take_period(words: list[str], ctx: Ctx) -> tuple[parsing.Period | None, list[str]]:
    """The longest run of up to 3 words that reads as a period, preferring the end of the text."""
    for n in (3, 2, 1):
        for i in range(len(words) - n, -1, -1):
            phrase = " ".join(words[i:i + n])
            if n == 1 and _looks_like_amount(phrase):
                continue
            try:
                p = parsing.parse_period(phrase, ctx.now, ctx.tz)
            except UsageError:
                continue
            return p, words[:i] + words[i + n:]
    # a bare year ("2026") is also a number: only a period when another word is the target
    for i in range(len(words) - 1, -1, -1):
        if len(words[i]) == 4 and words[i].isdigit() and sum(_looks_like_amount(w) for w in words) > 1:
            try:
                return parsing.parse_period(words[i], ctx.now, ctx.tz), words[:i] + words[i + 1:]
            except UsageError:
                continue
    return None, words


def _looks_like_amount(word: str) -> bool:
    try:
        parsing.parse_amount(word)
        return True
    except UsageError:
        return False
