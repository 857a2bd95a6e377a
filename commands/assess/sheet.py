"""The assessment sheet (考核表): per KPI the actual, target, attainment, weight and weighted score,
and the total with its band (A >= 90, B >= 75, C >= 60, else D).

The numbers are /kpi's (commands/kpi/rows.py: the member's own targets for exactly that period,
actuals from SQL aggregation). Which KPIs count:
- the team set weights (`/kpi weights sales=50 customers=30 csat=20`): those metrics, with those weights;
- else every metric the member has a target for, weighted equally.
A quarter or year without a target of its own takes the member's monthly targets (a recurring
`customers 10 monthly` is 30 a quarter; a percentage's monthly targets are averaged) when every
month of it has one, so the performance admin's quarterly sheet scores what the manager set monthly.
A weighted KPI without a target for that member and period cannot be scored: it is shown with "—"
and the other weights are scaled up to 100 (the sheet says so). A KPI with a target but nothing
logged scores 0. The score is Σ weight × attainment, each attainment counted up to CAP (120%, the
usual 封顶: 110% of the sales target counts as 110%, 400% as 120%), so one windfall cannot carry a
sheet and a score over 100 means the targets were beaten overall.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import select

from commands import goals, kpi
from commands.core import fmt, parsing
from commands.core.metrics import team_metrics
from commands.core.reply import Table
from commands.i18n import t
from commands.kpi.weights import TOTAL, weights_of
from storage import queries
from storage.models import Goal, Team

BANDS = ((90.0, "A"), (75.0, "B"), (60.0, "C"))
ASSESSED_KINDS = ("month", "quarter", "year")
#: The most one KPI's attainment counts for in the score (percent).
CAP = 120.0


def band(score: float | None) -> str:
    if score is None:
        return "—"
    return next((b for floor, b in BANDS if score >= floor - 1e-9), "D")


def band_label(b: str, lang: str) -> str:
    """'B（良好）' / 'B (good)'."""
    if b not in ("A", "B", "C", "D"):
        return "—"
    return t(lang, "assess.band", band=b, name=t(lang, f"assess.band_{b}"))


@dataclass(frozen=True)
class Line:
    code: str
    name_zh: str
    name_en: str
    unit: str
    actual: float | None
    target: float | None
    attainment: float | None
    #: The weight that counts, in percent of 100 (after scaling); None: not scored.
    weight: float | None
    #: weight x attainment / 100; None: not scored.
    points: float | None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Sheet:
    user_id: str
    period: str
    kind: str
    lines: tuple[Line, ...]
    score: float | None
    #: True when the team's own weights were used (else equal weights over the KPIs with a target).
    weighted: bool
    #: Weighted KPIs left out for want of a target (their weight went to the others).
    unscored: tuple[str, ...] = ()
    #: KPIs whose target for this quarter or year comes from the member's monthly targets.
    from_months: tuple[str, ...] = ()

    @property
    def band(self) -> str:
        return band(self.score)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> Sheet | None:
        try:
            d = json.loads(text)
            lines = tuple(Line(**x) for x in d.pop("lines"))
            d["unscored"] = tuple(d.get("unscored") or ())
            d["from_months"] = tuple(d.get("from_months") or ())
            return Sheet(lines=lines, **d)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def compute(session, team: Team, user_id: str, period: parsing.Period, now, tz, metrics=None) -> Sheet:
    metrics = metrics if metrics is not None else team_metrics(session, team.id)
    set_w = weights_of(metrics)
    rows = kpi.kpi_rows(session, team, user_id, period, now, tz, metrics)
    monthly = monthly_targets(session, team.id, user_id, period, tz, metrics)
    targets = {r.metric.id: r.target if r.target is not None else monthly.get(r.metric.id) for r in rows}
    if set_w:
        shown = [r for r in rows if r.metric.id in set_w]
        raw = {r.metric.id: set_w[r.metric.id] for r in shown if targets[r.metric.id] is not None}
    else:
        shown = [r for r in rows if targets[r.metric.id] is not None]
        raw = {r.metric.id: 1.0 for r in shown}
    total = sum(raw.values())
    lines = []
    score = 0.0 if raw else None
    for r in shown:
        m = r.metric
        weight = points = None
        target = targets[m.id]
        attainment = goals.attainment(r.actual if r.actual is not None else 0.0, target)
        if m.id in raw and total > 0:
            weight = TOTAL * raw[m.id] / total
            points = weight * min(attainment or 0.0, CAP) / 100.0
            score += points
        lines.append(Line(m.code, m.name_zh, m.name_en, m.unit, r.actual, target,
                          attainment if target is not None else None, weight, points))
    unscored = tuple(m.code for m in metrics if m.id in set_w and m.id not in raw)
    from_months = tuple(r.metric.code for r in shown if r.target is None and r.metric.id in monthly)
    return Sheet(user_id, period.label, period.kind, tuple(lines),
                 None if score is None else round(score, 1), bool(set_w), unscored, from_months)


def monthly_targets(session, team_id: int, user_id: str, period: parsing.Period, tz, metrics) -> dict[int, float]:
    """metric id -> a quarter's or year's target made of the member's monthly ones (the sum; for an
    average or latest-value metric the mean), for the metrics every month of the period has one for:
    an exact monthly goal, else a recurring monthly goal set before the period ended."""
    if period.kind not in ("quarter", "year"):
        return {}
    rows = list(session.scalars(select(Goal).where(Goal.team_id == team_id, Goal.user_id == user_id,
                                                  Goal.kind == "month", Goal.status == "active")
                                .order_by(Goal.id)))
    recurring = {g.metric_id: g.target for g in rows if g.recurring and g.created_at < period.end}
    exact = {(g.metric_id, g.period_start): g.target for g in rows if not g.recurring and g.period_start}
    months = []
    month = parsing.period_of("month", period.start, tz)
    while month.start < period.end:
        months.append(month.start)
        month = parsing.period_of("month", month.end, tz)
    out = {}
    for m in metrics:
        values = [exact.get((m.id, start), recurring.get(m.id)) for start in months]
        if months and all(v is not None for v in values):
            out[m.id] = sum(values) if m.aggregation == queries.SUM else sum(values) / len(values)
    return out


def table(sheet: Sheet, lang: str) -> Table:
    def a(line: Line, v: float | None) -> str:
        return "—" if v is None else fmt.amount(v, line.unit, lang)

    def n(v: float | None, suffix: str = "") -> str:
        return "—" if v is None else f"{fmt.number(round(v, 1))}{suffix}"

    header = tuple(t(lang, f"assess.col_{c}") for c in ("metric", "actual", "target", "attainment", "weight",
                                                        "points"))
    rows = tuple((x.name(lang), a(x, x.actual), a(x, x.target), goals.pct(x.attainment), n(x.weight, "%"),
                  n(x.points)) for x in sheet.lines)
    return Table(header, rows)


def score_text(score: float | None) -> str:
    return "—" if score is None else fmt.number(round(score, 1))


def notes(sheet: Sheet, metrics_by_code: dict, lang: str) -> list[str]:
    """What the reader should know about how the score was made."""
    out = [t(lang, "assess.note_weights_set" if sheet.weighted else "assess.note_weights_equal")]
    if sheet.unscored:
        names = ("、" if lang == "zh" else ", ").join(
            (metrics_by_code[c].name_zh if lang == "zh" else metrics_by_code[c].name_en) if c in metrics_by_code
            else c for c in sheet.unscored)
        out.append(t(lang, "assess.note_unscored", metrics=names))
    if sheet.from_months:
        names = ("、" if lang == "zh" else ", ").join(
            (metrics_by_code[c].name_zh if lang == "zh" else metrics_by_code[c].name_en) if c in metrics_by_code
            else c for c in sheet.from_months)
        out.append(t(lang, "assess.note_from_months", metrics=names))
    return out
