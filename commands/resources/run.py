"""Running a /resource request: load it, check the step, record the transition, tell who is next."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update

from commands.core import offdays
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import adopt_team_of, mention, require_member
from commands.core.reply import Reply, Text
from commands.i18n import t
from commands.resources import returns
from commands.resources.notify import _approvers, _dm, _note_line, _notify_next, _step_reply, _tell_requester
from commands.resources.parse import (
    EXAMPLE,
    AllocateRequest,
    ApproveRequest,
    CancelRequest,
    GiveFeedback,
    ListRequests,
    RejectRequest,
    SetStock,
    ShowHelp,
    ShowRequest,
    ShowStock,
    SubmitRequest,
)
from commands.resources.show import _list, _show
from commands.resources.states import APPROVED, AWAITING_APPROVER, SUBMITTED, _positions, decide
from commands.resources.stock import _set_stock, stock_table
from commands.resources.types import MAX_ID, amount_text, type_name, what
from storage.models import ResourceRequest, ResourceStock, ResourceTransition
from storage.uow import UnitOfWork


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example(EXAMPLE) from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    session = uow.session
    if isinstance(req, ShowHelp):
        return Reply.text(t(ctx.lang, "resources.help"))
    request_id = getattr(req, "request_id", None)
    if ctx.team_id is None and request_id is not None:
        adopt_team_of(session, ctx, ResourceRequest, request_id, MAX_ID)
    require_member(ctx)
    if isinstance(req, SubmitRequest):
        return _submit(session, req, ctx)
    if isinstance(req, ListRequests):
        return _list(session, req, ctx)
    if isinstance(req, SetStock):
        return _set_stock(session, req, ctx)
    if isinstance(req, ShowStock):
        return stock_table(session, ctx.team, ctx.lang, ctx.tz)
    row = _load(session, ctx, request_id, lock=not isinstance(req, ShowRequest))
    if isinstance(req, ShowRequest):
        return _show(session, row, ctx)
    handler = {ApproveRequest: _approve, RejectRequest: _reject, AllocateRequest: _allocate,
               GiveFeedback: _feedback, CancelRequest: _cancel}[type(req)]
    return handler(session, req, row, ctx)


def _load(session, ctx: Ctx, request_id: int, *, lock: bool) -> ResourceRequest:
    row = None
    if 0 < request_id <= MAX_ID:
        q = select(ResourceRequest).where(ResourceRequest.id == request_id,
                                          ResourceRequest.team_id == ctx.team_id)
        # FOR UPDATE (PostgreSQL): two people acting on one request at once queue here, and the
        # second sees the state the first left. SQLite serialises writers with BEGIN IMMEDIATE.
        row = session.scalars(q.with_for_update() if lock else q).first()
    if row is None:
        raise UsageError("resources.not_found", id=request_id, example="resources.example_list")
    return row




def _record(session, ctx: Ctx, row: ResourceRequest, to_state: str, *, note: str = "",
            amount: int | None = None) -> str:
    """Move `row` to `to_state` and keep the step. Returns the state it came from."""
    from_state = row.state
    row.state, row.updated_at = to_state, ctx.now
    session.add(row)
    session.add(ResourceTransition(request_id=row.id, actor=ctx.actor.user_id, at=ctx.now, from_state=from_state,
                             to_state=to_state, note=note, amount=amount))
    return from_state


# -- the steps --------------------------------------------------------------------------------------


def _submit(session, req: SubmitRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    row = ResourceRequest(team_id=ctx.team_id, requester=ctx.actor.user_id, type=req.type, amount=req.amount,
                          purpose=req.purpose, needed_by=req.needed_by, state=SUBMITTED, created_at=ctx.now,
                          updated_at=ctx.now)
    session.add(row)
    session.flush()
    session.add(ResourceTransition(request_id=row.id, actor=ctx.actor.user_id, at=ctx.now, from_state=None,
                             to_state=SUBMITTED, note="", amount=req.amount))
    notified = _notify_next(session, ctx, row)
    head = t(lang, "resources.submitted", id=row.id, what=what(row, lang), purpose=row.purpose)
    reply = _step_reply(session, ctx, row, head, notified, "resources.notified_managers")
    off = offdays.off_day(row.needed_by, ctx) if row.needed_by is not None else None
    if off is None:
        return reply
    return replace(reply, parts=(reply.parts[0], Text(off.text), *reply.parts[1:]))


def _approve(session, req: ApproveRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "approve", _positions(row, ctx), lang)
    _record(session, ctx, row, to_state, note=req.note)
    notified = _notify_next(session, ctx, row)
    if row.requester not in notified:  # a requester who acts next already got the request with buttons
        _tell_requester(session, ctx, row, f"resources.dm_{to_state}", note=_note_line(req.note))
    key = "resources.approved" if to_state == APPROVED else "resources.reviewed"
    head = t(lang, key, id=row.id, what=what(row, lang), requester=mention(row.requester))
    reply = _step_reply(session, ctx, row, head, notified, "resources.notified_admins")
    short = shortfall(session, row, lang)
    if short is None:
        return reply
    # Said at approval, not only when the allocation fails: the approver decides knowing it.
    return replace(reply, parts=(reply.parts[0], Text(short), *reply.parts[1:]))


def shortfall(session, row: ResourceRequest, lang: str) -> str | None:
    """'Stock is short by …' when the team's recorded stock of the type is below what `row` asks."""
    available = session.scalar(select(ResourceStock.available).where(ResourceStock.team_id == row.team_id,
                                                               ResourceStock.type == row.type))
    if available is None or available >= row.amount:
        return None
    return t(lang, "resources.approve_short", type=type_name(row.type, lang),
             available=amount_text(row.type, available, lang), amount=amount_text(row.type, row.amount, lang),
             short=amount_text(row.type, row.amount - available, lang))


