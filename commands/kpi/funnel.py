"""The sales funnel (销售漏斗) under /kpi and in the KPI summaries: customers per stage now, how many
ever reached each stage and the conversion from one stage to the next, the pipeline amount (open
customers' deal sizes) and the customers about to return to the pool (公海).

Nothing is shown for a team that keeps no customers. A person's /kpi shows the customers they own."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from commands.core import fmt, workdays
from commands.core.people import mention
from commands.core.reply import Table, Text
from commands.i18n import t
from storage.customer_queries import FUNNEL, OPEN, about_to_return, funnel
from storage.models import Customer, Team

SOON_LIMIT = 10


def stage_label(code: str, lang: str) -> str:
    """'需求确认' / 'qualified' (the customers catalog), the code itself if it has no name."""
    key = f"customers.stage_{code}"
    text = t(lang, key)
    return code if text == key else text


def has_customers(session, team_id: int) -> bool:
    return session.scalar(select(Customer.id).where(Customer.team_id == team_id).limit(1)) is not None


def funnel_table(f, lang: str) -> Table:
    header = tuple(t(lang, f"kpi.funnel_col_{c}") for c in ("stage", "now", "reached", "conversion"))
    rows = []
    for i, st in enumerate(FUNNEL):
        if st in OPEN:
            nxt = FUNNEL[i + 1]
            conv = f.conversion(st, nxt)
            cell = "—" if conv is None else t(lang, "kpi.funnel_to", pct=fmt.number(round(conv, 1)),
                                                stage=stage_label(nxt, lang))
            rows.append((stage_label(st, lang), str(f.count.get(st, 0)), str(f.reached.get(st, 0)), cell))
        else:
            reached = str(f.reached.get(st, 0)) if st == "won" else "—"
            rows.append((stage_label(st, lang), str(f.count.get(st, 0)), reached, "—"))
    return Table(header, tuple(rows))


#: Who sees the names of every member's customers (SPEC "/customer": visibility).
SEES_ALL = ("manager", "account_manager")


def soon_text(session, team: Team, user_id: str | None, now: datetime, tz, lang: str, viewer: str | None = None) -> str:
    """The customers about to return to the pool. `viewer`: (user id) a rep asking, who sees the names
    of their own customers only and a count of the others'; None: everyone's (managers, summaries)."""
    cal = workdays.calendar_for(team.calendar)
    soon = about_to_return(session, team, now.astimezone(tz).date(), tz, cal, limit=200)
    if user_id is not None:
        soon = [(c, d) for c, d in soon if c.owner_id == user_id]
    if not soon:
        return t(lang, "kpi.funnel_soon_none", days=team.pool_days)
    hidden = 0
    if viewer is not None:
        hidden = sum(1 for c, _ in soon if c.owner_id != viewer)
        soon = [(c, d) for c, d in soon if c.owner_id == viewer]
    sep = "、" if lang == "zh" else ", "
    shown = sep.join(t(lang, "kpi.funnel_soon_item", id=c.id, name=c.name, owner=mention(c.owner_id),
                       day=fmt.month_day(d, lang)) for c, d in soon[:SOON_LIMIT])
    more = len(soon) - SOON_LIMIT if len(soon) > SOON_LIMIT else 0
    if more + hidden:
        shown += t(lang, "kpi.funnel_more" if shown else "kpi.funnel_others", n=more + hidden)
    return t(lang, "kpi.funnel_soon", n=len(soon) + hidden, items=shown)


def funnel_parts(session, team: Team, user_id: str | None, now: datetime, tz, lang: str, *,
                 viewer: str | None = None) -> list:
    """[title, table, pipeline line, about-to-return line], or [] when the team has no customers.
    viewer: see soon_text."""
    if not has_customers(session, team.id):
        return []
    f = funnel(session, team.id, owner_id=user_id)
    title = t(lang, "kpi.funnel_title" if user_id is None else "kpi.funnel_title_mine",
              who=mention(user_id) if user_id else "", total=f.total)
    pipeline = t(lang, "kpi.funnel_pipeline", amount=fmt.amount(f.pipeline, "CNY", lang),
                 open=sum(f.count.get(st, 0) for st in OPEN))
    if user_id is None:
        pipeline += t(lang, "kpi.funnel_in_pool", n=f.in_pool)
    return [Text(title), funnel_table(f, lang), Text(pipeline), Text(soon_text(session, team, user_id, now, tz, lang, viewer))]
