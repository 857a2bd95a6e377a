"""KPIs and the funnel computed from the customer records (SPEC "/customer": "KPIs from the records,
not typed"). storage/queries.py routes the computed metrics here, so /kpi, goals, leaderboards,
assessments and the summaries read them like any other metric.

    qualified   高质量客户  customers that reached the team's quality stage (Team.quality_stage, or any
                           later open stage or won) in the range, each once, credited to its owner then
    followups   跟进次数    follow-ups logged in the range, credited to who logged them
    won         赢单        customers moved to won in the range, credited to the owner then
    won_amount  赢单金额    their deal amounts (the amount given with the move, else the customer's)

A pool release is a history row with from_stage == to_stage: it never counts as reaching a stage.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlmodel import Session

from storage.models import Customer, CustomerStageChange, FollowUp, Team

#: The funnel in order; won and lost end it.
FUNNEL = ("lead", "contacted", "qualified", "proposal", "negotiation", "won", "lost")
OPEN = FUNNEL[:5]
CLOSED_STAGES = ("won", "lost")
RANK = {code: i for i, code in enumerate(FUNNEL)}
#: code -> (zh, en, unit): the metrics computed here (seeded for every team as aggregation "sum").
COMPUTED: dict[str, tuple[str, str, str]] = {
    "qualified": ("高质量客户", "Qualified customers", "count"),
    "followups": ("跟进次数", "Follow-ups", "count"),
    "won": ("赢单", "Deals won", "count"),
    "won_amount": ("赢单金额", "Won amount", "CNY"),
}
COMPUTED_ALIASES = {
    "qualified": "高质量,优质客户,qualified_customers",
    "followups": "跟进,followup,follow-ups,跟进数",
    "won": "赢单数,成交,成交数,wins,deals",
    "won_amount": "成交金额,签约金额,won amount,deal_amount",
}


#: Who `teambot import customers` writes customers and their first history row as: a sheet of customers
#: the team already had is not this period's 高质量客户 or wins.
IMPORTER = "teambot-import"


def quality_stages(quality_stage: str) -> tuple[str, ...]:
    """The stages that count as having reached the quality stage: it and every later one but lost."""
    rank = RANK.get(quality_stage, RANK["qualified"])
    return tuple(s for s in FUNNEL if s != "lost" and RANK[s] >= rank)


def _reached(stages: tuple[str, ...]):
    """A history row that moves a customer into `stages` from outside them (or adds it there)."""
    return and_(CustomerStageChange.to_stage.in_(stages),
                or_(CustomerStageChange.from_stage.is_(None), CustomerStageChange.from_stage.not_in(stages)))


def _queries(team_id: int, quality_stage: str, start: datetime, end: datetime) -> dict[str, object]:
    """code -> SELECT (user, value) grouped by user, over [start, end)."""
    sc = CustomerStageChange
    in_range = and_(sc.team_id == team_id, sc.at >= start, sc.at < end, sc.by != IMPORTER)
    won = _reached(("won",))
    amount = func.coalesce(sc.amount, Customer.amount, 0.0)
    return {
        "qualified": select(sc.owner_id, func.count(distinct(sc.customer_id)))
        .where(in_range, _reached(quality_stages(quality_stage))).group_by(sc.owner_id),
        "followups": select(FollowUp.by, func.count())
        .where(FollowUp.team_id == team_id, FollowUp.at >= start, FollowUp.at < end).group_by(FollowUp.by),
        "won": select(sc.owner_id, func.count(distinct(sc.customer_id))).where(in_range, won).group_by(sc.owner_id),
        "won_amount": select(sc.owner_id, func.sum(amount)).join(Customer, Customer.id == sc.customer_id)
        .where(in_range, won).group_by(sc.owner_id),
    }


def record_actuals_by_user(session: Session, team_id: int, codes: list[str], start: datetime, end: datetime
                           ) -> dict[str, dict[str, float]]:
    """user id -> code -> value in [start, end) (no entry: nothing recorded). Customers moved while
    in the pool count for nobody."""
    if not codes:
        return {}
    quality = session.scalar(select(Team.quality_stage).where(Team.id == team_id)) or "qualified"
    queries = _queries(team_id, quality, start, end)
    out: dict[str, dict[str, float]] = {}
    for code in codes:
        for user, value in session.execute(queries[code]):
            if user is not None and value:
                out.setdefault(user, {})[code] = float(value)
    return out


def record_actuals(session: Session, team_id: int, codes: list[str], start: datetime, end: datetime, *,
                   user_id: str | None = None) -> dict[str, float]:
    """code -> the team's (or one person's) value in [start, end). The team's counts each customer
    once even when it changed hands within the range."""
    per_user = record_actuals_by_user(session, team_id, codes, start, end)
    if user_id is not None:
        return dict(per_user.get(user_id, {}))
    out: dict[str, float] = {}
    if not codes:
        return out
    quality = session.scalar(select(Team.quality_stage).where(Team.id == team_id)) or "qualified"
    sc = CustomerStageChange
    in_range = and_(sc.team_id == team_id, sc.at >= start, sc.at < end, sc.by != IMPORTER)
    for code in codes:
        if code in ("qualified", "won"):
            stages = ("won",) if code == "won" else quality_stages(quality)
            value = session.scalar(select(func.count(distinct(sc.customer_id))).where(in_range, _reached(stages)))
        else:
            value = sum(v.get(code, 0.0) for v in per_user.values())
        if value:
            out[code] = float(value)
    return out


# --- the funnel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    #: stage -> customers in it now
    count: dict[str, int]
    #: stage -> customers that ever reached it (or a later open stage, or won)
    reached: dict[str, int]
    #: the summed amount of open customers (pipeline, CNY)
    pipeline: float
    #: customers in the pool now (open ones)
    in_pool: int

    def conversion(self, a: str, b: str) -> float | None:
        """% of the customers that reached `a` that went on to reach `b`."""
        base = self.reached.get(a, 0)
        return None if not base else 100.0 * self.reached.get(b, 0) / base

    @property
    def total(self) -> int:
        return sum(self.count.values())


def _furthest(session: Session, team_id: int, owner_id: str | None) -> dict[int, int]:
    """rank -> how many customers got that far at the furthest (lost does not count as a stage
    reached): the highest rank among a customer's history rows and its stage now. One pass over
    the team's history and customers (UNION ALL, GROUP BY customer), no join."""
    sc = CustomerStageChange
    rank = case(*((sc.to_stage == st, RANK[st]) for st in FUNNEL if st != "lost"), else_=-1)
    now_rank = case(*((Customer.stage == st, RANK[st]) for st in FUNNEL if st != "lost"), else_=-1)
    hist = select(sc.customer_id.label("cid"), rank.label("r")).where(sc.team_id == team_id)
    cur = select(Customer.id.label("cid"), now_rank.label("r")).where(Customer.team_id == team_id)
    if owner_id is not None:
        mine = select(Customer.id).where(Customer.team_id == team_id, Customer.owner_id == owner_id)
        hist = hist.where(sc.customer_id.in_(mine))
        cur = cur.where(Customer.owner_id == owner_id)
    both = hist.union_all(cur).subquery()
    per = select(both.c.cid, func.max(both.c.r).label("best")).group_by(both.c.cid).subquery()
    rows = session.execute(select(per.c.best, func.count()).group_by(per.c.best))
    return {int(r): int(n) for r, n in rows if r is not None and r >= 0}


