"""/kpi (绩效): actual vs target vs previous period vs last year, and the pace still needed.

Grammar:

    [@user | me | team] [period]        default: the team, this month
        period: week/month/quarter/year (周/月/季度/年: the current one), this month, 上月, 本季度,
                2026-Q4, 2026-11, 2026, 2026-W48 ... (commands/core/parsing: parse_period)
    metric add <code> <zh name> <en name> <unit> <sum|average|last> [alias,alias...]   manager only
        指标 添加 visits_new 新拜访 New visits count sum 新访,首访
    metric list                          指标 列表

Per metric: actual; target (the scope's goal for exactly that period, else its recurring goal);
attainment %; the previous period and the change (环比); the same period last year and the change
(同比); and, for summed metrics with a target, the daily pace still needed = (target - actual) /
working days left (today included, the team's calendar; commands/core/workdays.py).
Every number comes from storage/queries.py (SQL aggregation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from commands import goals
from commands.core import fmt, parsing, workdays
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.metrics import metric_name, names_of, team_metrics
from commands.core.people import mention, require_member, resolve_person
from commands.core.reply import Reply, Table, Text
from commands.core.roles import require_manager
from commands.i18n import t
from storage import queries
from storage.models import Member, Metric, Team
from storage.uow import UnitOfWork

SELF_WORDS = ("me", "mine", "my", "我", "我的", "自己")
TEAM_WORDS = ("team", "团队", "全队", "小组")
CURRENT = {
    "week": "week", "周": "week", "本周": "week", "weekly": "week",
    "month": "month", "月": "month", "monthly": "month",
    "quarter": "quarter", "季度": "quarter", "季": "quarter", "quarterly": "quarter",
    "year": "year", "年": "year", "年度": "year", "yearly": "year", "annual": "year",
}
AGGREGATION_WORDS = {
    "sum": "sum", "total": "sum", "求和": "sum", "累计": "sum", "合计": "sum",
    "average": "average", "avg": "average", "mean": "average", "平均": "average", "均值": "average",
    "last": "last", "latest": "last", "最新": "last", "最近": "last",
}
UNIT_WORDS = {"cny": "CNY", "rmb": "CNY", "元": "CNY", "¥": "CNY", "￥": "CNY", "percent": "%", "%": "%",
              "count": "count", "个": "count", "次": "count", "人": "count"}
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
METRIC_WORDS = ("metric", "metrics", "指标")
ADD_WORDS = ("add", "new", "添加", "新增", "新建")
LIST_WORDS = ("list", "ls", "列表", "查看")


@dataclass(frozen=True)
class ShowKpi:
    who: parsing.Mention | None
    me: bool
    period: parsing.Period


@dataclass(frozen=True)
class AddMetric:
    code: str
    name_zh: str
    name_en: str
    unit: str
    aggregation: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ListMetrics:
    pass


def parse(text: str, ctx: Ctx):
    words = text.split()
    if words and words[0].casefold() in METRIC_WORDS:
        return _parse_metric(words[1:])
    if words and words[0].startswith("指标"):
        return _parse_metric([words[0][2:], *words[1:]] if words[0][2:] else words[1:])
    mentions, rest = parsing.take_mentions(text)
    if len(mentions) > 1:
        raise UsageError("kpi.one_person", example="kpi.example")
    words = rest.split()
    me = False
    kept = []
    for w in words:
        low = w.casefold()
        if low in SELF_WORDS:
            me = True
        elif low in TEAM_WORDS:
            continue
        else:
            kept.append(w)
    if me and mentions:
        raise UsageError("kpi.one_person", example="kpi.example")
    phrase = " ".join(kept)
    if not phrase:
        period = parsing.period_of("month", ctx.now, ctx.tz)
    elif phrase.casefold() in CURRENT:
        period = parsing.period_of(CURRENT[phrase.casefold()], ctx.now, ctx.tz)
    else:
        try:
            period = parsing.parse_period(phrase, ctx.now, ctx.tz)
        except UsageError as e:
            e.example = "kpi.example_period"
            raise
    return ShowKpi(who=mentions[0] if mentions else None, me=me, period=period)


def _parse_metric(words: list[str]):
    example = "kpi.example_metric_add"
    if not words or words[0].casefold() in LIST_WORDS:
        if len(words) > 1:
            raise UsageError("kpi.unexpected_text", text=" ".join(words[1:]), example="kpi.example_metric_list")
        return ListMetrics()
    if words[0].casefold() not in ADD_WORDS:
        raise UsageError("kpi.metric_usage", example=example)
    words = words[1:]
    agg_at = next((i for i, w in enumerate(words) if w.casefold() in AGGREGATION_WORDS and i >= 4), None)
    if agg_at is None or len(words) - agg_at > 2:
        raise UsageError("kpi.metric_usage", example=example)
    code = words[0].casefold()
    if not _CODE.fullmatch(code):
        raise UsageError("kpi.bad_code", code=words[0], example=example)
    name_zh = words[1]
    name_en = " ".join(words[2:agg_at - 1])
    unit_raw = words[agg_at - 1]
    unit = UNIT_WORDS.get(unit_raw.casefold(), unit_raw)
    if len(name_zh) > 40 or len(name_en) > 60 or len(unit) > 16:
        raise UsageError("kpi.metric_too_long", example=example)
    aliases: tuple[str, ...] = ()
    if len(words) - agg_at == 2:
        aliases = tuple(a.strip() for a in re.split(r"[,，、]", words[agg_at + 1]) if a.strip())
        if any(len(a) > 40 for a in aliases) or len(aliases) > 20:
            raise UsageError("kpi.metric_too_long", example=example)
    return AddMetric(code=code, name_zh=name_zh, name_en=name_en, unit=unit,
                     aggregation=AGGREGATION_WORDS[words[agg_at].casefold()], aliases=aliases)


# -- computing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    metric: Metric
    actual: float | None
    target: float | None
    attainment: float | None
    previous: float | None
    change: float | None  # 环比, %
    last_year: float | None
    yoy: float | None  # 同比, %
    #: Per working day still needed to reach the target (sum metrics with a target, period not over).
    pace: float | None
    remaining: int


def change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / abs(before)


def remaining_workdays(team: Team, period: parsing.Period, now: datetime, tz) -> int:
    """Working days left in the period, today included (0 once it is over)."""
    today = now.astimezone(tz).date()
    start = max(today, period.start.astimezone(tz).date())
    return workdays.calendar_for(team.calendar).workdays(start, period.end.astimezone(tz).date())


def _fill(m: Metric, v: float | None) -> float | None:
    """Nothing logged is 0 for a summed metric, and unknown ("—") for an average or a latest value."""
    return (v or 0.0) if m.aggregation == queries.SUM else v


def kpi_rows(s, team: Team, user_id: str | None, period: parsing.Period, now: datetime, tz,
             metrics: list[Metric] | None = None) -> list[KpiRow]:
    metrics = metrics if metrics is not None else team_metrics(s, team.id)
    prev = parsing.previous(period, tz)
    ly = goals.shift_year(period, tz)
    cur, before, year_ago = queries.actuals_for_periods(
        s, team.id, metrics, [(period.start, period.end), (prev.start, prev.end), (ly.start, ly.end)],
        user_id=user_id)
    targets = goals.targets_for(s, team.id, user_id, period)
    remaining = remaining_workdays(team, period, now, tz)
    rows = []
    for m in metrics:
        actual = _fill(m, cur.get(m.id))
        previous = _fill(m, before.get(m.id))
        last_year = _fill(m, year_ago.get(m.id))
        goal = targets.get(m.id)
        target = goal.target if goal else None
        pace = None
        if m.aggregation == queries.SUM and target is not None and remaining > 0:
            pace = max(0.0, target - (actual or 0.0)) / remaining
        rows.append(KpiRow(m, actual, target, goals.attainment(actual, target), previous,
                           change(actual, previous), last_year, change(actual, last_year), pace, remaining))
    return rows


def kpi_table(rows: list[KpiRow], lang: str) -> Table:
    def a(m: Metric, v: float | None) -> str:
        return "—" if v is None else fmt.amount(v, m.unit, lang)

    def signed(x: float | None) -> str:
        return "—" if x is None else ("+" if x > 0 else "") + goals.pct(x)

    header = tuple(t(lang, f"kpi.col_{c}") for c in ("metric", "actual", "target", "attainment", "previous",
                                                     "change", "last_year", "yoy", "pace"))
    body = tuple((metric_name(r.metric, lang), a(r.metric, r.actual), a(r.metric, r.target), goals.pct(r.attainment),
                  a(r.metric, r.previous), signed(r.change), a(r.metric, r.last_year), signed(r.yoy),
                  a(r.metric, r.pace)) for r in rows)
    return Table(header, body)


def members(s, team_id: int) -> list[Member]:
    rows = list(s.scalars(select(Member).where(Member.team_id == team_id)))
    rows.sort(key=lambda m: (m.joined_at, m.user_id))
    return rows


def primary_metric(metrics: list[Metric]) -> Metric | None:
    """The metric a leaderboard ranks by: sales, else the first summed metric, else the first."""
    for m in metrics:
        if m.code == "sales":
            return m
    return next((m for m in metrics if m.aggregation == queries.SUM), metrics[0] if metrics else None)


# -- running --------------------------------------------------------------------------------------


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    s = uow.session
    if isinstance(req, AddMetric):
        return _add_metric(s, req, ctx)
    if isinstance(req, ListMetrics):
        return _list_metrics(s, ctx)
    lang, tz, team = ctx.lang, ctx.tz, ctx.team
    user_id = None
    scope = t(lang, "kpi.the_team", team=team.name)
    if req.me:
        user_id = ctx.actor.user_id
    elif req.who is not None:
        user_id, _ = resolve_person(s, ctx, req.who)
    if user_id is not None:
        scope = mention(user_id)
    rows = kpi_rows(s, team, user_id, req.period, ctx.now, tz)
    title = t(lang, "kpi.title", scope=scope, period=fmt.period_label(req.period, lang))
    parts: list = [Text(title), kpi_table(rows, lang)]
    remaining = rows[0].remaining if rows else 0
    if req.period.end <= ctx.now:
        parts.append(Text(t(lang, "kpi.period_over")))
    else:
        parts.append(Text(t(lang, "kpi.remaining", days=remaining, calendar=team.calendar)))
    if not any(r.target is not None for r in rows):
        parts.append(Text(t(lang, "kpi.no_targets")))
    return Reply(parts=tuple(parts), summary=title)


def _add_metric(s, req: AddMetric, ctx: Ctx) -> Reply:
    require_manager(ctx)
    lang = ctx.lang
    existing = team_metrics(s, ctx.team_id)
    if any(m.code == req.code for m in existing):
        raise Refused("kpi.metric_exists", code=req.code, example="kpi.example_metric_list")
    taken = {n.casefold(): m for m in existing for n in names_of(m)}
    for name in (req.code, req.name_zh, req.name_en, *req.aliases):
        if name.casefold() in taken:
            raise UsageError("kpi.metric_name_taken", name=name, code=taken[name.casefold()].code,
                             example="kpi.example_metric_add")
    m = Metric(team_id=ctx.team_id, code=req.code, name_zh=req.name_zh, name_en=req.name_en, unit=req.unit,
               aggregation=req.aggregation, aliases=",".join(req.aliases))
    s.add(m)
    s.flush()
    text = t(lang, "kpi.metric_added", code=m.code, name=metric_name(m, lang), unit=m.unit,
             aggregation=t(lang, f"kpi.agg_{m.aggregation}"), aliases=", ".join(req.aliases) or "—")
    return Reply.text(text, private=False)


def _list_metrics(s, ctx: Ctx) -> Reply:
    lang = ctx.lang
    metrics = team_metrics(s, ctx.team_id)
    header = tuple(t(lang, f"kpi.col_{c}") for c in ("code", "name_zh", "name_en", "unit", "aggregation",
                                                     "aliases"))
    rows = tuple((m.code, m.name_zh, m.name_en, m.unit, t(lang, f"kpi.agg_{m.aggregation}"), m.aliases or "—")
                 for m in metrics)
    title = t(lang, "kpi.metrics_title", team=ctx.team.name, count=len(metrics))
    return Reply(parts=(Text(title), Table(header, rows)), summary=title)


def leaderboard(s, team: Team, period: parsing.Period, metrics: list[Metric], lang: str
                ) -> tuple[Metric | None, list[tuple[Member, float, float | None]]]:
    """-> (the ranking metric, [(member, actual, target)] best first)."""
    m = primary_metric(metrics)
    if m is None:
        return None, []
    per_user = queries.actuals_by_user(s, team.id, [m], period.start, period.end)
    targets = goals.user_targets(s, team.id, period)
    ranked = [(mem, per_user.get(mem.user_id, {}).get(m.id, 0.0), targets.get((mem.user_id, m.id)))
              for mem in members(s, team.id)]
    ranked.sort(key=lambda x: (-x[1], x[0].user_id))
    return m, ranked
