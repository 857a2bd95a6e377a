"""/resource through the real dispatcher and database (SQLite and PostgreSQL), in zh and en.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东销售一组 in C-sales: wang (manager), li (rep, the
requester), chen (account manager), mei (marketing), zhao (resource admin), amy (resource admin,
English), hr (performance admin); `stranger` is in no team."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from commands import resources
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import Actions, Reply, Table
from storage.models import OutboxMessage, ResourceRequest, ResourceStock, ResourceTransition
from tests.kit.dialog import Chat, row_counts, run_dialog

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = {"wang": "manager", "li": "rep", "chen": "account_manager", "mei": "marketing",
         "zhao": "resource_admin", "hr": "performance_admin"}
EVERYONE = (*ROLES, "stranger")


def _team(uow, clock, *, amy: bool = True) -> Chat:
    chat = Chat(uow, clock)
    assert chat.say("wang", "/team setup 华东销售一组").ok
    for user, role in ROLES.items():
        if user != "wang":
            assert chat.say("wang", f"/team add @{user} {role}").ok
    if amy:
        assert chat.say("wang", "/team add @amy resource_admin").ok
        assert chat.say("amy", "/teambot lang en").ok
    return chat


def _request(uow, request_id: int) -> ResourceRequest:
    with uow() as u:
        return u.session.get(ResourceRequest, request_id)


def _snapshot(uow) -> list[tuple]:
    with uow() as u:
        session = u.session
        return ([(r.id, r.state, r.amount, r.allocated_amount, r.updated_at)
                 for r in session.scalars(select(ResourceRequest).order_by(ResourceRequest.id))]
                + [(x.type, x.available, x.needed, x.updated_at)
                   for x in session.scalars(select(ResourceStock).order_by(ResourceStock.type))])


def _stock(uow, rtype: str = "people") -> int | None:
    with uow() as u:
        return u.session.scalar(select(ResourceStock.available).where(ResourceStock.type == rtype))


def _outbox(uow) -> list[tuple[str, str, dict]]:
    with uow() as u:
        return [(m.destination, m.dedupe_key, json.loads(m.payload))
                for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _text(payload: dict) -> str:
    out = []
    for p in payload["parts"]:
        if p["type"] == "Text":
            out.append(p["text"])
        elif p["type"] == "Fields":
            out.extend(f"{k}: {v}" for k, v in p["pairs"])
    return "\n".join(out)


def _buttons(payload: dict) -> list[tuple[str, str]]:
    return [(b["label"], b["command"]) for p in payload["parts"] if p["type"] == "Actions"
            for b in p["buttons"]]


def _history(reply: Reply) -> list[tuple[str, ...]]:
    tables = [p for p in reply.parts if isinstance(p, Table)]
    assert tables, reply.plain()
    return [tuple(r) for r in tables[-1].rows]


# -- the state machine as documented -----------------------------------------------------------------

EXPECTED_TRANSITIONS = {
    ("submitted", "approve"): ("approved", "manager"),
    ("approved", "approve"): ("reviewed", "resource_admin"),
    ("reviewed", "allocate"): ("allocated", "resource_admin"),
    ("allocated", "feedback"): ("closed", "requester"),
    ("submitted", "reject"): ("rejected", "manager"),
    ("approved", "reject"): ("rejected", "resource_admin"),
    ("submitted", "cancel"): ("cancelled", "requester"),
    ("approved", "cancel"): ("cancelled", "requester"),
    ("reviewed", "cancel"): ("cancelled", "requester"),
}


def test_transition_table_is_the_documented_one():
    assert resources.TRANSITIONS == EXPECTED_TRANSITIONS
    assert resources.TERMINAL == {"closed", "rejected", "cancelled"}
    assert not any(state in resources.TERMINAL for state, _ in resources.TRANSITIONS)
    src = Path(resources.states.__file__).read_text(encoding="utf-8")
    for (state, _action), (to_state, _role) in EXPECTED_TRANSITIONS.items():
        assert any(state in line and to_state in line for line in src.splitlines() if line.startswith("#:")), \
            (state, to_state)


# -- the permission matrix: every role x every step ---------------------------------------------------

#: step -> who may take it. Everyone else (every other role, and a non-member) is refused.
MATRIX: dict[str, set[str]] = {
    "request": {"wang", "li", "chen", "mei", "zhao", "hr"},
    "approve@submitted": {"wang"},
    "reject@submitted": {"wang"},
    "approve@approved": {"zhao"},  # the resource admins' review (审核通过)
    "reject@approved": {"zhao"},
    "allocate@reviewed": {"zhao"},
    "feedback@allocated": {"li", "wang"},  # the manager may say what an allocation brought
    "cancel@submitted": {"li"},
    "cancel@approved": {"li"},
    "cancel@reviewed": {"li"},
    "stock": {"zhao"},
    "show": {"wang", "li", "chen", "mei", "zhao", "hr"},
    "list": {"wang", "li", "chen", "mei", "zhao", "hr"},
}
STEP_COMMAND = {
    "request": ("/resource 申请 客户 30 用于 华南展会", None),
    "approve@submitted": ("/resource 批准 1 同意", "approved"),
    "reject@submitted": ("/resource 驳回 1 预算不够", "rejected"),
    "approve@approved": ("/resource 审核通过 1", "reviewed"),
    "reject@approved": ("/resource 驳回 1 库存不足", "rejected"),
    "allocate@reviewed": ("/resource 分配 1", "allocated"),
    "feedback@allocated": ("/resource 反馈 1 很有帮助", "closed"),
    "cancel@submitted": ("/resource 撤回 1", "cancelled"),
    "cancel@approved": ("/resource 撤回 1", "cancelled"),
    "cancel@reviewed": ("/resource 撤回 1", "cancelled"),
    "stock": ("/resource 盘点 人力 9 需要 10", None),
    "show": ("/resource 查看 1", None),
    "list": ("/resource 列表 全部", None),
}


def _bring_to(chat: Chat, state: str) -> None:
    """Request #1 by li (people 2), moved to `state` by the right people."""
    assert chat.say("zhao", "/resource 盘点 人力 5 需要 8").ok
    assert chat.say("li", "/resource 申请 人力 2 用于 华南展会 截止 12月10日").ok
    steps = [("wang", "/resource 批准 1"), ("zhao", "/resource 审核通过 1"), ("zhao", "/resource 分配 1")]
    order = ["submitted", "approved", "reviewed", "allocated"]
    for user, command in steps[: order.index(state)]:
        reply = chat.say(user, command)
        assert reply.ok, reply.plain()


