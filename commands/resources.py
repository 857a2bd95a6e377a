"""/resource (资源): the inventory (资源盘点) and the request flow apply -> review -> allocate -> feedback.

Grammar (keywords are case-insensitive; Chinese keywords need no space after them):

    request <type> <amount> for <purpose> [by <date>]   申请 人力 2 用于 华南展会 截止 12月10日
        also "request 2 people for ...", or just "/resource 人力 2 用于 ..."
        purpose separators: for, 用于, 用来, 用途, 目的; date separators: by, due, 截止, 截止到, 截至, 最晚
    approve <id> [note]                                 批准|通过|同意|审核|审核通过 <id> [备注]
        the sales manager approves a submitted request; a resource admin approving an approved
        one is the review (审核通过)
    reject <id> <reason>                                驳回|拒绝 <id> <理由>      (reason required)
    allocate <id> [amount]                              分配 <id> [数量]           (default: all requested)
    feedback <id> <text>                                反馈 <id> <内容>           (closes the request)
    cancel <id> [note]                                  撤回|取消 <id>             (requester, before allocation)
    list [pending|mine|all]                             列表 [待我处理|我的|全部]
        pending = waiting for ME: submitted ones for a manager, approved/reviewed ones for a
        resource admin, and my own allocated ones waiting for my feedback.
        Default: pending for managers and resource admins, mine for everyone else. (A bare
        /resource opens the request form instead: the dispatcher asks commands/forms.py.)
    show <id>                                           查看|详情 <id>             (full history)
    stock                                               盘点|库存                  (have vs need per type)
    stock <type> <available> [need <n>]                 盘点 人力 5 需要 8         (resource_admin)

Types: people 人力, customers 客户 (lead lists), marketing 市场 (channels), budget 财务 (CNY).
Amounts are whole numbers (parse_amount: 2, 2人, 30个, 5万, ¥50k); budget is in CNY.

A request id of another team answers "not found", exactly like an id that does not exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.keywords import keyword, split_head
from commands.core.people import adopt_team_of, mention, require_member
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Table, Text
from commands.i18n import has, t
from storage.models import Member, ResourceRequest, ResourceStock, ResourceTransition, Team, UserPref
from storage.uow import UnitOfWork

# -- the state machine ------------------------------------------------------------------------------

SUBMITTED, APPROVED, REVIEWED, ALLOCATED = "submitted", "approved", "reviewed", "allocated"
CLOSED, REJECTED, CANCELLED = "closed", "rejected", "cancelled"
STATES = (SUBMITTED, APPROVED, REVIEWED, ALLOCATED, CLOSED, REJECTED, CANCELLED)
MANAGER, RESOURCE_ADMIN, REQUESTER = "manager", "resource_admin", "requester"

#: (state, action) -> (next state, who may take the step). Nothing else moves a request.
#:
#:   submitted -(manager approves)-------------> approved     申请: the sales manager approves
#:   approved  -(resource_admin approves)------> reviewed     审核通过: a resource admin reviews
#:   reviewed  -(resource_admin allocates)-----> allocated    分配: takes the stock
#:   allocated -(requester gives feedback)-----> closed       反馈调整
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
    if role not in who:
        key = f"resources.refused_{action}_{row.state}"
        raise Refused(key if has(lang, key) else f"resources.refused_{action}", id=row.id,
                      requester=mention(row.requester), example="-")
    return to_state


# -- types and amounts ------------------------------------------------------------------------------

TYPES: dict[str, tuple[str, ...]] = {
    "people": ("people", "person", "persons", "staff", "headcount", "hc", "人力", "人员", "人手"),
    "customers": ("customers", "customer", "leads", "lead", "客户", "客户资源", "客户名单", "线索"),
    "marketing": ("marketing", "channels", "channel", "mkt", "市场", "市场渠道", "渠道", "推广"),
    "budget": ("budget", "money", "funds", "fund", "cny", "财务", "预算", "经费", "资金"),
}
_TYPE_ALIASES = sorted(((a.casefold(), code) for code, names in TYPES.items() for a in names),
                       key=lambda x: len(x[0]), reverse=True)
MAX_AMOUNT = 10**12
MAX_PURPOSE = 300
MAX_NOTE = 1000
LIST_LIMIT = 30
#: Request ids are INTEGER columns; a bigger number can't be an id (and must not reach the database).
MAX_ID = 2**31 - 1


def type_name(code: str, lang: str) -> str:
    return t(lang, f"resources.type_{code}")


def amount_text(code: str, n: int | None, lang: str) -> str:
    """'2 人' / '2 people', '¥50,000（5万）'."""
    if n is None:
        return "—"
    if code == "budget":
        return fmt.amount(n, "CNY", lang)
    return t(lang, f"resources.unit_{code}", n=fmt.number(n))


def what(row: ResourceRequest, lang: str) -> str:
    """'人力 2 人' / 'people: 2 people'."""
    return t(lang, "resources.what", type=type_name(row.type, lang), amount=amount_text(row.type, row.amount, lang))


def state_name(state: str, lang: str) -> str:
    return t(lang, f"resources.state_{state}")


def _types_list(lang: str) -> str:
    return ", ".join(f"{code} {type_name(code, lang)}" for code in TYPES)


# -- requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitRequest:
    type: str
    amount: int
    purpose: str
    needed_by: datetime | None = None


@dataclass(frozen=True)
class ApproveRequest:
    request_id: int
    note: str = ""


@dataclass(frozen=True)
class RejectRequest:
    request_id: int
    reason: str


@dataclass(frozen=True)
class AllocateRequest:
    request_id: int
    #: None: everything requested.
    amount: int | None = None


@dataclass(frozen=True)
class GiveFeedback:
    request_id: int
    text: str


@dataclass(frozen=True)
class CancelRequest:
    request_id: int
    note: str = ""


@dataclass(frozen=True)
class ListRequests:
    scope: str  # "auto" | "pending" | "mine" | "all"


@dataclass(frozen=True)
class ShowRequest:
    request_id: int


@dataclass(frozen=True)
class SetStock:
    type: str
    available: int
    #: None: keep what was recorded.
    needed: int | None = None


@dataclass(frozen=True)
class ShowStock:
    pass


@dataclass(frozen=True)
class ShowHelp:
    pass


# -- parsing ----------------------------------------------------------------------------------------

KEYWORDS = {
    "request": ("request", "apply", "new", "add", "申请", "新建", "提交"),
    "approve": ("approve", "review", "accept", "ok", "批准", "通过", "同意", "审核", "审核通过", "审批通过"),
    "reject": ("reject", "deny", "decline", "驳回", "拒绝", "否决", "退回"),
    "allocate": ("allocate", "grant", "分配", "发放", "调配"),
    "feedback": ("feedback", "反馈", "评价"),
    "cancel": ("cancel", "withdraw", "撤回", "取消", "撤销"),
    "list": ("list", "ls", "列表", "清单"),
    "show": ("show", "view", "history", "查看", "详情", "历史"),
    "stock": ("stock", "inventory", "盘点", "库存", "资源盘点"),
    "help": ("help", "帮助", "?"),
}
SCOPES = {
    "pending": ("pending", "todo", "waiting", "待我处理", "待处理", "待审批", "待我审批", "待办"),
    "mine": ("mine", "my", "me", "我的", "我"),
    "all": ("all", "team", "全部", "团队", "所有"),
}
_FOR = re.compile(r"(?<!\S)for(?:\s*:)?(?=\s)|用于|用来|用途\s*:?|目的\s*:?", re.IGNORECASE)
_BY = re.compile(r"(?<!\S)(?:by|due|before)(?:\s*:)?(?=\s|$)|截止到|截止日期|截止|截至|最晚", re.IGNORECASE)
_NEED = re.compile(r"(?<!\S)(?:need|needs|needed)(?:\s*:|(?=\s|$))|需要|需求", re.IGNORECASE)
_ID = re.compile(r"#?(\d+)")
_TRIM = " \t\n,，;；:：、。"
EXAMPLE = "resources.example"


def parse(text: str, ctx: Ctx):
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example(EXAMPLE) from None


def _parse(text: str, ctx: Ctx):
    if not text:
        return ListRequests("auto")
    kw, head, rest = split_head(text, KEYWORDS)
    if kw is None and keyword(head, SCOPES):
        kw, rest = "list", text  # "/resource pending", "/resource 我的"
    if kw is None and _match_type(text) is not None:
        kw, rest = "request", text  # "/resource 人力 2 用于 华南展会"
    if kw is None:
        raise UsageError("resources.unknown_keyword", word=head, example=EXAMPLE)
    if kw == "help":
        return ShowHelp()
    if kw == "request":
        return _parse_request(rest, ctx)
    if kw == "list":
        return _parse_list(rest)
    if kw == "stock":
        return _parse_stock(rest, ctx)
    example = f"resources.example_{kw}"
    request_id, rest = _take_id(rest, example)
    if kw == "show":
        if rest:
            raise UsageError("resources.unexpected_text", text=rest, example=example)
        return ShowRequest(request_id)
    if kw == "allocate":
        return AllocateRequest(request_id, _whole(rest, example) if rest else None)
    note = rest.strip(_TRIM)
    if len(note) > MAX_NOTE:
        raise UsageError("resources.note_too_long", max=MAX_NOTE, example=example)
    if kw == "approve":
        return ApproveRequest(request_id, note)
    if kw == "reject":
        if not note:
            raise UsageError("resources.reason_required", id=request_id, example=example)
        return RejectRequest(request_id, note)
    if kw == "feedback":
        if not note:
            raise UsageError("resources.feedback_required", id=request_id, example=example)
        return GiveFeedback(request_id, note)
    return CancelRequest(request_id, note)


def _take_id(rest: str, example: str) -> tuple[int, str]:
    word, _, after = rest.partition(" ")
    if not word:
        raise UsageError("resources.id_required", example=example)
    m = _ID.match(word)
    if m is None or len(m.group(1)) > 18:
        raise UsageError("resources.bad_id", value=word, example=example)
    # "批准7", "#7" and "7 同意" all work; what follows the number is the rest.
    return int(m.group(1)), (word[m.end():] + " " + after).strip()


def _match_type(text: str) -> tuple[str, str] | None:
    """A type alias at the start of `text` -> (type code, the rest), else None."""
    low = text.casefold()
    for alias, code in _TYPE_ALIASES:
        if low.startswith(alias):
            after = text[len(alias):]
            if alias.isascii() and after and not (after[0].isspace() or after[0].isdigit()):
                continue
            return code, after.strip()
    return None


def _match_type_suffix(text: str) -> tuple[str, str] | None:
    """'2 people' -> ('people', '2')."""
    low = text.casefold()
    for alias, code in _TYPE_ALIASES:
        if low.endswith(alias):
            before = text[: len(text) - len(alias)]
            if alias.isascii() and before and not (before[-1].isspace() or before[-1].isdigit()):
                continue
            if before.strip():
                return code, before.strip()
    return None


def _take_type(text: str, lang: str, example: str) -> tuple[str, str]:
    found = _match_type(text) or _match_type_suffix(text)
    if found is None:
        word = text.split()[0] if text.split() else text
        raise UsageError("resources.unknown_type", value=word, known=_types_list(lang), example=example)
    return found


def _whole(raw: str, example: str, *, allow_zero: bool = False) -> int:
    """A whole, positive (or zero) number of units from '2', '2人', '30个', '5万', '¥50k'."""
    raw = raw.strip(_TRIM)
    try:
        a = parsing.parse_amount(raw)
    except UsageError as e:
        raise e.with_example(example) from None
    if a.percent:
        raise UsageError("parse.bad_amount", value=raw, example=example)
    if a.value < 0 or (a.value == 0 and not allow_zero):
        raise UsageError("resources.amount_positive", value=raw, example=example)
    if a.value != int(a.value):
        raise UsageError("resources.amount_whole", value=raw, example=example)
    if a.value > MAX_AMOUNT:
        raise UsageError("resources.amount_too_big", value=raw, example=example)
    return int(a.value)


def _parse_request(rest: str, ctx: Ctx) -> SubmitRequest:
    example = "resources.example_request"
    if not rest:
        raise UsageError("resources.request_empty", example=example)
    sep = _FOR.search(rest)
    if sep is None:
        raise UsageError("resources.purpose_required", example=example)
    head = rest[:sep.start()].strip(_TRIM)
    tail = rest[sep.end():].strip(_TRIM)
    if not head:
        raise UsageError("resources.type_required", known=_types_list(ctx.lang), example=example)
    rtype, amount_raw = _take_type(head, ctx.lang, example)
    if not amount_raw:
        raise UsageError("resources.amount_required", example=example)
    amount = _whole(amount_raw, example)
    needed_by = None
    dues = list(_BY.finditer(tail))
    if dues:
        # The date follows the last date keyword, so a purpose may say "by" ("calls by phone by friday").
        d = dues[-1]
        when = tail[d.end():].strip(_TRIM)
        tail = tail[:d.start()].strip(_TRIM)
        if not when:
            raise UsageError("resources.date_required", example=example)
        try:
            needed_by = parsing.parse_due(when, ctx.now, ctx.tz)
        except UsageError as e:
            raise e.with_example(example) from None
    if not tail:
        raise UsageError("resources.purpose_required", example=example)
    if len(tail) > MAX_PURPOSE:
        raise UsageError("resources.purpose_too_long", max=MAX_PURPOSE, example=example)
    return SubmitRequest(type=rtype, amount=amount, purpose=tail, needed_by=needed_by)


def _parse_list(rest: str) -> ListRequests:
    rest = rest.strip(_TRIM)
    if not rest:
        return ListRequests("auto")
    scope = keyword(rest, SCOPES)
    if scope is None:
        raise UsageError("resources.bad_scope", value=rest, example="resources.example_list")
    return ListRequests(scope)


def _parse_stock(rest: str, ctx: Ctx):
    example = "resources.example_stock"
    rest = rest.strip(_TRIM)
    if not rest:
        return ShowStock()
    rtype, after = _take_type(rest, ctx.lang, example)
    m = _NEED.search(after)
    available_raw = (after[:m.start()] if m else after).strip(_TRIM)
    if not available_raw:
        raise UsageError("resources.available_required", example=example)
    available = _whole(available_raw, example, allow_zero=True)
    needed = None
    if m:
        needed_raw = after[m.end():].strip(_TRIM)
        if not needed_raw:
            raise UsageError("resources.need_required", example=example)
        needed = _whole(needed_raw, example, allow_zero=True)
    return SetStock(rtype, available, needed)


# -- running ----------------------------------------------------------------------------------------


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example(EXAMPLE) from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    s = uow.session
    if isinstance(req, ShowHelp):
        return Reply.text(t(ctx.lang, "resources.help"))
    request_id = getattr(req, "request_id", None)
    if ctx.team_id is None and request_id is not None:
        adopt_team_of(s, ctx, ResourceRequest, request_id, MAX_ID)
    require_member(ctx)
    if isinstance(req, SubmitRequest):
        return _submit(s, req, ctx)
    if isinstance(req, ListRequests):
        return _list(s, req, ctx)
    if isinstance(req, SetStock):
        return _set_stock(s, req, ctx)
    if isinstance(req, ShowStock):
        return stock_table(s, ctx.team, ctx.lang, ctx.tz)
    row = _load(s, ctx, request_id, lock=not isinstance(req, ShowRequest))
    if isinstance(req, ShowRequest):
        return _show(s, row, ctx)
    handler = {ApproveRequest: _approve, RejectRequest: _reject, AllocateRequest: _allocate,
               GiveFeedback: _feedback, CancelRequest: _cancel}[type(req)]
    return handler(s, req, row, ctx)


def _load(s, ctx: Ctx, request_id: int, *, lock: bool) -> ResourceRequest:
    row = None
    if 0 < request_id <= MAX_ID:
        q = select(ResourceRequest).where(ResourceRequest.id == request_id,
                                          ResourceRequest.team_id == ctx.team_id)
        # FOR UPDATE (PostgreSQL): two people acting on one request at once queue here, and the
        # second sees the state the first left. SQLite serialises writers with BEGIN IMMEDIATE.
        row = s.scalars(q.with_for_update() if lock else q).first()
    if row is None:
        raise UsageError("resources.not_found", id=request_id, example="resources.example_list")
    return row


def _role(ctx: Ctx) -> str | None:
    return ctx.role


def _positions(row: ResourceRequest, ctx: Ctx) -> frozenset[str]:
    return positions(row, ctx.actor.user_id, _role(ctx))


def _record(s, ctx: Ctx, row: ResourceRequest, to_state: str, *, note: str = "",
            amount: int | None = None) -> str:
    """Move `row` to `to_state` and keep the step. Returns the state it came from."""
    from_state = row.state
    row.state, row.updated_at = to_state, ctx.now
    s.add(row)
    s.add(ResourceTransition(request_id=row.id, actor=ctx.actor.user_id, at=ctx.now, from_state=from_state,
                             to_state=to_state, note=note, amount=amount))
    return from_state


# -- the steps --------------------------------------------------------------------------------------


def _submit(s, req: SubmitRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    row = ResourceRequest(team_id=ctx.team_id, requester=ctx.actor.user_id, type=req.type, amount=req.amount,
                          purpose=req.purpose, needed_by=req.needed_by, state=SUBMITTED, created_at=ctx.now,
                          updated_at=ctx.now)
    s.add(row)
    s.flush()
    s.add(ResourceTransition(request_id=row.id, actor=ctx.actor.user_id, at=ctx.now, from_state=None,
                             to_state=SUBMITTED, note="", amount=req.amount))
    notified = _notify_next(s, ctx, row)
    head = t(lang, "resources.submitted", id=row.id, what=what(row, lang), purpose=row.purpose)
    return _step_reply(s, ctx, row, head, notified, "resources.notified_managers")


def _approve(s, req: ApproveRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "approve", _positions(row, ctx), lang)
    _record(s, ctx, row, to_state, note=req.note)
    notified = _notify_next(s, ctx, row)
    if row.requester not in notified:  # a requester who acts next already got the request with buttons
        _tell_requester(s, ctx, row, f"resources.dm_{to_state}", note=_note_line(req.note))
    key = "resources.approved" if to_state == APPROVED else "resources.reviewed"
    head = t(lang, key, id=row.id, what=what(row, lang), requester=mention(row.requester))
    return _step_reply(s, ctx, row, head, notified, "resources.notified_admins")


def _reject(s, req: RejectRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "reject", _positions(row, ctx), lang)
    _record(s, ctx, row, to_state, note=req.reason)
    told = _tell_requester(s, ctx, row, "resources.dm_rejected", reason=req.reason)
    text = t(lang, "resources.rejected", id=row.id, what=what(row, lang), reason=req.reason)
    if told:
        text += "\n" + t(lang, "resources.requester_told", who=mention(row.requester))
    return Reply.text(text)


def _allocate(s, req: AllocateRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "allocate", _positions(row, ctx), lang)
    n = row.amount if req.amount is None else req.amount
    if n > row.amount:
        raise Refused("resources.allocate_too_much", id=row.id, amount=amount_text(row.type, n, lang),
                      requested=amount_text(row.type, row.amount, lang), example="-")
    left = take_stock(s, ctx.team_id, row.type, n)
    if left is not None:
        key = "resources.stock_short" if left > 0 else "resources.stock_empty"
        raise Refused(key, id=row.id, type=type_name(row.type, lang), amount=amount_text(row.type, n, lang),
                      left=amount_text(row.type, left, lang), n=left, example="-")
    row.allocated_amount = n
    _record(s, ctx, row, to_state, amount=n)
    partial = n < row.amount
    _tell_requester(s, ctx, row, "resources.dm_allocated", buttons=True,
                    allocated=lambda lang: amount_text(row.type, n, lang))
    remaining = s.scalar(select(ResourceStock.available).where(ResourceStock.team_id == ctx.team_id,
                                                               ResourceStock.type == row.type))
    text = t(lang, "resources.allocated", id=row.id, amount=amount_text(row.type, n, lang),
             type=type_name(row.type, lang), requester=mention(row.requester),
             left=amount_text(row.type, remaining, lang))
    if partial:
        text += "\n" + t(lang, "resources.partial", requested=amount_text(row.type, row.amount, lang),
                         amount=amount_text(row.type, n, lang))
    return Reply.text(text)


def _feedback(s, req: GiveFeedback, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    to_state = decide(row, "feedback", _positions(row, ctx), lang)
    _record(s, ctx, row, to_state, note=req.text)
    # Everyone who handled the request hears how it went.
    handlers = set(s.scalars(select(ResourceTransition.actor).where(
        ResourceTransition.request_id == row.id, ResourceTransition.from_state.is_not(None))))
    for user_id in sorted(handlers - {ctx.actor.user_id}):
        _dm(s, ctx, row, user_id, "resources.dm_closed", text=req.text, by=mention(ctx.actor.user_id))
    return Reply.text(t(lang, "resources.closed", id=row.id, what=what(row, lang)))


def _cancel(s, req: CancelRequest, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang = ctx.lang
    holders = _approvers(s, ctx.team_id, row.state) if row.state in AWAITING_APPROVER else []
    to_state = decide(row, "cancel", _positions(row, ctx), lang)
    _record(s, ctx, row, to_state, note=req.note)
    for user_id in holders:
        if user_id != ctx.actor.user_id:
            _dm(s, ctx, row, user_id, "resources.dm_cancelled", by=mention(ctx.actor.user_id),
                note=_note_line(req.note))
    return Reply.text(t(lang, "resources.cancelled", id=row.id, what=what(row, lang)))


def take_stock(s, team_id: int, rtype: str, n: int) -> int | None:
    """Take `n` units in ONE conditional UPDATE (never read-then-write), so two admins allocating the
    last units at the same moment cannot both succeed: on PostgreSQL the second UPDATE waits for the
    first's row lock and re-checks `available >= n` against the committed value; SQLite runs one
    writer at a time. None on success, else what is left (0 when nothing was ever recorded)."""
    table = ResourceStock.__table__
    result = s.execute(update(table)
                       .where(table.c.team_id == team_id, table.c.type == rtype, table.c.available >= n)
                       .values(available=table.c.available - n))
    if result.rowcount == 1:
        return None
    left = s.scalar(select(table.c.available).where(table.c.team_id == team_id, table.c.type == rtype))
    return left or 0


# -- notifications ----------------------------------------------------------------------------------


def _recipient(s, team: Team, platform: str, user_id: str, fallback_tz: ZoneInfo) -> tuple[str, ZoneInfo]:
    """The recipient's own language and time zone (their choice, else the team's)."""
    pref = s.get(UserPref, (platform, user_id))
    lang = (pref.lang if pref else None) or team.lang
    try:
        tz = ZoneInfo((pref.tz if pref else None) or team.tz)
    except (KeyError, ValueError, OSError):
        tz = fallback_tz
    return lang, tz


def approvers(session, team_id: int, state: str) -> list[str]:
    """Who acts next on a request waiting in `state` (managers or resource admins), by user id."""
    role = NEXT_ACTOR.get(state)
    if role not in (MANAGER, RESOURCE_ADMIN):
        return []
    return list(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.role == role)
                                .order_by(Member.user_id)))


_approvers = approvers


def stage_buttons(row: ResourceRequest, lang: str) -> Actions | None:
    """The buttons for whoever acts next. Each runs its typed command as the CLICKING user, so the
    server re-checks the permission (a forwarded Approve clicked by a rep is refused)."""
    rid = row.id
    if row.state == SUBMITTED:
        return Actions((
            Button(t(lang, "resources.button_approve"), "resource.approve", str(rid),
                   command=f"/resource approve {rid}", style="primary"),
            # Needs a reason: in Slack this button should open a form (modal) asking for it.
            Button(t(lang, "resources.button_reject"), "resource.reject", str(rid),
                   command=f"/resource reject {rid} ", style="danger"),
        ))
    if row.state == APPROVED:
        return Actions((
            Button(t(lang, "resources.button_review"), "resource.approve", str(rid),
                   command=f"/resource approve {rid}", style="primary"),
            Button(t(lang, "resources.button_reject"), "resource.reject", str(rid),
                   command=f"/resource reject {rid} ", style="danger"),
        ))
    if row.state == REVIEWED:
        return Actions((Button(t(lang, "resources.button_allocate"), "resource.allocate", str(rid),
                               command=f"/resource allocate {rid}", style="primary"),))
    if row.state == ALLOCATED:
        return Actions((Button(t(lang, "resources.button_feedback"), "resource.feedback", str(rid),
                               command=f"/resource feedback {rid} "),))
    return None


def details(row: ResourceRequest, tz, lang: str) -> Fields:
    pairs = [(t(lang, "resources.label_id"), f"#{row.id}"),
             (t(lang, "resources.label_requester"), mention(row.requester)),
             (t(lang, "resources.label_what"), what(row, lang)),
             (t(lang, "resources.label_purpose"), row.purpose)]
    if row.needed_by is not None:
        pairs.append((t(lang, "resources.label_needed_by"), fmt.when(row.needed_by, tz, lang)))
    if row.allocated_amount is not None:
        pairs.append((t(lang, "resources.label_allocated"), amount_text(row.type, row.allocated_amount, lang)))
    pairs.append((t(lang, "resources.label_state"), state_name(row.state, lang)))
    return Fields(tuple(pairs))


def _dm(s, ctx: Ctx, row: ResourceRequest, user_id: str, key: str, *, buttons: bool = False, **args) -> None:
    lang, tz = _recipient(s, ctx.team, ctx.actor.platform, user_id, ctx.tz)
    args = {k: (v(lang) if callable(v) else v) for k, v in args.items()}
    head = t(lang, key, id=row.id, what=what(row, lang), team=ctx.team.name,
             requester=mention(row.requester), **args)
    parts: list = [Text(head), details(row, tz, lang)]
    actions = stage_buttons(row, lang) if buttons else None
    if actions is not None:
        parts.append(actions)
    ctx.send(Outgoing(destination=f"user:{user_id}",
                      reply=Reply(parts=tuple(parts), private=False, summary=head.split("\n")[0]),
                      dedupe_key=f"resource:{row.id}:{row.state}:{user_id}",
                      meta={"kind": "resource", "request_id": row.id, "state": row.state}))


def _notify_next(s, ctx: Ctx, row: ResourceRequest) -> list[str]:
    """The request, with the buttons for the next step, to each person who takes it (not the actor)."""
    key = {SUBMITTED: "resources.dm_please_approve", APPROVED: "resources.dm_please_review",
           REVIEWED: "resources.dm_please_allocate"}.get(row.state)
    if key is None:
        return []
    out = []
    for user_id in approvers(s, ctx.team_id, row.state):
        if user_id == ctx.actor.user_id:
            continue
        _dm(s, ctx, row, user_id, key, buttons=True, by=mention(ctx.actor.user_id))
        out.append(user_id)
    return out


def _tell_requester(s, ctx: Ctx, row: ResourceRequest, key: str, *, buttons: bool = False, **args) -> bool:
    if row.requester == ctx.actor.user_id:
        return False
    _dm(s, ctx, row, row.requester, key, buttons=buttons, by=mention(ctx.actor.user_id), **args)
    return True


def _note_line(note: str):
    """'\n备注：…' in the recipient's language (_dm calls it with theirs), or ''."""
    if not note:
        return ""
    return lambda lang: t(lang, "resources.note_line", note=note)


