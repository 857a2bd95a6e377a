"""/goal (目标): SMART goals for a member or the team -- set, list, review, adjust, history.

Grammar (keywords case-insensitive; Chinese aliases after the slash):

    set/设定 <metric> <target> <period> [for @user | for team]     为 @李雷 / 为团队
        target:  1.2m, 50万, 90%          absolute
                 +20%, -10%               relative to the previous period's actual (fixed at set time)
        period:  2026-Q4, 2026-11, 本季度, next month, 2026 ...   one calendar period
                 weekly/monthly/quarterly/yearly, 每周/每月/每季度/每年   every such period (recurring)
                 by 2026-12-31, 截止 12月31日, 12月31日前          a deadline (from today to that day)
        order is free: "sales 2026-Q4 1.2m" works too.
    list/列表                                      the team's current and future goals
    review/回顾                                    actual vs target, pace and forecast of each current goal
    adjust/调整 <id> <target> because/因为 <reason>  a new target; the old one and the reason are kept
    history/历史 <id>                               a goal and every revision of it

SMART check (set): S/R -- a metric the team tracks; M -- a number; T -- a period or a deadline. A goal
missing any of them is refused, naming the letters and what to add. A: a target more than
ACHIEVABLE_FACTOR x the best of the last LOOKBACK periods is saved with a warning.

Permissions: anyone sets their own goals; a manager sets team goals and goals for others. The
goal's owner or a manager adjusts it (team goals: a manager).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from commands.core import fmt, parsing, workdays
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.keywords import keyword
from commands.core.metrics import metric_name, names_of, team_metrics
from commands.core.people import member_of, mention, require_member, resolve_person
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from storage import queries
from storage.models import Goal, GoalRevision, Metric, Team
from storage.uow import UnitOfWork

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


# -- windows: the period a goal is measured over -------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    kind: str  # week | month | quarter | year | deadline

    def period(self) -> parsing.Period:
        return parsing.Period(self.start, self.end, self.kind, "")


def window(goal: Goal, at: datetime, tz) -> Window:
    """The period `goal` is measured over at time `at` (its current one when recurring)."""
    if goal.recurring:
        p = parsing.period_of(goal.kind, at, tz)
        return Window(p.start, p.end, p.kind)
    return Window(goal.period_start.astimezone(tz), goal.period_end.astimezone(tz), goal.kind)


def previous_windows(w: Window, tz, n: int) -> list[Window]:
    """The n windows just before w: previous calendar periods, or equally long spans for a deadline."""
    out: list[Window] = []
    if w.kind in CALENDAR_KINDS:
        p = parsing.Period(w.start, w.end, w.kind, "")
        for _ in range(n):
            p = parsing.previous(p, tz)
            out.append(Window(p.start, p.end, p.kind))
        return out
    length = (w.end.date() - w.start.date()).days
    end = w.start.date()
    for _ in range(n):
        start = end - timedelta(days=length)
        out.append(Window(datetime.combine(start, time(0), tz), datetime.combine(end, time(0), tz), w.kind))
        end = start
    return out


def label(goal: Goal, tz, lang: str) -> str:
    if goal.recurring:
        return t(lang, f"goals.every_{goal.kind}")
    if goal.kind == "deadline":
        last = (goal.period_end.astimezone(tz) - timedelta(days=1)).date()
        return t(lang, "goals.by_day", day=fmt.day(last, lang))
    w = window(goal, goal.period_start, tz)
    return fmt.period_label(parsing.Period(w.start, w.end, w.kind, ""), lang)


def target_for(s, team_id: int, metric_id: int, user_id: str | None, period: parsing.Period) -> Goal | None:
    """The goal that sets the target of one metric for the team (user_id None) or a person in a
    calendar period: a goal for exactly that period, else a recurring goal of that kind."""
    if period.kind not in CALENDAR_KINDS:
        return None
    q = select(Goal).where(Goal.team_id == team_id, Goal.metric_id == metric_id, Goal.kind == period.kind,
                           Goal.status == "active",
                           Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id)
    rows = list(s.scalars(q.order_by(Goal.id.desc())))
    exact = [g for g in rows if not g.recurring and g.period_start == period.start]
    if exact:
        return exact[0]
    recurring = [g for g in rows if g.recurring and g.created_at < period.end]
    return recurring[0] if recurring else None


def targets_for(s, team_id: int, user_id: str | None, period: parsing.Period) -> dict[int, Goal]:
    """metric id -> goal, for every metric with a target for that scope and period."""
    if period.kind not in CALENDAR_KINDS:
        return {}
    q = select(Goal).where(Goal.team_id == team_id, Goal.kind == period.kind, Goal.status == "active",
                           Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id)
    out: dict[int, Goal] = {}
    for g in sorted(s.scalars(q), key=lambda g: (not g.recurring, g.id)):
        if g.recurring and g.created_at < period.end:
            out[g.metric_id] = g
        elif not g.recurring and g.period_start == period.start:
            out[g.metric_id] = g  # an exact goal wins over a recurring one
    return out


def user_targets(s, team_id: int, period: parsing.Period) -> dict[tuple[str, int], float]:
    """(user id, metric id) -> target, for every member with a goal in that calendar period."""
    if period.kind not in CALENDAR_KINDS:
        return {}
    q = select(Goal).where(Goal.team_id == team_id, Goal.kind == period.kind, Goal.status == "active",
                           Goal.user_id.is_not(None))
    out: dict[tuple[str, int], float] = {}
    for g in sorted(s.scalars(q), key=lambda g: (not g.recurring, g.id)):
        if (g.recurring and g.created_at < period.end) or (not g.recurring and g.period_start == period.start):
            out[(g.user_id, g.metric_id)] = g.target
    return out


# -- numbers shared with /kpi, the agenda and the summaries -------------------------------------------


def pct(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{fmt.number(round(x, 1))}%"


def attainment(actual: float | None, target: float | None) -> float | None:
    if actual is None or target is None or target <= 0:
        return None
    return 100.0 * actual / target


def upto(now: datetime) -> datetime:
    """The exclusive end of "everything until now", now included (a value logged this very instant counts)."""
    return now + timedelta(microseconds=1)


@dataclass(frozen=True)
class Progress:
    """How far a goal is, measured in working days of the team's calendar."""
    actual: float | None
    target: float
    attainment: float | None
    #: Where a straight line from 0 to the target would be by today (sum metrics; else the target).
    expected: float
    forecast: float | None
    elapsed: int
    total: int