@pytest.mark.parametrize("actor", EVERYONE)
@pytest.mark.parametrize("step", list(MATRIX))
def test_permission_matrix(uow, clock, step, actor):
    chat = _team(uow, clock, amy=False)
    _bring_to(chat, step.partition("@")[2] or "submitted")
    clock.advance(minutes=5)
    command, to_state = STEP_COMMAND[step]
    allowed = actor in MATRIX[step]
    before_rows, before = row_counts(uow), _snapshot(uow)
    reply = chat.say(actor, command)
    if allowed:
        assert reply.ok, (actor, command, reply.plain())
        if to_state:
            row = _request(uow, 1)
            assert (row.state, row.updated_at) == (to_state, clock.now())
            with uow() as u:
                last = u.session.scalars(select(ResourceTransition).order_by(ResourceTransition.id.desc())).first()
            assert (last.actor, last.to_state, last.at) == (actor, to_state, clock.now())
        if step == "request":
            assert _request(uow, 2).requester == actor
        if step == "stock":
            assert _stock(uow) == 9
    else:
        plain = reply.plain()
        assert not reply.ok and reply.private and plain.startswith("🚫"), (actor, command, plain)
        assert row_counts(uow) == before_rows, (actor, command)
        assert _snapshot(uow) == before, (actor, command)


def test_refusals_say_who_may(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "submitted")
    run_dialog(chat, [
        ("li", "/resource 批准 1", ["申请 #1 正在等销售经理批准，只有销售经理可以批准"], [], False),
        ("zhao", "/resource 审核通过 1", ["只有销售经理可以批准"], [], False),
        ("amy", "/resource reject 1 no", ["only the sales manager can reject it now"], [], False),
        ("wang", "/resource 撤回 1", ["只有申请人 <@li> 可以撤回申请 #1"], [], False),
        ("stranger", "/resource 列表", ["你还不是团队“华东销售一组”的成员"], [], False),
        ("wang", "/resource 盘点 人力 3", ["只有资源管理部可以盘点资源"], [], False),
    ])