def _step_reply(s, ctx: Ctx, row: ResourceRequest, head: str, notified: list[str], notified_key: str) -> Reply:
    """The actor's reply after a step: what happened, who was told, and the next step's buttons
    when the actor is the one to take it."""
    lang = ctx.lang
    parts: list = [Text(head), details(row, ctx.tz, lang)]
    if notified:
        parts.append(Text(t(lang, notified_key, who=" ".join(mention(u) for u in notified))))
    next_role = NEXT_ACTOR.get(row.state)
    mine = next_role is not None and next_role in _positions(row, ctx)
    if mine:
        actions = stage_buttons(row, lang)
        if actions is not None:
            parts.append(actions)
    elif not notified and next_role in (MANAGER, RESOURCE_ADMIN):
        parts.append(Text(t(lang, f"resources.nobody_{next_role}")))
    return Reply(parts=tuple(parts), summary=head.split("\n")[0])


# -- reading ----------------------------------------------------------------------------------------


def _list(s, req: ListRequests, ctx: Ctx) -> Reply:
    lang, me, role = ctx.lang, ctx.actor.user_id, _role(ctx)
    scope = req.scope
    if scope == "auto":
        scope = "pending" if role in (MANAGER, RESOURCE_ADMIN) else "mine"
    q = select(ResourceRequest).where(ResourceRequest.team_id == ctx.team_id)
    if scope == "pending":
        mine_to_do = [st for st, who in NEXT_ACTOR.items() if who == role]
        q = q.where(or_(ResourceRequest.state.in_(mine_to_do),
                        (ResourceRequest.requester == me) & (ResourceRequest.state == ALLOCATED)))
        order = (ResourceRequest.updated_at, ResourceRequest.id)
    elif scope == "mine":
        q = q.where(ResourceRequest.requester == me)
        order = (ResourceRequest.id.desc(),)
    else:
        order = (ResourceRequest.id.desc(),)
    label = t(lang, f"resources.scope_{scope}", team=ctx.team.name)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    if not total:
        return Reply.text(t(lang, "resources.list_empty", scope=label))
    rows = list(s.scalars(q.order_by(*order).limit(LIST_LIMIT)))
    table = tuple((f"#{r.id}", type_name(r.type, lang), amount_text(r.type, r.amount, lang), mention(r.requester),
                   _clip(r.purpose, 40), state_name(r.state, lang),
                   fmt.day(r.needed_by.astimezone(ctx.tz).date(), lang) if r.needed_by else "—") for r in rows)
    header = tuple(t(lang, f"resources.col_{c}") for c in ("id", "type", "amount", "requester", "purpose",
                                                           "state", "needed_by"))
    title = t(lang, "resources.list_title", scope=label, count=total)
    parts: list = [Text(title), Table(header, table)]
    if total > LIST_LIMIT:
        parts.append(Text(t(lang, "resources.list_more", n=total - LIST_LIMIT)))
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))