def progress_of(s, goal: Goal, metric: Metric, team: Team, now: datetime, tz) -> tuple[Window, Progress]:
    w = window(goal, now, tz)
    # Never past `now`: a late (catch-up) scheduled run counts what the on-time run would have.
    actual = queries.actuals(s, team.id, [metric], w.start, min(w.end, upto(now)),
                             user_id=goal.user_id).get(metric.id)
    if metric.aggregation == queries.SUM:
        actual = actual or 0.0
    cal = workdays.calendar_for(team.calendar)
    start_d, end_d = w.start.date(), w.end.date()
    today = now.astimezone(tz).date()
    total = cal.workdays(start_d, end_d)
    elapsed = cal.workdays(start_d, min(today + timedelta(days=1), end_d))
    if metric.aggregation == queries.SUM:
        expected = goal.target * (elapsed / total) if total else goal.target
        forecast = (actual or 0.0) * total / elapsed if elapsed else actual
    else:
        expected, forecast = goal.target, actual
    return w, Progress(actual, goal.target, attainment(actual, goal.target), expected, forecast, elapsed, total)


# -- running -----------------------------------------------------------------------------------


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example("goals.example") from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    s = uow.session
    if isinstance(req, SetGoal):
        return _set(s, req, ctx)
    if isinstance(req, ListGoals):
        return _list(s, ctx)
    if isinstance(req, ReviewGoals):
        return review(s, ctx.team, ctx.now, ctx.tz, ctx.lang)
    goal = _load(s, ctx, req.goal_id)
    if isinstance(req, GoalHistory):
        return _history(s, goal, ctx)
    return _adjust(s, req, goal, ctx)


def _is_manager(ctx: Ctx) -> bool:
    return ctx.role == "manager"


