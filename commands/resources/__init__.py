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
        /resource opens the request form instead: the dispatcher asks commands/core/forms.py.)
    show <id>                                           查看|详情 <id>             (full history)
    stock                                               盘点|库存                  (have vs need per type)
    stock <type> <available> [need <n>]                 盘点 人力 5 需要 8         (resource_admin)

Types: people 人力, customers 客户 (lead lists), marketing 市场 (channels), budget 财务 (CNY).
Amounts are whole numbers (parse_amount: 2, 2人, 30个, 5万, ¥50k); budget is in CNY.

A request id of another team answers "not found", exactly like an id that does not exist.
"""
from __future__ import annotations

from commands.resources.form import FORM
from commands.resources.notify import approvers, details, stage_buttons
from commands.resources.parse import (
    EXAMPLE,
    KEYWORDS,
    SCOPES,
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
    parse,
)
from commands.resources.run import run, take_stock
from commands.resources.show import history
from commands.resources.states import (
    ACTIONS,
    ALLOCATED,
    APPROVED,
    AWAITING_APPROVER,
    CANCELLED,
    CLOSED,
    MANAGER,
    NEXT_ACTOR,
    REJECTED,
    REQUESTER,
    RESOURCE_ADMIN,
    REVIEWED,
    STOCK_ROLE,
    SUBMITTED,
    TERMINAL,
    TRANSITIONS,
    decide,
    positions,
)
from commands.resources.stock import stock_table
from commands.resources.types import (
    LIST_LIMIT,
    MAX_AMOUNT,
    MAX_ID,
    MAX_NOTE,
    MAX_PURPOSE,
    TYPES,
    amount_text,
    state_name,
    type_name,
    what,
)

__all__ = [
    "FORM",
    "ACTIONS", "ALLOCATED", "AllocateRequest", "amount_text", "APPROVED", "ApproveRequest", "approvers",
    "AWAITING_APPROVER", "CANCELLED", "CancelRequest", "CLOSED", "decide", "details", "EXAMPLE",
    "GiveFeedback", "history", "KEYWORDS", "LIST_LIMIT", "ListRequests", "MANAGER", "MAX_AMOUNT",
    "MAX_ID", "MAX_NOTE", "MAX_PURPOSE", "NEXT_ACTOR", "parse", "positions", "REJECTED",
    "RejectRequest", "REQUESTER", "RESOURCE_ADMIN", "REVIEWED", "run", "SCOPES", "SetStock", "ShowHelp",
    "ShowRequest", "ShowStock", "stage_buttons", "state_name", "STOCK_ROLE", "stock_table",
    "SubmitRequest", "SUBMITTED", "take_stock", "TERMINAL", "TRANSITIONS", "type_name", "TYPES", "what"
]