# -- the Chinese walk-through -------------------------------------------------------------------------

def test_walk_through_zh_from_request_to_feedback(uow, clock):
    chat = _team(uow, clock)
    t0 = clock.now()
    run_dialog(chat, [
        ("zhao", "/resource 盘点 人力 5 需要 8", ["已盘点人力：现有 5 人，需求 8 人，缺 3 人"]),
        ("li", "/资源 申请 人力 2 用于 华南展会 截止 12月10日",
         ["已提交资源申请 #1：人力 2 人，用于 华南展会", "截止：2026-12-10 周四 18:00 Asia/Shanghai",
          "状态：待经理批准", "已通知销售经理 <@wang> 审批"]),
    ])
    clock.advance(hours=1)
    run_dialog(chat, [
        ("wang", "/resource 批准 1 同意，注意控制成本",
         ["已批准 <@li> 的资源申请 #1（人力 2 人）", "已通知资源管理部 <@amy> <@zhao>"]),
        ("wang", "/resource 批准 1", ["申请 #1 已经由经理批准，正在等资源管理部审核"], [], False),
        ("zhao", "/resource 分配 1", ["要先经理批准、资源管理部审核通过，才能分配"], [], False),
    ])
    clock.advance(hours=1)
    run_dialog(chat, [
        ("zhao", "/resource 审核通过 1", ["申请 #1（<@li>：人力 2 人）审核通过，可以分配了",
                                         "[分配] (/resource allocate 1)"]),
        ("zhao", "/resource 审核通过 1", ["申请 #1 目前是“待分配”，不能再批准"], [], False),
    ])
    clock.advance(hours=1)
    run_dialog(chat, [
        ("zhao", "/resource 分配 1", ["已为申请 #1 分配 人力 2 人，已通知 <@li>", "人力库存还剩 3 人"]),
        ("amy", "/resource allocate 1", ["has already been allocated"], [], False),
        ("li", "/resource 撤回 1", ["已经分配，不能撤回"], [], False),
    ])
    clock.advance(days=1)
    run_dialog(chat, [
        ("li", "/resource 反馈 1 展会新增客户12家，人手刚好", ["已记录你对申请 #1（人力 2 人）的反馈，申请已关闭"]),
        ("li", "/resource 反馈 1 再说一句", ["申请 #1 的流程已经结束（已关闭），不能再修改"], [], False),
    ])
    show = chat.say("li", "/resource 查看 1")
    assert show.ok
    assert "资源申请 #1*：人力 2 人 · 已关闭" in show.plain() and "已分配：2 人" in show.plain()
    at = [(t0 + d).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
          for d in (timedelta(0), timedelta(hours=1), timedelta(hours=2), timedelta(hours=3),
                    timedelta(days=1, hours=3))]
    assert _history(show) == [
        (at[0], "<@li>", "提交申请", "— → 待经理批准", "2 人", ""),
        (at[1], "<@wang>", "经理批准", "待经理批准 → 待审核", "", "同意，注意控制成本"),  # Chinese prose punctuation is kept as typed
        (at[2], "<@zhao>", "资源审核通过", "待审核 → 待分配", "", ""),
        (at[3], "<@zhao>", "分配", "待分配 → 已分配待反馈", "2 人", ""),
        (at[4], "<@li>", "反馈并关闭", "已分配待反馈 → 已关闭", "", "展会新增客户12家，人手刚好"),
    ]
    assert _stock(uow) == 3


