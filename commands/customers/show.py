"""Reading customers: the list (mine, the pool, about to return, someone's, a stage) and one customer."""
from __future__ import annotations

from sqlalchemy import func, select

from commands.core import fmt, paging
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import looks_like_a_name, mention, resolve_member
from commands.core.reply import Reply, Table, Text
from commands.customers import access, pool
from commands.customers.notify import card, customer_buttons, money
from commands.customers.parse import LIST_LIMIT, ListCustomers, ShowCustomer
from commands.customers.stages import CLOSED, how_name, stage_name
from commands.i18n import t
from storage.models import Customer, CustomerStageChange, FollowUp

MAX_FOLLOWUPS = 30


def _scope(session, req: ListCustomers, ctx: Ctx) -> tuple[str, str | None]:
    """-> (scope, whose user id). Reps see their own customers and the pool only."""
    me, everyone = ctx.actor.user_id, access.sees_all(ctx)
    scope, who = req.scope, None
    if scope == "auto":
        scope = "team" if everyone else "mine"
    if scope == "user":
        who = _member(session, ctx, req.who)
        if who == me:
            scope = "mine"
        elif not everyone:
            raise Refused("customers.list_others_refused", who=mention(who), example="customers.example_list")
    if scope == "team" and not everyone:
        raise Refused("customers.list_team_refused", example="customers.example_list")
    return scope, (me if scope == "mine" else who)


def _member(session, ctx: Ctx, who) -> str:
    try:
        return resolve_member(session, ctx, who).user_id
    except UsageError:
        if who.user_id or looks_like_a_name(who.name or ""):
            raise
        raise UsageError("customers.bad_scope", value=who.raw, example="customers.example_list") from None


def list_customers(session, req: ListCustomers, ctx: Ctx) -> Reply:
    lang, team = ctx.lang, ctx.team
    scope, who = _scope(session, req, ctx)
    q = select(Customer).where(Customer.team_id == ctx.team_id)
    order = (Customer.active_at, Customer.id)
    if scope in ("mine", "user"):
        q = q.where(Customer.owner_id == who)
    elif scope == "pool":
        q = q.where(Customer.owner_id.is_(None))
        order = (Customer.released_at.desc(), Customer.id.desc())
    elif scope == "stale":
        q = q.where(Customer.owner_id.is_not(None), Customer.stage.not_in(tuple(CLOSED)),
                    Customer.active_at < pool.stale_cutoff(team, ctx.now, ctx.tz, ctx.calendar))
        if not access.sees_all(ctx):
            q = q.where(Customer.owner_id == ctx.actor.user_id)
    if req.stage is not None:
        q = q.where(Customer.stage == req.stage)
    label = t(lang, f"customers.scope_{scope}", who=mention(who) if who else "", team=team.name)
    if req.stage is not None:
        label += " · " + stage_name(req.stage, lang)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    if not total:
        return Reply.text(t(lang, "customers.list_empty", scope=label))
    start = paging.offset(req.page, LIST_LIMIT)
    if start >= total:
        return Reply.text(paging.past_end(lang, req.page, total, LIST_LIMIT))
    rows = list(session.scalars(q.order_by(*order).offset(start).limit(LIST_LIMIT)))
    header = tuple(t(lang, f"customers.col_{c}") for c in ("id", "name", "stage", "owner", "amount",
                                                          "last_followup", "returns"))
    table = tuple(_row(c, ctx) for c in rows)
    title = t(lang, "customers.list_title", scope=label, count=total)
    parts: list = [Text(title), Table(header, table)]
    command = "/customer list " + {"mine": "mine", "pool": "pool", "stale": "stale", "team": "team"}.get(
        scope, f"<@{who}>") + (f" {req.stage}" if req.stage else "")
    more = paging.more_button(lang, command, req.page, start + len(rows), total, "customer.page")
    if more is not None:
        parts.append(more)
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))


def _row(c: Customer, ctx: Ctx) -> tuple[str, ...]:
    lang, tz = ctx.lang, ctx.tz
    last = fmt.day(c.last_followup_at.astimezone(tz).date(), lang) if c.last_followup_at else "—"
    if c.owner_id is not None and c.stage not in CLOSED:
        returns = fmt.day(pool.return_on(c.active_at, ctx.team, tz), lang)
    else:
        returns = "—"
    return (f"#{c.id}", c.name, stage_name(c.stage, lang), access.holder(c, lang),
            money(c.amount, lang) if c.amount is not None else "—", last, returns)


def show_customer(session, req: ShowCustomer, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    c = access.find(session, ctx, req.ref)
    if not access.may_see(c, ctx):
        raise Refused("customers.not_yours", id=c.id, name=c.name, owner=mention(c.owner_id), example="-")
    head = t(lang, "customers.show_title", id=c.id, name=c.name)
    parts: list = [Text(head), card(c, ctx, lang)]
    changes = list(session.scalars(select(CustomerStageChange).where(CustomerStageChange.customer_id == c.id)
                             .order_by(CustomerStageChange.at, CustomerStageChange.id)))
    if changes:
        rows = tuple((fmt.when(x.at, tz, lang), mention(x.by),
                      f"{stage_name(x.from_stage, lang) if x.from_stage else '—'} → {stage_name(x.to_stage, lang)}",
                      money(x.amount, lang) if x.amount is not None else "", x.reason) for x in changes)
        header = tuple(t(lang, f"customers.col_{k}") for k in ("at", "by", "change", "amount", "reason"))
        parts += [Text(t(lang, "customers.history_title", tz=fmt.zone_name(tz))), Table(header, rows)]
    total = session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.customer_id == c.id)) or 0
    if total:
        ups = list(session.scalars(select(FollowUp).where(FollowUp.customer_id == c.id)
                             .order_by(FollowUp.at.desc(), FollowUp.id.desc()).limit(MAX_FOLLOWUPS)))
        rows = tuple((fmt.when(f.at, tz, lang), mention(f.by), how_name(f.how, lang), f.note,
                      _next(f, lang)) for f in ups)
        header = tuple(t(lang, f"customers.col_{k}") for k in ("at", "by", "how", "note", "next"))
        parts += [Text(t(lang, "customers.followups_title", count=total)), Table(header, rows)]
        if total > MAX_FOLLOWUPS:
            parts.append(Text(t(lang, "customers.followups_more", n=total - MAX_FOLLOWUPS)))
    else:
        parts.append(Text(t(lang, "customers.no_followups", id=c.id)))
    buttons = customer_buttons(c, ctx, lang)
    if buttons is not None:
        parts.append(buttons)
    return Reply(parts=tuple(parts), summary=head.replace("*", ""))


def _next(f: FollowUp, lang: str) -> str:
    if f.next_on is None:
        return ""
    state = t(lang, f"customers.next_{f.next_state}") if f.next_state else ""
    return f"{fmt.day(f.next_on, lang)} {state}".strip()