def _load(s, ctx: Ctx, goal_id: int) -> Goal:
    goal = s.get(Goal, goal_id) if 0 < goal_id <= MAX_ID else None
    if goal is None or goal.team_id != ctx.team_id or goal.status != "active":
        raise UsageError("goals.not_found", id=goal_id, example="goals.example_list")
    return goal


def _resolve_metric(metrics: list[Metric], words: str | None) -> Metric | None:
    if not words:
        return None
    key = words.strip().casefold()
    return next((m for m in metrics if key in (n.casefold() for n in names_of(m))), None)


def smart_check(req: SetGoal, metric: Metric | None) -> list[str]:
    """The SMART letters a goal request misses: "SR" (no known metric), "M" (no number), "T" (no time)."""
    missing = []
    if metric is None:
        missing.append("SR")
    if req.target is None:
        missing.append("M")
    if not req.timed:
        missing.append("T")
    return missing


def _smart_refusal(missing: list[str], req: SetGoal, metrics: list[Metric], lang: str) -> UsageError:
    known = ", ".join(f"{m.code} / {m.name_zh}" for m in metrics)
    lines = []
    for letter in missing:
        if letter == "SR":
            key = "goals.smart_sr_unknown" if req.metric else "goals.smart_sr"
            lines.append(t(lang, key, metric=req.metric or "", known=known))
        else:
            lines.append(t(lang, f"goals.smart_{letter.lower()}"))
    letters = "/".join("S/R" if x == "SR" else x for x in missing)
    return UsageError("goals.not_smart", letters=letters, details="\n".join(lines), example="goals.example_set")


def _scope(s, req: SetGoal, ctx: Ctx) -> tuple[str | None, str]:
    """-> (user id or None for the team, how to name it)."""
    if req.team:
        if not _is_manager(ctx):
            raise Refused("goals.team_needs_manager", example="-")
        return None, t(ctx.lang, "goals.the_team")
    if req.who is None:
        return ctx.actor.user_id, mention(ctx.actor.user_id)
    user_id, _ = resolve_person(s, ctx, req.who)
    if user_id != ctx.actor.user_id:
        if not _is_manager(ctx):
            raise Refused("goals.others_need_manager", example="-")
        if member_of(s, ctx.team_id, user_id) is None:
            raise UsageError("goals.not_a_member", who=mention(user_id), example="goals.example_set")
    return user_id, mention(user_id)