def test_walk_through_en_with_partial_allocation_and_no_spaces_zh(uow, clock):
    chat = _team(uow, clock)
    chat.locales["bob"] = "en"
    run_dialog(chat, [
        ("amy", "/resource stock budget 50万 need 80万",
         ["Stock of budget recorded: have ¥500,000, need ¥800,000, short by ¥300,000"]),
        ("li", "/资源 申请财务5万元用于华南展会展位费", ["已提交资源申请 #1：财务 ¥50,000（5万），用于 华南展会展位费"]),
        ("wang", "/resource 批准1", ["已批准"]),
        ("amy", "/resource approve 1", ["Request #1 (<@li>: ¥50,000 budget) reviewed"]),
        ("amy", "/resource allocate 1 60000", ["Request #1 asked for ¥50,000; ¥60,000 is more than that"], [],
         False),
        ("amy", "/resource allocate 1 3万", ["Allocated budget: ¥30,000 to request #1",
                                             "(Partial allocation: ¥50,000 requested, ¥30,000 allocated.)",
                                             "budget left in stock: ¥470,000"]),
    ])
    row = _request(uow, 1)
    assert (row.state, row.amount, row.allocated_amount) == ("allocated", 50000, 30000)
    assert _stock(uow, "budget") == 470000


# -- the state rules --------------------------------------------------------------------------------

@pytest.mark.parametrize("end", ["closed", "rejected", "cancelled"])
def test_nothing_changes_after_the_end(uow, clock, end):
    chat = _team(uow, clock)
    _bring_to(chat, "allocated" if end == "closed" else "submitted")
    finish = {"closed": ("li", "/resource 反馈 1 好"), "rejected": ("wang", "/resource 驳回 1 不需要"),
              "cancelled": ("li", "/resource 撤回 1")}[end]
    assert chat.say(*finish).ok
    before_rows, before = row_counts(uow), _snapshot(uow)
    for user in ("wang", "zhao", "li", "amy"):
        for command in ("/resource 批准 1", "/resource 驳回 1 理由", "/resource 分配 1", "/resource 反馈 1 再来",
                        "/resource 撤回 1"):
            reply = chat.say(user, command)
            assert not reply.ok and reply.plain().startswith("🚫"), (user, command, reply.plain())
            assert "流程已经结束" in reply.plain() or "has ended" in reply.plain(), reply.plain()
    assert row_counts(uow) == before_rows and _snapshot(uow) == before


def test_allocate_before_review_is_refused_even_for_an_admin(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "submitted")
    for state in ("submitted", "approved"):
        if state == "approved":
            assert chat.say("wang", "/resource 批准 1").ok
        before = _snapshot(uow)
        reply = chat.say("zhao", "/resource 分配 1")
        assert not reply.ok and "才能分配" in reply.plain(), reply.plain()
        assert _snapshot(uow) == before
    assert _stock(uow) == 5


def test_double_approve_is_refused_for_every_stage(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "submitted")
    assert chat.say("wang", "/resource approve 1").ok
    assert not chat.say("wang", "/resource approve 1").ok
    assert chat.say("zhao", "/resource approve 1").ok
    for user in ("zhao", "amy", "wang"):
        reply = chat.say(user, "/resource approve 1")
        assert not reply.ok, reply.plain()
    with uow() as u:
        steps = [x.to_state for x in u.session.scalars(select(ResourceTransition).order_by(ResourceTransition.id))]
    assert steps == ["submitted", "approved", "reviewed"]


def test_reject_needs_a_reason_and_the_requester_hears_it(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "submitted")
    before = row_counts(uow)
    reply = chat.say("wang", "/resource 驳回 1")
    assert not reply.ok and "驳回需要写明理由" in reply.plain() and "正确示例" in reply.plain()
    assert row_counts(uow) == before
    assert chat.say("wang", "/resource 驳回 1 本季度预算已用完").ok
    dm = [p for d, k, p in _outbox(uow) if d == "user:li"]
    assert "驳回了你的资源申请 #1" in _text(dm[-1]) and "理由：本季度预算已用完" in _text(dm[-1])
    assert _request(uow, 1).state == "rejected"


# -- the inventory ---------------------------------------------------------------------------------

