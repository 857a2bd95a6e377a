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
SELF_WORDS = ("me", "myself", "self", "我", "自己", "本人", "我自己")
# How a target is written in words (the guide's own wording: 增长20%, 每月增长10%, 提升至90%以上).
# Longest first: '提升至' is a threshold, '提升' a change.
TO_WORDS = ("提升至", "提升到", "提高至", "提高到", "增长至", "增长到", "增加至", "增加到", "上升至", "上升到",
            "达到", "不低于", "至少", "保持在", "保持", "至", "到", "to at least", "at least", "reach", "to")
UP_WORDS = ("增长", "增加", "提升", "提高", "上升", "上涨", "环比增长", "grow by", "grow", "increase by", "increase",
            "raise by", "raise", "up by", "up", "plus")
DOWN_WORDS = ("下降", "降低", "减少", "下调", "环比下降", "decrease by", "decrease", "reduce by", "reduce", "cut by",
              "cut", "down by", "down", "minus")
AT_LEAST_SUFFIXES = ("及以上", "或以上", "以上", "or more", "or above", "+")
REASON_WORDS = ("because", "since", "reason", "因为", "原因", "理由")


# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetGoal:
    #: The words naming the metric, as typed (None: none given).
    metric: str | None
    target: parsing.Amount | None
    #: The target is a change on the previous period: a percentage ('+20%', '增长20%') or, with
    #: `delta`, an amount ('增长20万').
    relative: bool
    period: parsing.Period | None = None
    recurring: str | None = None
    #: Last day (local) of a deadline goal.
    deadline: date | None = None
    who: parsing.Mention | None = None
    team: bool = False
    #: `for me` / `为我`: the caller's own goal, said explicitly.
    mine: bool = False
    delta: bool = False
    #: The target as typed, to echo in hints ('150万', '1.5m').
    typed: str = ""

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
    words, team, mine, mentions = _take_scope([w for w in rest.split() if w], mentions)
    if team and mentions:
        raise UsageError("goals.team_or_person", example=example)
    if mine and (team or mentions):
        raise UsageError("goals.team_or_person", example=example)
    words, sign, at_least = _target_words(words)
    words, deadline, recurring, period = _take_time(words, ctx)
    words, target, relative, delta, typed = _take_target(words, sign, at_least)
    metric = " ".join(words).strip(" ,，") or None
    if relative and deadline is not None:
        raise UsageError("goals.relative_needs_period", example="goals.example_relative")
    if target is not None and not relative and target.value <= 0:
        raise UsageError("goals.target_positive", example=example)
    who = mentions[0] if mentions else None
    return SetGoal(metric=metric, target=target, relative=relative, period=period, recurring=recurring,
                   deadline=deadline, who=who, team=team, mine=mine, delta=delta, typed=typed)


def _take_scope(words: list[str], mentions: list) -> tuple[list[str], bool, bool, list]:
    """Whose goal: 'for team' / 为团队, 'for me' / 为自己, 'for li' / 为李雷 (a member named without @).
    -> (the other words, team, mine, mentions)."""
    team = mine = False
    kept: list[str] = []
    for i, w in enumerate(words):
        low = w.casefold()
        after_for = i > 0 and words[i - 1].casefold() in FOR_WORDS
        if low in FOR_WORDS or (low == "the" and i + 1 < len(words) and words[i + 1].casefold() in TEAM_WORDS):
            continue
        if low in TEAM_WORDS or (low[:1] in ("为", "给") and low[1:] in TEAM_WORDS):
            team = True
            continue
        if (after_for and low in SELF_WORDS) or (low[:1] in ("为", "给") and low[1:] in SELF_WORDS):
            mine = True
            continue
        if after_for and not mentions and not parsing.parse_mention(w) and not _looks_like_amount(w):
            # 'for li' / '为 李雷': a member named without @; run() checks the name against the team.
            mentions = [parsing.Mention(None, w, w)]
            continue
        if low[:1] in ("为", "给") and len(w) > 1 and not mentions and not w.isascii() \
                and not _target_phrase(w[1:]) and not parsing.parse_mention(w[1:]):
            # '为李雷': the same, glued.
            mentions = [parsing.Mention(None, w[1:], w[1:])]
            continue
        kept.append(w)
    return kept, team, mine, mentions


def _take_time(words: list[str], ctx: Ctx):
    """The goal's time: a deadline ('by <date>', 截止 <date>, <date>前), a recurrence (monthly) or a
    calendar period (2026-Q4; a single day is a deadline). -> (the other words, deadline, recurring,
    period)."""
    deadline = recurring = period = None
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
                raise UsageError("goals.period_over", period=deadline.isoformat(), example="goals.example_set")
        if period is not None and period.end <= ctx.now:
            raise UsageError("goals.period_over", period=fmt.period_label(period, ctx.lang),
                             example="goals.example_set")
    return words, deadline, recurring, period