def _reject(session, req: RejectRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "reject", _positions(row, ctx), lang)
    _record(session, ctx, row, to_state, note=req.reason)
    told = _tell_requester(session, ctx, row, "resources.dm_rejected", reason=req.reason)
    text = t(lang, "resources.rejected", id=row.id, what=what(row, lang), reason=req.reason)
    if told:
        text += "\n" + t(lang, "resources.requester_told", who=mention(row.requester))
    return Reply.text(text)


def _allocate(session, req: AllocateRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "allocate", _positions(row, ctx), lang)
    n = row.amount if req.amount is None else req.amount
    if n > row.amount:
        raise Refused("resources.allocate_too_much", id=row.id, amount=amount_text(row.type, n, lang),
                      requested=amount_text(row.type, row.amount, lang), example="-")
    left = take_stock(session, ctx.team_id, row.type, n)
    if left is not None:
        key = "resources.stock_short" if left > 0 else "resources.stock_empty"
        raise Refused(key, id=row.id, type=type_name(row.type, lang), amount=amount_text(row.type, n, lang),
                      left=amount_text(row.type, left, lang), n=left, example="-")
    row.allocated_amount = n
    _record(session, ctx, row, to_state, amount=n)
    partial = n < row.amount
    _tell_requester(session, ctx, row, "resources.dm_allocated", buttons=True,
                    allocated=lambda lang: amount_text(row.type, n, lang))
    remaining = session.scalar(select(ResourceStock.available).where(ResourceStock.team_id == ctx.team_id,
                                                               ResourceStock.type == row.type))
    text = t(lang, "resources.allocated", id=row.id, amount=amount_text(row.type, n, lang),
             type=type_name(row.type, lang), requester=mention(row.requester),
             left=amount_text(row.type, remaining, lang))
    if partial:
        text += "\n" + t(lang, "resources.partial", requested=amount_text(row.type, row.amount, lang),
                         amount=amount_text(row.type, n, lang))
    return Reply.text(text)


def _feedback(session, req: GiveFeedback, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "feedback", _positions(row, ctx), lang)
    row.return_sales, row.return_customers = req.sales, req.customers
    brought = returns.brought_text(row, lang)
    _record(session, ctx, row, to_state, note=" · ".join(x for x in (req.text, brought) if x))
    # Everyone who handled the request hears how it went.
    handlers = set(session.scalars(select(ResourceTransition.actor).where(
        ResourceTransition.request_id == row.id, ResourceTransition.from_state.is_not(None))))
    handlers.add(row.requester)
    for user_id in sorted(handlers - {ctx.actor.user_id}):
        _dm(session, ctx, row, user_id, "resources.dm_closed", text=" · ".join(x for x in (req.text, brought) if x) or "—",
            by=mention(ctx.actor.user_id))
    text = t(lang, "resources.closed", id=row.id, what=what(row, lang))
    ratio = returns.request_return(row, lang)
    if ratio:
        text += "\n" + ratio
    return Reply.text(text)


def _cancel(session, req: CancelRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    holders = _approvers(session, ctx.team_id, row.state) if row.state in AWAITING_APPROVER else []
    to_state = decide(row, "cancel", _positions(row, ctx), lang)
    _record(session, ctx, row, to_state, note=req.note)
    for user_id in holders:
        if user_id != ctx.actor.user_id:
            _dm(session, ctx, row, user_id, "resources.dm_cancelled", by=mention(ctx.actor.user_id),
                note=_note_line(req.note))
    return Reply.text(t(lang, "resources.cancelled", id=row.id, what=what(row, lang)))


def take_stock(session, team_id: int, rtype: str, n: int) -> int | None:
    """Take `n` units in ONE conditional UPDATE (never read-then-write), so two admins allocating the
    last units at the same moment cannot both succeed: on PostgreSQL the second UPDATE waits for the
    first's row lock and re-checks `available >= n` against the committed value; SQLite runs one
    writer at a time. None on success, else what is left (0 when nothing was ever recorded)."""
    table = ResourceStock.__table__
    result = session.execute(update(table)
                       .where(table.c.team_id == team_id, table.c.type == rtype, table.c.available >= n)
                       .values(available=table.c.available - n))
    if result.rowcount == 1:
        return None
    left = session.scalar(select(table.c.available).where(table.c.team_id == team_id, table.c.type == rtype))
    return left or 0
