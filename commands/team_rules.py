"""/team rules (团队 规则): the team's customer rules — the pool (公海), the claim cap, the quality stage
that the `qualified` KPI counts, and when a deal counts as stuck.

Grammar (after `/team rules`, `/团队 规则`, also `config`/`settings`/`配置`/`公海规则`):

    (nothing)                                   show the current rules (anyone in the team)
    <key>=<value> [<key>=<value> ...]           manager only; `=`, `:`, full-width ＝ ： or a space
        pool_days   公海天数   days without a follow-up before a customer returns to the pool  (1-365)
        warn_days   提醒天数   working days before that its owner is warned             (0-30, < pool_days)
        reclaim_days 冷却天数  days the last owner waits before claiming it back         (0-365)
        claim_cap   认领上限   open customers one person may own                        (1-10000)
        quality_stage 高质量阶段 the stage a customer must reach to count as 高质量客户  (a stage, not 输单)
        stuck_days  停滞天数   days in one stage after which a deal is listed as stuck  (1-365)

    /团队 规则 公海天数=45 提醒天数=5     /team rules pool_days=45 warn_days=5 quality_stage=proposal
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.people import require_member, require_team
from commands.core.reply import Fields, Reply, Text
from commands.core.roles import require_manager
from commands.i18n import t
from commands.kpi.funnel import stage_label
from storage.uow import UnitOfWork

#: key -> (words people type, lowest, highest); quality_stage has no range.
KEYS: dict[str, tuple[tuple[str, ...], int, int]] = {
    "pool_days": (("pool_days", "pool", "pooldays", "公海天数", "回收天数", "公海"), 1, 365),
    "warn_days": (("warn_days", "warn", "warning", "提醒天数", "提前提醒", "预警天数", "提醒"), 0, 30),
    "reclaim_days": (("reclaim_days", "reclaim", "cooldown", "冷却天数", "冷却期", "重新认领天数"), 0, 365),
    "claim_cap": (("claim_cap", "cap", "claim_limit", "认领上限", "客户上限", "上限"), 1, 10000),
    "quality_stage": (("quality_stage", "quality", "高质量阶段", "质量阶段", "高质量客户阶段", "高质量"), 0, 0),
    "stuck_days": (("stuck_days", "stuck", "停滞天数", "卡单天数", "停滞"), 1, 365),
}
_KEY_BY_WORD = {w.casefold(): k for k, (words, _, _) in KEYS.items() for w in words}
#: Stage words for quality_stage (codes, zh names and common synonyms); lost can never be it.
STAGE_WORDS = {
    "lead": ("lead", "线索"), "contacted": ("contacted", "初步接触", "接触"),
    "qualified": ("qualified", "需求确认", "确认需求"), "proposal": ("proposal", "方案报价", "报价", "方案"),
    "negotiation": ("negotiation", "商务谈判", "谈判"), "won": ("won", "赢单", "成交"),
}
_STAGE_BY_WORD = {w.casefold(): k for k, words in STAGE_WORDS.items() for w in words}
WORDS = ("rules", "rule", "config", "settings", "规则", "配置", "公海规则", "客户规则")
_PAIR = re.compile(r"([^\s=:＝：]+)\s*[=:＝：]\s*([^\s=:＝：]+)|([^\s=:＝：]+)\s+([^\s=:＝：]+)")


@dataclass(frozen=True)
class ShowRules:
    pass


@dataclass(frozen=True)
class SetRules:
    values: tuple[tuple[str, int | str], ...]


def parse(rest: str, lang: str):
    rest = rest.strip()
    if not rest:
        return ShowRules()
    values: dict[str, int | str] = {}
    pos = 0
    for m in _PAIR.finditer(rest):
        if rest[pos:m.start()].strip():
            raise UsageError("team.rules_bad", text=rest[pos:m.start()].strip(), example="team.example_rules")
        pos = m.end()
        word, raw = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        key = _KEY_BY_WORD.get(word.casefold())
        if key is None:
            raise UsageError("team.rules_unknown_key", word=word, keys=_keys(lang), example="team.example_rules")
        values[key] = _value(key, raw, lang)
    if rest[pos:].strip() or not values:
        raise UsageError("team.rules_bad", text=rest[pos:].strip() or rest, example="team.example_rules")
    return SetRules(tuple(values.items()))


def starts_with_rule(text: str) -> bool:
    """'公海天数=45 …', 'pool_days 45': the words after `/team 设置` name a rule, not a new team."""
    first = re.split(r"[\s=:＝：]", text.strip(), maxsplit=1)[0]
    return bool(first) and first.casefold() in _KEY_BY_WORD


def _keys(lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(t(lang, f"team.rules_key_{k}") for k in KEYS)


def _value(key: str, raw: str, lang: str) -> int | str:
    if key == "quality_stage":
        stage = _STAGE_BY_WORD.get(raw.casefold())
        if stage is None:
            names = ("、" if lang == "zh" else ", ").join(stage_label(s, lang) for s in STAGE_WORDS)
            raise UsageError("team.rules_bad_stage", value=raw, stages=names, example="team.example_rules")
        return stage
    _, lo, hi = KEYS[key]
    text = raw.strip().removesuffix("天").removesuffix("个").removesuffix("days").removesuffix("d")
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise UsageError("team.rules_bad_number", rule=t(lang, f"team.rules_key_{key}"), value=raw, lo=lo, hi=hi,
                         example="team.example_rules")
    return int(text)


def rules_fields(team, lang: str) -> Fields:
    def shown(key: str) -> str:
        value = getattr(team, key)
        if key == "quality_stage":
            return stage_label(value, lang)
        return t(lang, "team.rules_count" if key == "claim_cap" else "team.rules_days", n=value)

    return Fields(tuple((t(lang, f"team.rules_key_{k}"), shown(k)) for k in KEYS))


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_team(ctx)
    require_member(ctx)
    session, lang, team = uow.session, ctx.lang, ctx.team
    if isinstance(req, ShowRules):
        title = t(lang, "team.rules_title", team=team.name)
        hint = t(lang, "team.rules_hint")
        return Reply(parts=(Text(title), rules_fields(team, lang), Text(hint)), summary=title)
    require_manager(ctx)
    values = dict(req.values)
    pool = values.get("pool_days", team.pool_days)
    warn = values.get("warn_days", team.warn_days)
    if warn >= pool:
        raise UsageError("team.rules_warn_too_long", warn=warn, pool=pool, example="team.example_rules")
    row = session.get(type(team), team.id)
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    changed = ("、" if lang == "zh" else ", ").join(
        f"{t(lang, f'team.rules_key_{k}')} {stage_label(v, lang) if k == 'quality_stage' else v}"
        for k, v in values.items())
    title = t(lang, "team.rules_set", team=team.name, changed=changed)
    return Reply(parts=(Text(title), rules_fields(row, lang)), private=False, summary=title)