def history(s, request_id: int) -> list[ResourceTransition]:
    return list(s.scalars(select(ResourceTransition).where(ResourceTransition.request_id == request_id)
                          .order_by(ResourceTransition.at, ResourceTransition.id)))


def _show(s, row: ResourceRequest, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    head = t(lang, "resources.show_title", id=row.id, what=what(row, lang), state=state_name(row.state, lang))
    parts: list = [Text(head), details(row, tz, lang)]
    next_role = NEXT_ACTOR.get(row.state)
    if next_role is not None:
        parts.append(Text(t(lang, f"resources.next_{row.state}", requester=mention(row.requester))))
    rows = []
    for tr in history(s, row.id):
        rows.append((tr.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), mention(tr.actor),
                     t(lang, f"resources.step_{tr.to_state}"),
                     f"{state_name(tr.from_state, lang) if tr.from_state else '—'} → {state_name(tr.to_state, lang)}",
                     amount_text(row.type, tr.amount, lang) if tr.amount is not None else "",
                     tr.note))
    header = tuple(t(lang, f"resources.col_{c}") for c in ("at", "actor", "step", "change", "amount", "note"))
    parts.append(Text(t(lang, "resources.history_title", tz=fmt.zone_name(tz))))
    parts.append(Table(header, tuple(rows)))
    if ctx.member_id is not None and next_role in _positions(row, ctx):
        actions = stage_buttons(row, lang)
        if actions is not None:
            parts.append(actions)
    return Reply(parts=tuple(parts), summary=head.replace("*", ""))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- inventory --------------------------------------------------------------------------------------