def funnel(session: Session, team_id: int, *, owner_id: str | None = None) -> Funnel:
    """The team's (or one owner's) funnel now: customers per stage, how far each got (its history
    and its stage now, lost ones by the furthest stage before), the pipeline amount."""
    q = (select(Customer.stage, func.count(), func.sum(Customer.amount),
                func.sum(case((Customer.owner_id.is_(None), 1), else_=0)))
         .where(Customer.team_id == team_id))
    if owner_id is not None:
        q = q.where(Customer.owner_id == owner_id)
    count: dict[str, int] = {}
    pipeline, in_pool = 0.0, 0
    for stage, n, amount, pooled in session.execute(q.group_by(Customer.stage)):
        count[stage] = int(n)
        if stage in OPEN:
            pipeline += float(amount or 0.0)
            in_pool += int(pooled or 0)
    reached_at = _furthest(session, team_id, owner_id)
    reached: dict[str, int] = {}
    for st in FUNNEL[:-1]:
        reached[st] = sum(n for r, n in reached_at.items() if r >= RANK[st])
    return Funnel(count, reached, pipeline, in_pool)


# --- the pool (公海) arithmetic (the same rule as /customer list stale) -----------------------------


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0)).replace(tzinfo=tz).astimezone(UTC)


def return_day(active_at: datetime, team: Team, tz: ZoneInfo) -> date:
    """The local day the customer goes back to the pool (before any move off a non-working day)."""
    return active_at.astimezone(tz).date() + timedelta(days=team.pool_days)


def warn_day(active_at: datetime, team: Team, tz: ZoneInfo, cal) -> date:
    d = return_day(active_at, team, tz)
    for _ in range(max(0, team.warn_days)):
        d = cal.previous_workday(d)
    return d


def release_cutoff(team: Team, day: date, tz: ZoneInfo) -> datetime:
    """active_at before this (aware UTC): the return day is `day` or earlier."""
    return local_midnight(day - timedelta(days=team.pool_days) + timedelta(days=1), tz)


def warn_cutoff(team: Team, day: date, tz: ZoneInfo, cal) -> datetime:
    """active_at before this: the customer returns within warn_days working days of `day`."""
    last = day
    for _ in range(max(0, team.warn_days)):
        last = cal.next_workday(last + timedelta(days=1))
    return local_midnight(last - timedelta(days=team.pool_days) + timedelta(days=1), tz)


def owned_open(team_id: int):
    """Customers that may return to the pool: owned, neither won nor lost."""
    return select(Customer).where(Customer.team_id == team_id, Customer.owner_id.is_not(None),
                                  Customer.stage.not_in(CLOSED_STAGES))


def about_to_return(session: Session, team: Team, day: date, tz: ZoneInfo, cal, limit: int = 50
                    ) -> list[tuple[Customer, date]]:
    """Owned open customers that go back to the pool within warn_days working days of `day`, with
    the working day they go (for /kpi, the summaries and the agenda)."""
    rows = session.scalars(owned_open(team.id).where(Customer.active_at < warn_cutoff(team, day, tz, cal))
                           .order_by(Customer.active_at, Customer.id).limit(limit))
    return [(c, cal.next_workday(max(return_day(c.active_at, team, tz), day))) for c in rows]
