"""/resource text -> a typed request (pure; raises UsageError)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from commands.core import parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword, split_head
from commands.resources.types import _TYPE_ALIASES, MAX_AMOUNT, MAX_NOTE, MAX_PURPOSE, _types_list


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
    #: What the allocation brought (投入产出比's return): sales in CNY, new customers.
    sales: float | None = None
    customers: int | None = None


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
    "cancel": ("cancel", "withdraw", "撤回", "取消", "撤销", "撤消"),
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
        return _parse_feedback(request_id, note, example)
    return CancelRequest(request_id, note)


#: Keys of what an allocation brought, in `/resource feedback 7 <text> sales=5万 customers=2`.
RETURN_KEYS = {
    "sales": ("sales", "revenue", "销售额", "销售", "成交额", "业绩", "营收"),
    "customers": ("customers", "customer", "new_customers", "新客户", "客户", "客户数", "新增客户"),
}


def _parse_feedback(request_id: int, note: str, example: str) -> GiveFeedback:
    words, pairs = parsing.split_pairs(note)
    found: dict[str, float] = {}
    for key, value in pairs:
        code = keyword(key, RETURN_KEYS)
        if code is None:
            raise UsageError("resources.unknown_return_key", name=key, example=example)
        if code in found:
            raise UsageError("resources.return_twice", name=key, example=example)
        found[code] = _return_value(code, value, example)
    text = words.strip(_TRIM)
    if not text and not found:
        raise UsageError("resources.feedback_required", id=request_id, example=example)
    customers = found.get("customers")
    return GiveFeedback(request_id, text, sales=found.get("sales"),
                        customers=int(customers) if customers is not None else None)


def _return_value(code: str, raw: str, example: str) -> float:
    try:
        a = parsing.parse_amount(raw)
    except UsageError as e:
        raise e.with_example(example) from None
    if a.percent or a.value < 0:
        raise UsageError("resources.return_bad", value=raw, example=example)
    if code == "customers" and a.value != int(a.value):
        raise UsageError("resources.amount_whole", value=raw, example=example)
    if a.value > MAX_AMOUNT:
        raise UsageError("resources.amount_too_big", value=raw, example=example)
    return float(a.value)


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
            needed_by = parsing.parse_due(when, ctx.now, ctx.tz, calendar=ctx.calendar)
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