def test_stock_never_goes_negative(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("zhao", "/resource 盘点 人力 3").ok
    for user_text in ("/resource 申请 人力 2 用于 A", "/resource 申请 人力 2 用于 B"):
        assert chat.say("li", user_text).ok
    for rid in (1, 2):
        assert chat.say("wang", f"/resource 批准 {rid}").ok
        assert chat.say("zhao", f"/resource 审核通过 {rid}").ok
    assert chat.say("zhao", "/resource 分配 1").ok
    before_rows, before = row_counts(uow), _snapshot(uow)
    reply = chat.say("amy", "/resource allocate 2")
    assert not reply.ok and "only 1 left" in reply.plain() and "/resource allocate 2 1" in reply.plain()
    assert row_counts(uow) == before_rows and _snapshot(uow) == before
    assert chat.say("zhao", "/resource 分配 2 1").ok
    assert _stock(uow) == 0
    # Nothing recorded at all for a type: a clear refusal too.
    assert chat.say("li", "/resource 申请 客户 10 用于 C").ok
    assert chat.say("wang", "/resource 批准 3").ok and chat.say("zhao", "/resource 审核通过 3").ok
    reply = chat.say("zhao", "/resource 分配 3")
    assert not reply.ok and "库存不足：客户已经没有了" in reply.plain()
    # The database refuses a negative count whatever the code does.
    with pytest.raises(IntegrityError), uow() as u:
        u.session.execute(text("UPDATE resource_stock SET available = available - 1 WHERE type = 'people'"))
    assert _stock(uow) == 0


def test_stock_table_is_have_vs_need(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("zhao", "/resource 库存 人力 5 需要 8", ["现有 5 人，需求 8 人，缺 3 人"]),
        ("zhao", "/resource 盘点 人力 6", ["现有 6 人，需求 8 人，缺 2 人", "原为：现有 5 人，需求 8 人"]),
        ("zhao", "/resource stock customers 40 need 30", ["现有 40 个，需求 30 个，够用"]),
        ("li", "/resource 申请 人力 2 用于 展会", ["#1"]),
    ])
    reply = chat.say("li", "/resource 盘点")
    assert reply.ok
    assert _history(reply) == [
        ("人力", "6 人", "8 人", "缺 2 人", "2 人", "2026-11-26"),
        ("客户", "40 个", "30 个", "够用", "—", "2026-11-26"),
        ("市场", "—", "—", "未盘点", "—", "—"),
        ("财务", "—", "—", "未盘点", "—", "—"),
    ]
    en = chat.say("amy", "/resource stock")
    assert "*Inventory* of team 华东销售一组: have vs need" in en.plain() and "not counted" in en.plain()


# -- notifications ---------------------------------------------------------------------------------

