"""The request's state machine: which step moves a request from which state, and who may take it."""
from __future__ import annotations

from commands.core.context import Ctx
from commands.core.errors import Refused
from commands.core.people import mention
from commands.i18n import has
from commands.resources.types import state_name
from storage.models import ResourceRequest

SUBMITTED, APPROVED, REVIEWED, ALLOCATED = "submitted", "approved", "reviewed", "allocated"
CLOSED, REJECTED, CANCELLED = "closed", "rejected", "cancelled"
MANAGER, RESOURCE_ADMIN, REQUESTER = "manager", "resource_admin", "requester"

#: (state, action) -> (next state, who may take the step). Nothing else moves a request.
#:
#:   submitted -(manager approves)-------------> approved     申请: the sales manager approves
#:   approved  -(resource_admin approves)------> reviewed     审核通过: a resource admin reviews
#:   reviewed  -(resource_admin allocates)-----> allocated    分配: takes the stock
#:   allocated -(requester gives feedback)-----> closed       反馈调整 (the manager may give it too)
#:   submitted -(manager rejects)--------------> rejected
#:   approved  -(resource_admin rejects)-------> rejected
#:   submitted / approved / reviewed -(requester cancels)-> cancelled
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (SUBMITTED, "approve"): (APPROVED, MANAGER),
    (APPROVED, "approve"): (REVIEWED, RESOURCE_ADMIN),
    (REVIEWED, "allocate"): (ALLOCATED, RESOURCE_ADMIN),
    (ALLOCATED, "feedback"): (CLOSED, REQUESTER),
    (SUBMITTED, "reject"): (REJECTED, MANAGER),
    (APPROVED, "reject"): (REJECTED, RESOURCE_ADMIN),
    (SUBMITTED, "cancel"): (CANCELLED, REQUESTER),
    (APPROVED, "cancel"): (CANCELLED, REQUESTER),
    (REVIEWED, "cancel"): (CANCELLED, REQUESTER),
}
ACTIONS = ("approve", "reject", "allocate", "feedback", "cancel")
#: A request in one of these has ended: nothing changes it any more.
TERMINAL = frozenset({CLOSED, REJECTED, CANCELLED})
#: Besides the role in TRANSITIONS, who else may take a step: the sales manager may say what an
#: allocation brought (the return side of 投入产出比), e.g. for a rep who has moved on.
ALSO: dict[tuple[str, str], str] = {(ALLOCATED, "feedback"): MANAGER}
#: Who acts next on an open request (gets the buttons and the approval nudges).
NEXT_ACTOR = {SUBMITTED: MANAGER, APPROVED: RESOURCE_ADMIN, REVIEWED: RESOURCE_ADMIN, ALLOCATED: REQUESTER}
#: Waiting for an approver (the approval nudge watches these).
AWAITING_APPROVER = (SUBMITTED, APPROVED, REVIEWED)
#: Who may record the inventory.
STOCK_ROLE = RESOURCE_ADMIN


def positions(row: ResourceRequest, user_id: str, role: str | None) -> frozenset[str]:
    """What the person is to this request: their team role, and requester if it is theirs."""
    out = {role} if role else set()
    if row.requester == user_id:
        out.add(REQUESTER)
    return frozenset(out)


def decide(row: ResourceRequest, action: str, who: frozenset[str], lang: str) -> str:
    """The state `action` by someone in positions `who` leads to; Refused when the table says no."""
    if row.state in TERMINAL:
        raise Refused("resources.ended", id=row.id, state=state_name(row.state, lang), example="-")
    step = TRANSITIONS.get((row.state, action))
    if step is None:
        if action == "allocate" and row.state == ALLOCATED:
            raise Refused("resources.already_allocated", id=row.id, example="-")
        raise Refused(f"resources.bad_state_{action}", id=row.id, state=state_name(row.state, lang),
                      example="-")
    to_state, role = step
    if role not in who and ALSO.get((row.state, action)) not in who:
        key = f"resources.refused_{action}_{row.state}"
        raise Refused(key if has(lang, key) else f"resources.refused_{action}", id=row.id,
                      requester=mention(row.requester), example="-")
    return to_state




def _role(ctx: Ctx) -> str | None:
    return ctx.role


def _positions(row: ResourceRequest, ctx: Ctx) -> frozenset[str]:
    return positions(row, ctx.actor.user_id, _role(ctx))
