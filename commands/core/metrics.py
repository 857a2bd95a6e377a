"""Metrics: the seed's defaults per team, and resolving what people type to a metric."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from commands.core import suggest
from commands.core.errors import UsageError
from commands.core.reply import Choice
from storage.customer_queries import COMPUTED, COMPUTED_ALIASES
from storage.models import Customer, Metric, Team

#: Slack: options per static select.
MAX_OPTIONS = 100

# code, zh, en, unit, aggregation, aliases
DEFAULT_METRICS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("sales", "销售额", "Sales", "CNY", "sum", "revenue,业绩,销售"),
    ("customers", "新客户", "New customers", "count", "sum", "customer,clients,新客户数,客户"),
    ("csat", "客户满意度", "Customer satisfaction", "%", "average", "satisfaction,满意度"),
    ("event_participants", "活动参与人数", "Event participants", "count", "sum",
     "participants,attendees,参与人数,活动人数"),
    ("visits", "拜访", "Visits", "count", "sum", "visit,拜访量,拜访次数"),
    # Computed from the customer records, never typed (storage/customer_queries.py).
    *((code, zh, en, unit, "sum", COMPUTED_ALIASES[code]) for code, (zh, en, unit) in COMPUTED.items()),
)


def seed_metrics(session: Session, team_id: int) -> None:
    for code, zh, en, unit, agg, aliases in DEFAULT_METRICS:
        session.add(Metric(team_id=team_id, code=code, name_zh=zh, name_en=en, unit=unit,
                           aggregation=agg, aliases=aliases))


_TEAM_METRICS = select(Metric).where(Metric.team_id == bindparam("team")).order_by(Metric.id)


def team_metrics(session: Session, team_id: int) -> list[Metric]:
    return list(session.scalars(_TEAM_METRICS, {"team": team_id}))


def is_computed(m: Metric) -> bool:
    """qualified, followups, won, won_amount: computed from the customer records, never typed."""
    return m.code in COMPUTED


def shown_metrics(session: Session, team_id: int) -> list[Metric]:
    """The metrics a team's KPI tables, summaries and agenda show: the computed customer metrics
    only once the team keeps customers (a team that does not is not shown four rows of zeros)."""
    metrics = team_metrics(session, team_id)
    if not any(is_computed(m) for m in metrics):
        return metrics
    has = session.scalar(select(Customer.id).where(Customer.team_id == team_id).limit(1)) is not None
    return metrics if has else [m for m in metrics if not is_computed(m)]


def metric_name(m: Metric, lang: str) -> str:
    return m.name_zh if lang == "zh" else m.name_en


def metric_options(session: Session, teams: list[Team], lang: str) -> tuple[Choice, ...]:
    """The teams' typed metrics as select options ("Sales (¥)"), each code once (computed ones are counted
    from the customer records, never typed)."""
    seen: dict[str, Metric] = {}
    for team in teams:
        for m in team_metrics(session, team.id):
            if not is_computed(m):
                seen.setdefault(m.code, m)
    unit = {"CNY": "¥", "count": "#", "%": "%"}
    return tuple(Choice(m.code, f"{metric_name(m, lang)} ({unit.get(m.unit, m.unit)})")
                 for m in seen.values())[:MAX_OPTIONS]


def names_of(m: Metric) -> list[str]:
    return [m.code, m.name_zh, m.name_en] + [a for a in m.aliases.split(",") if a]


def resolve(metrics: list[Metric], name: str, lang: str) -> Metric:
    key = name.strip().casefold()
    for m in metrics:
        if key in (n.casefold() for n in names_of(m)):
            return m
    known = ", ".join(f"{m.code} / {m.name_zh}" for m in metrics)
    raise UsageError("progress.unknown_metric", name=name, known=known).suggesting(closest_metric(metrics, name))


def closest_metric(metrics: list[Metric], name: str) -> str | None:
    """The metric name nearest to a typo ('sale' -> 'sales', '销额' -> '销售额'), written in the script
    of what was typed, or None."""
    guess = suggest.closest(name.strip(), [n for m in metrics for n in names_of(m)])
    if guess is None:
        return None
    if guess.isascii():
        return guess
    return next((m.name_zh for m in metrics if guess in names_of(m)), guess)