def test_notifications_go_to_the_right_people_in_their_language_with_the_right_buttons(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("wang", "/team add @ken manager").ok
    assert chat.say("ken", "/teambot lang en").ok
    _bring_to(chat, "submitted")
    out = _outbox(uow)
    assert [(d, k) for d, k, _ in out] == [("user:ken", "resource:1:submitted:ken"),
                                          ("user:wang", "resource:1:submitted:wang")]
    ken, wang = out[0][2], out[1][2]
    assert "<@li> requests resources in “华东销售一组” (#1): 2 people" in _text(ken)
    assert _buttons(ken) == [("Approve", "/resource approve 1"), ("Reject", "/resource reject 1 ")]
    assert "<@li> 在“华东销售一组”申请资源 #1：人力 2 人" in _text(wang) and "用途: 华南展会" in _text(wang)
    assert _buttons(wang) == [("批准", "/resource approve 1"), ("驳回", "/resource reject 1 ")]

    assert chat.say("wang", "/resource 批准 1 同意").ok
    new = _outbox(uow)[len(out):]
    assert [(d, k) for d, k, _ in new] == [("user:amy", "resource:1:approved:amy"),
                                          ("user:zhao", "resource:1:approved:zhao"),
                                          ("user:li", "resource:1:approved:li")]
    assert _buttons(new[0][2]) == [("Approve (review)", "/resource approve 1"), ("Reject", "/resource reject 1 ")]
    assert "Please review it" in _text(new[0][2])
    assert _buttons(new[1][2]) == [("审核通过", "/resource approve 1"), ("驳回", "/resource reject 1 ")]
    assert "经理 <@wang> 批准了你的资源申请 #1" in _text(new[2][2]) and "备注：同意" in _text(new[2][2])
    assert _buttons(new[2][2]) == []

    seen = len(_outbox(uow))
    assert chat.say("zhao", "/resource 审核通过 1").ok
    new = _outbox(uow)[seen:]
    assert [(d, k) for d, k, _ in new] == [("user:amy", "resource:1:reviewed:amy"),
                                          ("user:li", "resource:1:reviewed:li")]
    assert _buttons(new[0][2]) == [("Allocate", "/resource allocate 1")]
    assert "资源管理部 <@zhao> 审核通过了你的资源申请 #1" in _text(new[1][2])

    seen = len(_outbox(uow))
    assert chat.say("amy", "/resource allocate 1 1").ok
    new = _outbox(uow)[seen:]
    assert [(d, k) for d, k, _ in new] == [("user:li", "resource:1:allocated:li")]
    assert "<@amy> 为你的资源申请 #1（人力 2 人）分配了 1 人" in _text(new[0][2])
    assert _buttons(new[0][2]) == [("反馈", "/resource feedback 1 ")]

    seen = len(_outbox(uow))
    assert chat.say("li", "/resource 反馈 1 够用了").ok
    new = _outbox(uow)[seen:]
    # Everyone who handled it hears the feedback; the requester (who wrote it) does not.
    assert sorted(d for d, _, _ in new) == ["user:amy", "user:wang", "user:zhao"]
    assert any("gave feedback on resource request #1" in _text(p) for d, _, p in new if d == "user:amy")


def test_cancel_tells_whoever_held_it(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "approved")
    seen = len(_outbox(uow))
    reply = chat.say("li", "/resource 撤回 1 展会取消了")
    assert reply.ok and "已撤回资源申请 #1" in reply.plain()
    new = _outbox(uow)[seen:]
    assert [(d, k) for d, k, _ in new] == [("user:amy", "resource:1:cancelled:amy"),
                                          ("user:zhao", "resource:1:cancelled:zhao")]
    assert "cancelled resource request #1" in _text(new[0][2]) and "Note: 展会取消了" in _text(new[0][2])


def test_a_manager_who_requests_gets_the_buttons_in_the_reply_and_no_dm_to_himself(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("wang", "/resource 申请 市场 2 用于 线上推广")
    assert reply.ok
    assert [b.command for p in reply.parts if isinstance(p, Actions) for b in p.buttons] == [
        "/resource approve 1", "/resource reject 1 "]
    assert _outbox(uow) == []
    # No resource admin in a team: the manager is told so when approving.
    chat2 = Chat(uow, clock, channel="C-small")
    assert chat2.say("zhou", "/team setup 小组").ok and chat2.say("zhou", "/team add @xu rep").ok
    assert chat2.say("xu", "/resource 申请 人力 1 用于 拜访").ok
    reply = chat2.say("zhou", "/resource 批准 2")
    assert reply.ok and "团队里还没有资源管理部成员" in reply.plain()


def test_a_requester_who_is_a_resource_admin_gets_one_actionable_dm(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("zhao", "/resource 申请 人力 1 用于 自己的项目").ok
    seen = len(_outbox(uow))
    assert chat.say("wang", "/resource 批准 1").ok
    new = _outbox(uow)[seen:]
    to_zhao = [p for d, _, p in new if d == "user:zhao"]
    assert len(to_zhao) == 1 and _buttons(to_zhao[0])[0] == ("审核通过", "/resource approve 1")


def test_a_button_clicked_in_a_dm_finds_the_team_of_the_request(uow, clock):
    chat = _team(uow, clock)
    _bring_to(chat, "submitted")
    # wang is also in a second team, so a DM alone does not say which team is meant.
    assert chat.say("wang", "/team setup 华南组", channel="C-south").ok
    reply = chat.say("wang", "/resource approve 1", channel="D-wang", direct=True)
    assert reply.ok, reply.plain()
    assert _request(uow, 1).state == "approved"
    # A rep clicking a forwarded Approve button in a DM is refused the same way.
    reply = chat.say("li", "/resource approve 1", channel="D-li", direct=True)
    assert not reply.ok and reply.plain().startswith("🚫")


# -- lists, show, ids of other teams ------------------------------------------------------------------

def test_lists_pending_mine_all(uow, clock):
    chat = _team(uow, clock)
    for text_ in ("/resource 申请 人力 2 用于 A", "/resource 申请 客户 30 用于 B", "/resource 申请 市场 1 用于 C"):
        assert chat.say("li", text_).ok
    assert chat.say("chen", "/resource 申请 财务 1万 用于 D").ok
    assert chat.say("wang", "/resource 批准 2").ok
    assert chat.say("wang", "/resource 批准 3").ok and chat.say("zhao", "/resource 审核通过 3").ok
    run_dialog(chat, [
        # `list` without a scope: pending for managers and resource admins, mine for everyone else.
        ("wang", "/resource 列表", ["待我处理的资源申请*（2 项）", "#1", "#4"], ["#2", "#3"]),
        ("zhao", "/resource 列表 待我处理", ["（2 项）", "#2", "#3", "待审核", "待分配"], ["#1", "#4"]),
        ("li", "/resource list", ["我的资源申请*（3 项）", "#1", "#2", "#3"], ["#4"]),
        ("li", "/resource 列表 待我处理", ["没有待我处理的资源申请"]),
        ("chen", "/resource list mine", ["#4"], ["#1"]),
        ("hr", "/resource 列表 全部", ["（4 项）", "#1", "#2", "#3", "#4"]),
        ("amy", "/resource list pending", ["Resource requests waiting for you* (2)"]),
        ("li", "/resource 列表 某些", ["无法列出“某些”"], [], False),
    ])


def test_a_request_of_another_team_is_not_found(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("zhou", "/team setup 华南组", channel="C-south").ok
    assert chat.say("zhou", "/team add @li rep", channel="C-south").ok
    assert chat.say("li", "/resource 申请 人力 1 用于 华南的事", channel="C-south").ok  # #1, team 2
    before_rows, before = row_counts(uow), _snapshot(uow)
    for user in ("wang", "li", "zhao"):
        for verb in ("approve 1", "reject 1 no", "allocate 1", "feedback 1 ok", "cancel 1", "show 1"):
            reply = chat.say(user, f"/resource {verb}")
            assert not reply.ok and "本团队没有编号为 #1 的资源申请" in reply.plain(), (user, verb, reply.plain())
            assert "华南" not in reply.plain()
    assert chat.say("wang", "/resource show 1").plain() == chat.say("wang", "/resource show 9").plain().replace("9", "1")
    assert "华南的事" not in chat.say("wang", "/resource list all").plain()
    assert row_counts(uow) == before_rows and _snapshot(uow) == before
    assert chat.say("zhou", "/resource approve 1", channel="C-south").ok


# -- parsing ----------------------------------------------------------------------------------------

def _ctx(lang: str = "zh") -> Ctx:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=ZoneInfo("UTC"))
    inv = Invocation(actor=Actor("console", "li"), channel="C", command="resource", text="", received_at=now)
    return Ctx(inv=inv, lang=lang, tz=SHANGHAI, now=now)


@pytest.mark.parametrize("typed, expected", [
    ("申请 人力 2 用于 华南展会 截止 12月10日",
     resources.SubmitRequest("people", 2, "华南展会", datetime(2026, 12, 10, 18, 0, tzinfo=SHANGHAI))),
    ("申请人力2人用于华南展会", resources.SubmitRequest("people", 2, "华南展会")),
    ("人力 2 用于 展会", resources.SubmitRequest("people", 2, "展会")),
    ("request 2 people for booth staff by phone by friday",
     resources.SubmitRequest("people", 2, "booth staff by phone",
                             datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI))),
    ("request customers 30 for the Q1 push", resources.SubmitRequest("customers", 30, "the Q1 push")),
    ("申请 预算 5万 用于 展位费", resources.SubmitRequest("budget", 50000, "展位费")),
    ("申请 渠道 3个 用途: 抖音投放", resources.SubmitRequest("marketing", 3, "抖音投放")),
    ("批准 7", resources.ApproveRequest(7)),
    ("批准7 同意", resources.ApproveRequest(7, "同意")),
    ("审核通过 #7", resources.ApproveRequest(7)),
    ("reject 7 out of budget", resources.RejectRequest(7, "out of budget")),
    ("分配 7", resources.AllocateRequest(7)),
    ("分配 7 1人", resources.AllocateRequest(7, 1)),
    ("反馈 7 很好", resources.GiveFeedback(7, "很好")),
    ("撤回 7", resources.CancelRequest(7)),
    ("", resources.ListRequests("auto")),
    ("列表 我的", resources.ListRequests("mine")),
    ("pending", resources.ListRequests("pending")),
    ("查看 7", resources.ShowRequest(7)),
    ("盘点", resources.ShowStock()),
    ("盘点 人力 5 需要 8", resources.SetStock("people", 5, 8)),
    ("stock budget 0", resources.SetStock("budget", 0, None)),
])
def test_parse(typed, expected):
    assert resources.parse(typed, _ctx()) == expected


@pytest.mark.parametrize("typed, key", [
    ("申请 人力 2", "resources.purpose_required"),
    ("申请 飞机 2 用于 展会", "resources.unknown_type"),
    ("申请 人力 用于 展会", "resources.amount_required"),
    ("申请 人力 0 用于 展会", "resources.amount_positive"),
    ("申请 人力 1.5 用于 展会", "resources.amount_whole"),
    ("申请 人力 20% 用于 展会", "parse.bad_amount"),
    ("申请 人力 2 用于 展会 截止 昨天", "parse.past_date"),
    ("申请 人力 2 用于 截止 明天", "resources.purpose_required"),
    ("驳回 7", "resources.reason_required"),
    ("反馈 7", "resources.feedback_required"),
    ("批准", "resources.id_required"),
    ("批准 abc", "resources.bad_id"),
    ("分配 7 -1", "resources.amount_positive"),
    ("盘点 人力", "resources.available_required"),
    ("盘点 人力 5 需要", "resources.need_required"),
    ("frobnicate", "resources.unknown_keyword"),
])
def test_parse_errors(typed, key):
    with pytest.raises(UsageError) as e:
        resources.parse(typed, _ctx())
    assert e.value.key == key
    assert e.value.example and e.value.example.startswith("resources.")


def test_usage_errors_answer_in_the_callers_language_with_an_example(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("li", "/resource 申请 人力 2", ["请写上用途", "正确示例：", "/resource 申请 人力 2 用于 华南展会 截止 12月10日"],
         [], False),
        ("amy", "/resource request people 2", ["Say what it is for", "Example:",
                                               "/resource request people 2 for the South China expo by Dec 10"],
         [], False),
        ("li", "/resource 驳回 1", ["驳回需要写明理由", "/resource 驳回 7 本季度预算已用完"], [], False),
        ("li", "/resource blah", ["我不认识“blah”"], [], False),
    ])


# -- the same walk-through in the local console (`teambot console --script`) -------------------------

CONSOLE_SCRIPT = """\
/team setup 华东销售一组
/team add @li rep
/team add @zhao resource_admin
/as zhao
/resource 盘点 人力 5 需要 8
/as li
/resource 申请 人力 2 用于 华南展会 截止 12月10日
/as wang
/resource 批准 1 同意
/as li
/resource 批准 1
/as zhao
/resource 审核通过 1
/resource 分配 1
/as li
/resource 反馈 1 展会新增客户12家
/resource 查看 1
"""


def test_walk_through_zh_in_the_console(tmp_path):
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "resources.txt"
    script.write_text(CONSOLE_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMBOT_", "DINGTALK_", "WECOM_"))}
    env.update(TEAMBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--as", "wang", "--script", str(script)],
                       check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for fragment in ("已盘点人力：现有 5 人，需求 8 人，缺 3 人", "已提交资源申请 #1：人力 2 人，用于 华南展会",
                     "已通知销售经理 @wang 审批", "已批准 @li 的资源申请 #1", "只有资源管理部可以审核通过",
                     "审核通过，可以分配了", "已为申请 #1 分配 人力 2 人", "人力库存还剩 3 人", "申请已关闭"):
        assert fragment in out, (fragment, out)
    history = out[out.index("流转记录"):]
    steps = [line.split()[3] for line in history.splitlines()[3:] if line.strip()]
    assert steps == ["提交申请", "经理批准", "资源审核通过", "分配", "反馈并关闭"], history
    assert "Traceback" not in out