def _set(s, req: SetGoal, ctx: Ctx) -> Reply:
    lang, tz, team = ctx.lang, ctx.tz, ctx.team
    metrics = team_metrics(s, team.id)
    metric = _resolve_metric(metrics, req.metric)
    missing = smart_check(req, metric)
    if missing:
        raise _smart_refusal(missing, req, metrics, lang)
    user_id, who = _scope(s, req, ctx)
    name = metric_name(metric, lang)

    if req.recurring:
        cur = parsing.period_of(req.recurring, ctx.now, tz)
        w = Window(cur.start, cur.end, cur.kind)
        kind, start, end = req.recurring, None, None
    elif req.period is not None:
        w = Window(req.period.start, req.period.end, req.period.kind)
        kind, start, end = w.kind, w.start, w.end
    else:
        start = datetime.combine(ctx.local_now.date(), time(0), tz)
        end = _day_end(req.deadline, ctx)
        w = Window(start, end, "deadline")
        kind = "deadline"

    notes: list[str] = []
    base = pct_value = None
    if req.relative:
        prev = previous_windows(w, tz, 1)[0]
        base = queries.actuals(s, team.id, [metric], prev.start, prev.end, user_id=user_id).get(metric.id)
        prev_label = fmt.period_label(prev.period(), lang)
        if not base or base <= 0:
            raise UsageError("goals.relative_no_base", metric=name, period=prev_label,
                             example="goals.example_set")
        pct_value = req.target.value
        target = base * (1 + pct_value / 100.0)
        if target <= 0:
            raise UsageError("goals.target_positive", example="goals.example_set")
        notes.append(t(lang, "goals.relative_echo", target=fmt.amount(target, metric.unit, lang),
                       base=fmt.amount(base, metric.unit, lang), period=prev_label,
                       change=("+" if pct_value >= 0 else "") + pct(pct_value)))
    else:
        target = req.target.value
        if req.target.percent and metric.unit != "%":
            raise UsageError("goals.percent_not_allowed", metric=name, example="goals.example_set")
        if metric.unit == "%" and not 0 < target <= 100:
            raise UsageError("goals.percent_range", metric=name, example="goals.example_set")

    dup_q = select(Goal).where(Goal.team_id == team.id, Goal.metric_id == metric.id, Goal.kind == kind,
                               Goal.status == "active", Goal.recurring.is_(bool(req.recurring)),
                               Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id)
    if kind != "deadline" and not req.recurring:
        dup_q = dup_q.where(Goal.period_start == start)
    if kind != "deadline":
        dup = s.scalars(dup_q).first()
        if dup is not None:
            raise Refused("goals.exists", id=dup.id, example="goals.example_adjust")

    # Achievable: compare with the best of the last LOOKBACK periods.
    history = [queries.actuals(s, team.id, [metric], p.start, p.end, user_id=user_id).get(metric.id)
               for p in previous_windows(w, tz, LOOKBACK)]
    best = max((x for x in history if x is not None), default=None)
    if best is not None and best > 0 and target > ACHIEVABLE_FACTOR * best:
        notes.append(t(lang, "goals.warn_achievable", factor=fmt.number(round(target / best, 1)),
                       best=fmt.amount(best, metric.unit, lang), n=LOOKBACK))

    goal = Goal(team_id=team.id, metric_id=metric.id, user_id=user_id, target=target, kind=kind,
                recurring=bool(req.recurring), period_start=start, period_end=end,
                basis="relative" if req.relative else "absolute", relative_pct=pct_value, base_value=base,
                created_by=ctx.actor.user_id, created_at=ctx.now, updated_at=ctx.now)
    s.add(goal)
    s.flush()
    text = t(lang, "goals.set_done", id=goal.id, who=who, metric=name,
             target=fmt.amount(target, metric.unit, lang), period=label(goal, tz, lang))
    return Reply(parts=tuple(Text(x) for x in [text, *notes]), private=False, summary=text)


def _who(goal: Goal, lang: str) -> str:
    return t(lang, "goals.the_team") if goal.user_id is None else mention(goal.user_id)


def current_goals(s, team_id: int, now: datetime) -> list[Goal]:
    """Active goals that are not over: recurring ones, and those whose period ends after now."""
    q = (select(Goal).where(Goal.team_id == team_id, Goal.status == "active")
         .where((Goal.recurring.is_(True)) | (Goal.period_end > now)))
    rows = list(s.scalars(q))
    rows.sort(key=lambda g: (g.user_id is not None, g.user_id or "", g.metric_id, g.id))
    return rows


def _revisions(s, goal_ids: list[int]) -> dict[int, int]:
    if not goal_ids:
        return {}
    q = (select(GoalRevision.goal_id, func.count()).where(GoalRevision.goal_id.in_(goal_ids))
         .group_by(GoalRevision.goal_id))
    return dict(s.execute(q).all())


def _basis(goal: Goal, metric: Metric, lang: str) -> str:
    if goal.basis != "relative":
        return t(lang, "goals.basis_absolute")
    sign = "+" if (goal.relative_pct or 0) >= 0 else ""
    return t(lang, "goals.basis_relative", change=sign + pct(goal.relative_pct),
             base=fmt.amount(goal.base_value or 0, metric.unit, lang))


def _list(s, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    goals = current_goals(s, ctx.team_id, ctx.now)
    if not goals:
        return Reply.text(t(lang, "goals.list_empty"))
    metrics = {m.id: m for m in team_metrics(s, ctx.team_id)}
    revs = _revisions(s, [g.id for g in goals])
    rows = []
    for g in goals:
        m = metrics[g.metric_id]
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), fmt.amount(g.target, m.unit, lang),
                     label(g, tz, lang), _basis(g, m, lang), str(revs.get(g.id, 0))))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "target", "period", "basis",
                                                        "revisions"))
    title = t(lang, "goals.list_title", team=ctx.team.name, count=len(goals))
    return Reply(parts=(Text(title), Table(header, tuple(rows))), summary=title)


