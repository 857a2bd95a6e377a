"""The customer side of the weekly agenda (/agenda, the weekly_agenda post):

- 问题讨论: deals stuck in one stage longer than the team's stuck_days, and customers about to be
  released to the pool (公海) within warn_days working days;
- 经验分享: the deals won since the last meeting, biggest first.

Each returns ready lines (empty when there is nothing, or the team keeps no customers)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from commands.core import fmt, workdays
from commands.core.people import mention
from commands.i18n import t
from commands.kpi.funnel import stage_label
from storage.customer_queries import OPEN, about_to_return
from storage.models import Customer, CustomerStageChange, Team

LIMIT = 8


def stuck_query(team: Team, now: datetime):
    """Owned customers in an open stage past `lead` that have not moved for stuck_days."""
    return (select(Customer).where(Customer.team_id == team.id, Customer.owner_id.is_not(None),
                                   Customer.stage.in_(OPEN[1:]),
                                   Customer.stage_changed_at < now - timedelta(days=team.stuck_days))
            .order_by(Customer.stage_changed_at, Customer.id))


def problem_lines(session, team: Team, now: datetime, tz, lang: str) -> tuple[list[str], int]:
    """(lines, how many problems) for 问题讨论."""
    lines: list[str] = []
    q = stuck_query(team, now)
    stuck_n = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    if stuck_n:
        lines.append(t(lang, "agenda.stuck", count=stuck_n, days=team.stuck_days))
        for c in session.scalars(q.limit(LIMIT)):
            days = (now.astimezone(tz).date() - c.stage_changed_at.astimezone(tz).date()).days
            lines.append(f"• 🐢 #{c.id} {c.name} — " + t(lang, "agenda.stuck_line", stage=stage_label(c.stage, lang),
                                                       days=days, owner=mention(c.owner_id)))
    cal = workdays.calendar_for(team.calendar)
    soon = about_to_return(session, team, now.astimezone(tz).date(), tz, cal, limit=LIMIT + 1)
    if soon:
        lines.append(t(lang, "agenda.pool_soon", count=len(soon) if len(soon) <= LIMIT else f"{LIMIT}+",
                       days=team.pool_days))
        lines.extend(f"• 🌊 #{c.id} {c.name} — " + t(lang, "agenda.pool_soon_line", owner=mention(c.owner_id),
                                                    day=fmt.month_day(d, lang)) for c, d in soon[:LIMIT])
    return lines, stuck_n + len(soon)


def win_lines(session, team: Team, since: datetime, end: datetime, lang: str) -> list[str]:
    """经验分享: customers won in [since, end), biggest amount first."""
    sc = CustomerStageChange
    amount = func.coalesce(sc.amount, Customer.amount)
    rows = session.execute(
        select(Customer.id, Customer.name, sc.owner_id, amount)
        .join(Customer, Customer.id == sc.customer_id)
        .where(sc.team_id == team.id, sc.to_stage == "won", sc.at >= since, sc.at < end,
               (sc.from_stage.is_(None)) | (sc.from_stage != "won"))
        .order_by(amount.desc().nulls_last(), sc.at).limit(LIMIT)).all()
    out = []
    for cid, name, owner, value in rows:
        money = fmt.amount(float(value), "CNY", lang) if value else "—"
        out.append(f"• 🤝 #{cid} {name} — " + t(lang, "agenda.won_line", owner=mention(owner) if owner else "—",
                                                amount=money))
    return out
