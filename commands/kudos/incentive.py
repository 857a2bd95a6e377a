"""Team incentive (团队激励): the moment a team goal is met, the channel hears it, once per goal and
window (a recurring goal once each period). Called by /progress in the unit of work that logged
the values, so the claim, the post and the progress commit together or not at all."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.core import fmt
from commands.core.context import Ctx
from commands.core.metrics import metric_name
from commands.core.people import mention
from commands.core.reply import Outgoing, Reply, Text
from commands.goals.attainment import pct, progress_of
from commands.goals.windows import label
from commands.i18n import t
from commands.kudos.run import channel_of
from storage.models import Goal, GoalMet, Metric
from storage.uow import UnitOfWork

def celebrate(uow: UnitOfWork, ctx: Ctx, metrics) -> None:
    """Queue the channel post for each team goal of `metrics` (the metrics just logged) that the values
    met. The metrics come with `team_goal` (read with the context, storage.queries.team_goal_of), so a
    progress of metrics without a team goal costs nothing more."""
    ids = [m.id for m in metrics if getattr(m, "team_goal", True)]
    if ids:
        _celebrate(uow.session, ctx, ids)


def celebrate_records(session, ctx: Ctx) -> None:
    """The same for the KPIs counted from the customer records (高质量客户, 赢单, 赢单金额): called in
    the unit of work that added a customer or moved its stage."""
    ids = list(session.scalars(select(Metric.id).where(Metric.team_id == ctx.team_id,
                                                       Metric.code.in_(RECORD_CODES))))
    if ids:
        _celebrate(session, ctx, ids)


#: The customer-record KPIs a stage change moves.
RECORD_CODES = ("qualified", "won", "won_amount")


def _celebrate(session, ctx: Ctx, ids: list[int]) -> None:
    team = ctx.team
    tz = ZoneInfo(team.tz)
    goals = session.scalars(select(Goal).where(Goal.team_id == team.id, Goal.metric_id.in_(ids), Goal.user_id.is_(None),
                                         Goal.status == "active").order_by(Goal.id))
    for goal in goals:
        metric = session.get(Metric, goal.metric_id)
        w, p = progress_of(session, goal, metric, team, ctx.now, tz)
        if not w.start <= ctx.now < w.end or p.attainment is None or p.attainment < 100:
            continue
        if not _claim(session, goal.id, w.start, p.actual or 0.0, ctx.now):
            continue
        lang = team.lang or "zh"
        text = t(lang, "kudos.goal_met", id=goal.id, metric=metric_name(metric, lang),
                 actual=fmt.amount(p.actual or 0.0, metric.unit, lang),
                 target=fmt.amount(goal.target, metric.unit, lang), period=label(goal, tz, lang),
                 attainment=pct(p.attainment), who=mention(ctx.actor.user_id))
        ctx.send(Outgoing(destination=channel_of(team),
                          reply=Reply(parts=(Text(text),), private=False, summary=text.split("\n", 1)[0]),
                          dedupe_key=f"team:{team.id}:goal_met:{goal.id}:{w.start.date().isoformat()}",
                          meta={"kind": "goal_met", "goal": goal.id}))


def _claim(session, goal_id: int, window_start, actual: float, now) -> bool:
    """The unique (goal, window) row: True for the one unit of work that inserts it."""
    table = GoalMet.__table__
    ins = (pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert)(table).values(
        goal_id=goal_id, window_start=window_start, actual=actual, met_at=now
    ).on_conflict_do_nothing(index_elements=["goal_id", "window_start"]).returning(table.c.id)
    return session.execute(ins).first() is not None