def review_rows(s, team: Team, goals: list[Goal], now: datetime, tz, lang: str) -> list[tuple[str, ...]]:
    metrics = {m.id: m for m in team_metrics(s, team.id)}
    rows = []
    for g in goals:
        m = metrics[g.metric_id]
        w, p = progress_of(s, g, m, team, now, tz)
        if w.start > now:
            continue
        def a(v: float | None, m: Metric = m) -> str:
            return "—" if v is None else fmt.amount(v, m.unit, lang)

        if p.actual is None and m.aggregation != queries.SUM:
            status = "—"
        elif (p.actual or 0.0) >= p.expected:
            status = t(lang, "goals.on_track")
        else:
            status = t(lang, "goals.behind")
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), label(g, tz, lang), a(p.target),
                     a(p.actual if p.actual is not None or m.aggregation != queries.SUM else 0.0),
                     pct(p.attainment), a(p.expected), status, a(p.forecast)))
    return rows


def review_header(lang: str) -> tuple[str, ...]:
    return tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "period", "target", "actual",
                                                     "attainment", "expected", "status", "forecast"))


def review(s, team: Team, now: datetime, tz, lang: str) -> Reply:
    rows = review_rows(s, team, current_goals(s, team.id, now), now, tz, lang)
    if not rows:
        return Reply.text(t(lang, "goals.review_empty"))
    title = t(lang, "goals.review_title", team=team.name, day=fmt.day(now.astimezone(tz).date(), lang))
    return Reply(parts=(Text(title), Table(review_header(lang), tuple(rows)),
                        Text(t(lang, "goals.review_note"))), summary=title)


def _adjust(s, req: AdjustGoal, goal: Goal, ctx: Ctx) -> Reply:
    lang = ctx.lang
    if not _is_manager(ctx) and (goal.user_id is None or goal.user_id != ctx.actor.user_id):
        raise Refused("goals.adjust_not_allowed", id=goal.id, example="-")
    metric = s.get(Metric, goal.metric_id)
    name = metric_name(metric, lang)
    if req.target.percent and metric.unit != "%":
        raise UsageError("goals.percent_not_allowed", metric=name, example="goals.example_adjust")
    if metric.unit == "%" and not 0 < req.target.value <= 100:
        raise UsageError("goals.percent_range", metric=name, example="goals.example_adjust")
    if req.target.value <= 0:
        raise UsageError("goals.target_positive", example="goals.example_adjust")
    old = goal.target
    s.add(GoalRevision(goal_id=goal.id, old_target=old, new_target=req.target.value, reason=req.reason,
                       changed_by=ctx.actor.user_id, changed_at=ctx.now))
    goal.target = req.target.value
    goal.updated_at = ctx.now
    s.add(goal)
    s.flush()
    count = s.scalar(select(func.count()).select_from(GoalRevision).where(GoalRevision.goal_id == goal.id))
    text = t(lang, "goals.adjusted", id=goal.id, who=_who(goal, lang), metric=name,
             old=fmt.amount(old, metric.unit, lang), new=fmt.amount(goal.target, metric.unit, lang),
             reason=req.reason, count=count)
    return Reply.text(text, private=False)


def _history(s, goal: Goal, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    metric = s.get(Metric, goal.metric_id)
    revs = list(s.scalars(select(GoalRevision).where(GoalRevision.goal_id == goal.id)
                          .order_by(GoalRevision.changed_at, GoalRevision.id)))
    first = revs[0].old_target if revs else goal.target
    rows = [(fmt.when(goal.created_at, tz, lang), mention(goal.created_by), "—",
             fmt.amount(first, metric.unit, lang), t(lang, "goals.history_created"))]
    for r in revs:
        rows.append((fmt.when(r.changed_at, tz, lang), mention(r.changed_by),
                     fmt.amount(r.old_target, metric.unit, lang), fmt.amount(r.new_target, metric.unit, lang),
                     r.reason))
    title = t(lang, "goals.history_title", id=goal.id, who=_who(goal, lang), metric=metric_name(metric, lang),
              period=label(goal, tz, lang))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("when", "by", "old", "new", "reason"))
    return Reply(parts=(Text(title), Table(header, tuple(rows))), summary=title)


