"""What allocations brought (投入产出比): per request, and per resource type.

`/resource feedback 7 展会新增客户12家 sales=30万 customers=12` closes an allocated request with what
it brought; the return is sales per unit allocated (per person, per lead list, per channel, or per
CNY of budget, which reads as a ratio 1 : 8.5). `/resource stock` shows every type's return since
the team began, the quarterly KPI summary the quarter's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from commands.core import fmt
from commands.core.people import mention
from commands.core.reply import Table, Text
from commands.i18n import t
from commands.resources.states import CLOSED
from commands.resources.types import TYPES, amount_text, type_name
from storage.models import ResourceRequest

REQUEST_LIMIT = 10


def brought_text(row: ResourceRequest, lang: str) -> str:
    """'带来销售额 ¥300,000（30万）、新客户 12 个' / 'brought sales ¥300,000, 12 new customers'; '' when not said."""
    bits = []
    if row.return_sales is not None:
        bits.append(t(lang, "resources.brought_sales", sales=fmt.amount(row.return_sales, "CNY", lang)))
    if row.return_customers is not None:
        bits.append(t(lang, "resources.brought_customers", n=fmt.number(row.return_customers)))
    return t(lang, "resources.brought", what=t(lang, "resources.brought_join").join(bits)) if bits else ""


def ratio_text(rtype: str, spent: float, sales: float | None, customers: float | None, lang: str) -> str:
    """Return per unit allocated: 'budget 1 : 8.5', '每人 ¥25,000 销售额、1.5 个新客户'; '—' without a return."""
    if not spent or (sales is None and customers is None):
        return "—"
    if rtype == "budget":
        bits = []
        if sales is not None:
            bits.append(t(lang, "resources.roi_budget_sales", ratio=fmt.number(round(sales / spent, 2))))
        if customers is not None:
            bits.append(t(lang, "resources.roi_budget_customers",
                          cost=fmt.amount(round(spent / customers) if customers else 0, "CNY", lang))
                        if customers else t(lang, "resources.roi_no_customers"))
        return t(lang, "resources.brought_join").join(bits)
    per = []
    if sales is not None:
        per.append(fmt.amount(round(sales / spent), "CNY", lang))
    if customers is not None:
        per.append(t(lang, "resources.roi_customers", n=fmt.number(round(customers / spent, 2))))
    return t(lang, "resources.roi_per_unit", unit=t(lang, f"resources.roi_unit_{rtype}"),
             what=t(lang, "resources.brought_join").join(per))


def request_return(row: ResourceRequest, lang: str) -> str:
    """The return of one closed request, for its feedback reply and /resource show ('' when none)."""
    if row.return_sales is None and row.return_customers is None:
        return ""
    spent = row.allocated_amount or row.amount
    return t(lang, "resources.roi_line", ratio=ratio_text(row.type, spent, row.return_sales, row.return_customers,
                                                          lang))


@dataclass
class TypeReturn:
    type: str
    requests: int = 0
    spent: int = 0
    sales: float | None = None
    customers: int | None = None


def measured(session, team_id: int, start: datetime | None = None, end: datetime | None = None) -> list[ResourceRequest]:
    """Closed requests whose feedback said what they brought (closed within [start, end) when given)."""
    q = select(ResourceRequest).where(ResourceRequest.team_id == team_id, ResourceRequest.state == CLOSED,
                                      or_(ResourceRequest.return_sales.is_not(None),
                                          ResourceRequest.return_customers.is_not(None)))
    if start is not None:
        q = q.where(ResourceRequest.updated_at >= start)
    if end is not None:
        q = q.where(ResourceRequest.updated_at < end)
    return list(session.scalars(q.order_by(ResourceRequest.updated_at.desc(), ResourceRequest.id.desc())))


def by_type(rows: list[ResourceRequest]) -> list[TypeReturn]:
    out = {code: TypeReturn(code) for code in TYPES}
    for r in rows:
        x = out[r.type] if r.type in out else out.setdefault(r.type, TypeReturn(r.type))
        x.requests += 1
        x.spent += r.allocated_amount or r.amount
        if r.return_sales is not None:
            x.sales = (x.sales or 0.0) + r.return_sales
        if r.return_customers is not None:
            x.customers = (x.customers or 0) + r.return_customers
    return [x for x in out.values() if x.requests]


def return_parts(session, team_id: int, lang: str, *, start: datetime | None = None, end: datetime | None = None,
                 title: str) -> list:
    """The return per type and per request, or [] when no feedback said what anything brought."""
    rows = measured(session, team_id, start, end)
    if not rows:
        return []
    header = tuple(t(lang, f"resources.col_{c}") for c in ("type", "measured", "spent", "sales", "customers",
                                                           "roi"))
    types = tuple((type_name(x.type, lang), fmt.number(x.requests), amount_text(x.type, x.spent, lang),
                   fmt.amount(x.sales, "CNY", lang) if x.sales is not None else "—",
                   fmt.number(x.customers) if x.customers is not None else "—",
                   ratio_text(x.type, x.spent, x.sales, x.customers, lang)) for x in by_type(rows))
    req_header = tuple(t(lang, f"resources.col_{c}") for c in ("id", "type", "spent", "requester", "sales",
                                                               "customers", "roi"))
    reqs = tuple((f"#{r.id}", type_name(r.type, lang), amount_text(r.type, r.allocated_amount or r.amount, lang),
                  mention(r.requester),
                  fmt.amount(r.return_sales, "CNY", lang) if r.return_sales is not None else "—",
                  fmt.number(r.return_customers) if r.return_customers is not None else "—",
                  ratio_text(r.type, r.allocated_amount or r.amount, r.return_sales, r.return_customers, lang))
                 for r in rows[:REQUEST_LIMIT])
    parts: list = [Text(title), Table(header, types), Text(t(lang, "resources.returns_by_request")),
                   Table(req_header, reqs)]
    if len(rows) > REQUEST_LIMIT:
        parts.append(Text(t(lang, "resources.list_more", n=len(rows) - REQUEST_LIMIT)))
    return parts