def _take_target(words: list[str], sign, at_least: bool):
    """The target: the last word that is an amount, made a change when a word like 增长 came before it.
    -> (the other words, target, relative, delta, the target as typed)."""
    target = None
    relative = delta = False
    typed = ""
    for i in range(len(words) - 1, -1, -1):
        try:
            amount = parsing.parse_amount(words[i])
        except UsageError:
            continue
        target, relative, typed = amount, _is_relative(words[i], amount), words[i]
        words = words[:i] + words[i + 1:]
        break
    if sign and target is None:
        # '增长' with something that is not a number after it: name it.
        raise UsageError("goals.change_needs_number", example="goals.example_relative")
    if sign and target is not None:
        if relative or target.value < 0:
            raise UsageError("parse.bad_amount", value=typed, example="goals.example_relative")
        relative, delta = True, not target.percent
        target = parsing.Amount(sign * target.value, target.percent)
    if at_least and relative:
        raise UsageError("parse.bad_amount", value=typed, example="goals.example_set")
    return words, target, relative, delta, typed


def _starts_threshold(words: list[str]) -> bool:
    """Whether `words` begin with a threshold phrase ('to', 'to at least', '至', '达到')."""
    low = [parsing._nfkc(x).casefold() for x in words]
    return any(low[:len(p.split())] == p.split() for p in TO_WORDS)


def _target_words(words: list[str]) -> tuple[list[str], int, bool]:
    """Targets written in words -> (the words with those taken out, +1/-1 for a change on the
    previous period (0: none), whether a threshold was written). '增长20%' and 'grow 20%' are +20%,
    '下降10%' -10%, '每月增长10%' a monthly +10%, '提升至90%以上' / 'to at least 90%' the target 90%."""
    out: list[str] = []
    sign, at_least = 0, False
    words = [part for w in words for part in _split_glued(w)]
    i = 0
    while i < len(words):
        w = words[i]
        low = parsing._nfkc(w).casefold()
        # '每月增长10%': the recurrence glued to the rest.
        glued = next((r for r in sorted(RECURRING, key=len, reverse=True)
                      if not r.isascii() and low.startswith(r) and len(low) > len(r)), None)
        if glued is not None:
            out.append(w[:len(glued)])
            words = words[:i] + [w[len(glued):]] + words[i + 1:]
            continue
        # Multi-word English phrases ('to at least', 'increase by') and single words.
        matched = False
        for table, kind in ((TO_WORDS, "to"), (UP_WORDS, "up"), (DOWN_WORDS, "down")):
            for phrase in sorted(table, key=len, reverse=True):
                parts = phrase.split()
                if [parsing._nfkc(x).casefold() for x in words[i:i + len(parts)]] == parts:
                    rest_word = ""
                elif len(parts) == 1 and not phrase.isascii() and low.startswith(phrase) \
                        and _amount_with_suffix(low[len(phrase):]):
                    rest_word, parts = w[len(phrase):], [phrase]
                else:
                    continue
                if kind == "to":
                    at_least = True
                elif not rest_word and _starts_threshold(words[i + len(parts):]):
                    pass  # 'raise to 90%', 'increase to at least 92%': the 'to' that follows makes it a threshold
                else:
                    sign = 1 if kind == "up" else -1
                    following = words[i + len(parts)] if not rest_word and i + len(parts) < len(words) else ""
                    if following and not _amount_with_suffix(parsing._nfkc(following).casefold()) \
                            and not _is_period_word(following):
                        # 'grow lots': the word where the change should be is not a number.
                        raise UsageError("parse.bad_amount", value=following, example="goals.example_relative")
                i += len(parts) if not rest_word else 1
                if rest_word:
                    words = words[:i] + [rest_word] + words[i:]
                matched = True
                break
            if matched:
                break
        if matched:
            continue
        for suffix in AT_LEAST_SUFFIXES:
            if low.endswith(suffix) and len(low) > len(suffix) and _looks_like_amount(low[: -len(suffix)]):
                w, at_least = w[: len(w) - len(suffix)], True
                break
        if low in ("以上", "及以上", "or more", "or above") and out and _looks_like_amount(out[-1]):
            at_least = True
            i += 1
            continue
        out.append(w)
        i += 1
    return out, sign, at_least


def _deadline(text: str, ctx: Ctx) -> date:
    due = parsing.parse_due(text, ctx.now, ctx.tz, default_time=time(23, 59), calendar=ctx.calendar)
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


_GLUED_WORDS = sorted((p for p in (*TO_WORDS, *UP_WORDS, *DOWN_WORDS) if not p.isascii()), key=len, reverse=True)


def _split_glued(word: str) -> list[str]:
    """'年底前达到90%' -> ['年底前', '达到90%'], '本季度增长20%' -> ['本季度', '增长20%'],
    '客户满意度提升至90%' -> ['客户满意度', '提升至90%']: a target word glued after other words."""
    if any(word.startswith(p) for p in _GLUED_WORDS):
        return [word]
    for phrase in _GLUED_WORDS:
        i = word.find(phrase)
        if i > 0 and _amount_with_suffix(parsing._nfkc(word[i + len(phrase):]).casefold()):
            return [*_split_glued(word[:i]), word[i:]]
    return [word]


def _target_phrase(word: str) -> bool:
    return any(word.startswith(p) for p in _GLUED_WORDS) or _looks_like_amount(word)


def _is_period_word(word: str) -> bool:
    low = word.casefold()
    return low in RECURRING or low in ("every", "each") or parsing._nfkc(low)[:1].isdigit()


def _amount_with_suffix(word: str) -> bool:
    """'20%', '90%以上': what may follow a target word glued to it."""
    for suffix in AT_LEAST_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            word = word[: -len(suffix)]
            break
    return _looks_like_amount(word)


def _looks_like_amount(word: str) -> bool:
    return parsing.is_amount(word)
