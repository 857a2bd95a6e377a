"""The inventory (资源盘点): what each type has and needs."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.core.context import Ctx
from commands.core.errors import Refused
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from commands.resources.parse import SetStock
from commands.resources.returns import return_parts
from commands.resources.states import AWAITING_APPROVER, STOCK_ROLE, _role
from commands.resources.types import TYPES, amount_text, type_name
from storage.models import ResourceRequest, ResourceStock, Team


def _set_stock(session, req: SetStock, ctx: Ctx) -> Reply:
    lang = ctx.lang
    if _role(ctx) != STOCK_ROLE:
        raise Refused("resources.stock_admin_only", example="-")
    table = ResourceStock.__table__
    before = session.execute(select(table.c.available, table.c.needed)
                       .where(table.c.team_id == ctx.team_id, table.c.type == req.type)).first()
    values = {"team_id": ctx.team_id, "type": req.type, "available": req.available,
              "needed": req.needed if req.needed is not None else 0, "updated_at": ctx.now}
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    change = {"available": ins.excluded.available, "updated_at": ins.excluded.updated_at}
    if req.needed is not None:
        change["needed"] = ins.excluded.needed
    session.execute(ins.on_conflict_do_update(index_elements=["team_id", "type"], set_=change))
    needed = req.needed if req.needed is not None else (before.needed if before else 0)
    text = t(lang, "resources.stock_set", type=type_name(req.type, lang),
             available=amount_text(req.type, req.available, lang), needed=amount_text(req.type, needed, lang),
             gap=_gap(req.type, req.available, needed, lang))
    if before is not None:
        text += "\n" + t(lang, "resources.stock_was", available=amount_text(req.type, before.available, lang),
                         needed=amount_text(req.type, before.needed, lang))
    return Reply.text(text)


def _gap(rtype: str, available: int, needed: int, lang: str) -> str:
    if needed > available:
        return t(lang, "resources.gap_short", amount=amount_text(rtype, needed - available, lang))
    return t(lang, "resources.gap_ok")


def stock_table(session, team: Team, lang: str, tz) -> Reply:
    """The seed's 资源盘点 table: per type what the team has, needs, the gap, and what is being asked for."""
    stock = {r.type: r for r in session.scalars(select(ResourceStock).where(ResourceStock.team_id == team.id))}
    asked = dict(session.execute(select(ResourceRequest.type, func.sum(ResourceRequest.amount))
                           .where(ResourceRequest.team_id == team.id,
                                  ResourceRequest.state.in_(AWAITING_APPROVER))
                           .group_by(ResourceRequest.type)).all())
    rows = []
    for code in TYPES:
        r = stock.get(code)
        in_flight = int(asked.get(code) or 0)
        if r is None:
            rows.append((type_name(code, lang), "—", "—", t(lang, "resources.not_counted"),
                         amount_text(code, in_flight, lang) if in_flight else "—", "—"))
            continue
        rows.append((type_name(code, lang), amount_text(code, r.available, lang),
                     amount_text(code, r.needed, lang), _gap(code, r.available, r.needed, lang),
                     amount_text(code, in_flight, lang) if in_flight else "—",
                     r.updated_at.astimezone(tz).strftime("%Y-%m-%d")))
    header = tuple(t(lang, f"resources.col_{c}") for c in ("type", "available", "needed", "gap", "in_flight",
                                                           "counted_at"))
    title = t(lang, "resources.stock_title", team=team.name)
    returns = return_parts(session, team.id, lang, title=t(lang, "resources.returns_title"))
    return Reply(parts=(Text(title), Table(header, tuple(rows)), Text(t(lang, "resources.stock_hint")), *returns),
                 summary=title.replace("*", ""))