def _set_stock(s, req: SetStock, ctx: Ctx) -> Reply:
    lang = ctx.lang
    if _role(ctx) != STOCK_ROLE:
        raise Refused("resources.stock_admin_only", example="-")
    table = ResourceStock.__table__
    before = s.execute(select(table.c.available, table.c.needed)
                       .where(table.c.team_id == ctx.team_id, table.c.type == req.type)).first()
    values = {"team_id": ctx.team_id, "type": req.type, "available": req.available,
              "needed": req.needed if req.needed is not None else 0, "updated_at": ctx.now}
    dialect = s.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    change = {"available": ins.excluded.available, "updated_at": ins.excluded.updated_at}
    if req.needed is not None:
        change["needed"] = ins.excluded.needed
    s.execute(ins.on_conflict_do_update(index_elements=["team_id", "type"], set_=change))
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


def stock_table(s, team: Team, lang: str, tz) -> Reply:
    """The seed's 资源盘点 table: per type what the team has, needs, the gap, and what is being asked for."""
    stock = {r.type: r for r in s.scalars(select(ResourceStock).where(ResourceStock.team_id == team.id))}
    asked = dict(s.execute(select(ResourceRequest.type, func.sum(ResourceRequest.amount))
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
    return Reply(parts=(Text(title), Table(header, tuple(rows)), Text(t(lang, "resources.stock_hint"))),
                 summary=title.replace("*", ""))