# -- the monthly goal review (scheduled) ------------------------------------------------------------


def nice(value: float) -> float:
    """A round number near value (two significant digits): 1,234,567 -> 1,200,000; 87 -> 87."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    digits = math.floor(math.log10(value)) - 1
    step = 10 ** max(digits, 0)
    return float(round(value / step) * step)


def suggestion(actual: float, target: float) -> tuple[str, float | None]:
    """What to do with a recurring or follow-up target after a period: ("raise"|"lower"|"keep", new)."""
    att = 100.0 * actual / target if target > 0 else 0.0
    if att >= 120:
        return "raise", nice(actual * 1.05)
    if att < 70:
        return "lower", nice((actual + target) / 2)
    return "keep", None


def ended_goals(s, team_id: int, month: parsing.Period, tz) -> list[tuple[Goal, Window]]:
    """Goals whose measured window ended within `month` (a calendar month), with that window:
    calendar goals and deadlines that ended then, and recurring goals whose month (or quarter or
    year, when it ended with this month) is over. Weekly recurring goals are reviewed weekly, not here."""
    out: list[tuple[Goal, Window]] = []
    q = select(Goal).where(Goal.team_id == team_id, Goal.status == "active")
    for g in s.scalars(q.order_by(Goal.id)):
        if g.recurring:
            if g.kind == "week":
                continue
            p = parsing.period_of(g.kind, month.start, tz)
            if p.end == month.end and g.created_at < p.end:
                out.append((g, Window(p.start, p.end, p.kind)))
        elif month.start < g.period_end <= month.end:
            out.append((g, Window(g.period_start.astimezone(tz), g.period_end.astimezone(tz), g.kind)))
    out.sort(key=lambda x: (x[0].user_id is not None, x[0].user_id or "", x[0].metric_id, x[0].id))
    return out


def month_review(s, team: Team, month: parsing.Period, tz, lang: str) -> Reply | None:
    """Last month's goals met or missed, with suggested adjustments (goal review, first working day)."""
    goals = ended_goals(s, team.id, month, tz)
    if not goals:
        return None
    metrics = {m.id: m for m in team_metrics(s, team.id)}
    rows = []
    met = 0
    suggestions = []
    for g, w in goals:
        m = metrics[g.metric_id]
        actual = queries.actuals(s, team.id, [m], w.start, w.end, user_id=g.user_id).get(m.id) or 0.0
        ok = actual >= g.target
        met += ok
        action, new = suggestion(actual, g.target)
        def a(v: float, m: Metric = m) -> str:
            return fmt.amount(v, m.unit, lang)

        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), label(g, tz, lang), a(g.target), a(actual),
                     pct(attainment(actual, g.target)),
                     t(lang, "goals.met") if ok else t(lang, "goals.missed")))
        if action != "keep":
            suggestions.append(t(lang, f"goals.suggest_{action}", id=g.id, who=_who(g, lang),
                                 metric=metric_name(m, lang), new=a(new),
                                 command=f"/goal adjust {g.id} {fmt.number(new).replace(',', '')} because …"))
    title = t(lang, "goals.month_review_title", team=team.name, period=fmt.period_label(month, lang),
              met=met, total=len(goals))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "period", "target", "actual",
                                                        "attainment", "result"))
    parts: list = [Text(title), Table(header, tuple(rows))]
    parts.append(Text(t(lang, "goals.suggestions_title") + "\n" + "\n".join(suggestions)) if suggestions
                 else Text(t(lang, "goals.suggestions_none")))
    return Reply(parts=tuple(parts), private=False, summary=title)


def shift_year(p: parsing.Period, tz) -> parsing.Period:
    """The same period one year earlier (weeks: 52 weeks earlier, the same ISO week)."""
    d = p.start.date()
    d = d - timedelta(weeks=52) if p.kind == "week" else d - relativedelta(years=1)
    return parsing.period_of(p.kind, d, tz)
