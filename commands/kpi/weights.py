"""/kpi weights (权重): how much each metric counts in the assessment sheet (/assess).

    /kpi weights                               the team's weights (default: equal)
    /kpi weights sales=50 customers=30 csat=20 manager only; 销售额=50 新客户=30 满意度=20 works too
    /kpi weights reset                         back to equal weights (默认/清除)

Weights are percentages and must add up to 100, the way a performance table writes them (shares
written as fractions adding up to 1, sales=0.5 ..., are read as percentages; `sales 50 customers 30`
without '=' works too); a
listed metric must be one of the team's, appear once and weigh more than 0. Metrics left out weigh
nothing (they stay on /kpi but not in the score). We refuse a set that does not sum to 100 rather
than scale it silently: a typo (50/30/30) is caught instead of quietly changing every score.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.metrics import metric_name, resolve, team_metrics
from commands.core.reply import Reply, Table, Text
from commands.core.roles import require_manager
from commands.i18n import t

WEIGHT_WORDS = ("weights", "weight", "weighting", "权重", "比重")
RESET_WORDS = ("reset", "default", "equal", "clear", "默认", "重置", "清除", "平均", "恢复默认")
TOTAL = 100.0


@dataclass(frozen=True)
class ShowWeights:
    pass


@dataclass(frozen=True)
class SetWeights:
    #: (metric as typed, weight); empty: back to equal weights.
    weights: tuple[tuple[str, float], ...]


def parse_weights(rest: str):
    rest = rest.strip()
    if not rest:
        return ShowWeights()
    if rest.casefold() in RESET_WORDS:
        return SetWeights(())
    note, pairs = parsing.split_pairs(rest)
    words = note.split()
    if note and not pairs and len(words) % 2 == 0 and all(_number(x) for x in words[1::2]):
        # 'sales 50 customers 30 csat 20', '销售额 50% 新客户 30%': pairs written without '='.
        note, pairs = "", list(zip(words[::2], words[1::2], strict=True))
    if note:
        raise UsageError("kpi.weights_unexpected", text=note, example="kpi.example_weights")
    if not pairs:
        raise UsageError("kpi.weights_usage", example="kpi.example_weights")
    out = []
    for name, value in pairs:
        raw = value.strip().rstrip("%％").strip()
        try:
            w = float(raw)
        except ValueError:
            raise UsageError("kpi.weight_not_number", metric=name, value=value, example="kpi.example_weights") \
                from None
        if not math.isfinite(w) or w <= 0 or w > TOTAL:
            raise UsageError("kpi.weight_range", metric=name, value=value, example="kpi.example_weights")
        out.append((name, w))
    return SetWeights(tuple(out))


def _number(text: str) -> bool:
    try:
        float(text.strip().rstrip("%％"))
        return True
    except ValueError:
        return False


def weights_of(metrics) -> dict[int, float]:
    """metric id -> weight as set; empty when the team has none (equal weights)."""
    return {m.id: m.weight for m in metrics if m.weight}


def run_weights(session, req, ctx: Ctx) -> Reply:
    metrics = team_metrics(session, ctx.team_id)
    if isinstance(req, ShowWeights):
        return _show(metrics, ctx, changed=False)
    require_manager(ctx)
    chosen: dict[int, float] = {}
    for name, w in req.weights:
        m = resolve(metrics, name, ctx.lang)
        if m.id in chosen:
            raise UsageError("kpi.weight_twice", metric=metric_name(m, ctx.lang), example="kpi.example_weights")
        chosen[m.id] = w
    total = sum(chosen.values())
    if chosen and abs(total - 1.0) < 1e-6 and all(w < 1 for w in chosen.values()):
        # Shares written as fractions (0.5 0.3 0.2): the same weights in percent.
        chosen, total = {k: w * TOTAL for k, w in chosen.items()}, TOTAL
    if chosen and abs(total - TOTAL) > 0.01:
        raise UsageError("kpi.weights_sum", total=fmt.number(round(total, 2)), example="kpi.example_weights")
    for m in metrics:
        m.weight = chosen.get(m.id) if chosen else None
        session.add(m)
    session.flush()
    return _show(metrics, ctx, changed=True)


def _show(metrics, ctx: Ctx, *, changed: bool) -> Reply:
    lang = ctx.lang
    set_w = weights_of(metrics)
    title = t(lang, "kpi.weights_set_title" if changed else "kpi.weights_title", team=ctx.team.name)
    if not set_w:
        # Equal weights over each person's metrics with a target: nothing team-wide to tabulate.
        return Reply(parts=(Text(title), Text(t(lang, "kpi.weights_note_equal"))), private=not changed,
                     summary=title)
    rows = tuple((metric_name(m, lang), f"{fmt.number(round(set_w[m.id], 2))}%") for m in metrics if m.id in set_w)
    header = (t(lang, "kpi.col_metric"), t(lang, "kpi.col_weight"))
    return Reply(parts=(Text(title), Table(header, rows), Text(t(lang, "kpi.weights_note_set"))),
                 private=not changed, summary=title)
