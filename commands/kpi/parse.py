"""/kpi text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core import parsing, suggest
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.kpi.weights import WEIGHT_WORDS, parse_weights

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
CHART_WORDS = ("chart", "graph", "图表", "图")
ADD_WORDS = ("add", "new", "添加", "新增", "新建")
LIST_WORDS = ("list", "ls", "列表", "查看")
#: The words after /kpi (for did-you-mean and for writing hints in the form the user typed).
KEYWORDS = {"metric": METRIC_WORDS, "chart": CHART_WORDS, "weights": WEIGHT_WORDS}
SCOPES = {"team": TEAM_WORDS, "me": SELF_WORDS}


@dataclass(frozen=True)
class ShowKpi:
    who: parsing.Mention | None
    me: bool
    #: None: not given, so the periods of the scope's current goals (else this month).
    period: parsing.Period | None
    #: The chart and the leaderboard rather than the table (`/kpi chart`, `/绩效 图表`).
    chart: bool = False


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
    if words and words[0].casefold() in WEIGHT_WORDS:
        return parse_weights(text.partition(" ")[2])
    for w in WEIGHT_WORDS:
        if not w.isascii() and words and words[0].startswith(w):
            return parse_weights(text.strip()[len(w):])
    if words and words[0].casefold() in METRIC_WORDS:
        return _parse_metric(words[1:])
    if words and words[0].startswith("指标"):
        return _parse_metric([words[0][2:], *words[1:]] if words[0][2:] else words[1:])
    chart = False
    if words and (words[0].casefold() in CHART_WORDS or words[0].startswith("图表")):
        chart, text = True, text[len("图表"):] if words[0].startswith("图表") else text.partition(" ")[2]
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
    if kept and not mentions and not me and not _period(" ".join(kept), ctx) \
            and (len(kept) == 1 or _period(" ".join(kept[1:]), ctx)) and not any(c.isdigit() for c in kept[0]):
        # '/绩效 李雷 上月': a member named without @ (run() checks the name against the team).
        mentions, kept = [parsing.Mention(None, kept[0], kept[0])], kept[1:]
    phrase = " ".join(kept)
    if not phrase:
        period = None
    elif phrase.casefold() in CURRENT:
        period = parsing.period_of(CURRENT[phrase.casefold()], ctx.now, ctx.tz)
    else:
        try:
            period = parsing.parse_period(phrase, ctx.now, ctx.tz)
        except UsageError as e:
            if keyword_typo(kept[0]):
                raise UsageError("kpi.unknown_keyword", word=kept[0], example="kpi.example") from None
            e.example = "kpi.example_period"
            raise
    return ShowKpi(who=mentions[0] if mentions else None, me=me, period=period, chart=chart)


def _period(text: str, ctx: Ctx) -> bool:
    return text.casefold() in CURRENT or parsing.is_period(text, ctx.now, ctx.tz)


def keyword_typo(word: str) -> bool:
    """A word close to one of /kpi's own (指表 for 指标, tema for team)."""
    return suggest.closest(word, [a for table in (KEYWORDS, SCOPES) for names in table.values() for a in names]) \
        is not None


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
