"""Goal and roster hygiene: nothing doubles, nothing is chosen silently, nobody is dropped unnoticed.

An identical goal is not created twice (the existing id is named); a manager's goal without `for`
asks team or self with buttons; removing a member lists what they leave open and offers the
handover; assigning to someone away says until when; an approval beyond the stock shows the
shortfall; a snooze past the deadline warns.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东一组: wang (manager, zh), bob (manager, en),
李雷 and 韩梅梅 (reps, zh), amy (rep, en), 赵敏 (resource admin, zh).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commands.core.reply import Actions
from storage.models import Goal, Member, ResourceRequest, Task
from tests.commands.team_world import sales_team
from tests.kit.dialog import Chat, row_counts, run_dialog


@pytest.fixture
def uow(sqlite_uow):
    return sqlite_uow


@pytest.fixture
def chat(uow, clock) -> Chat:
    return sales_team(uow, clock, ("wang", "/团队 添加 @赵敏 资源管理部"))


def _goals(uow) -> list[tuple]:
    with uow() as u:
        return [(g.id, g.user_id, g.target) for g in u.session.scalars(select(Goal).order_by(Goal.id))]


def _buttons(reply) -> dict[str, str]:
    return {b.label: b.command for p in reply.parts if isinstance(p, Actions) for b in p.buttons}


# -- goals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zh, en", [
    ("销售额 120万 2026-Q4 为团队", "sales 1.2m 2026-Q4 for team"),
    ("新客户 10 每月 为团队", "customers 10 monthly for the team"),
    ("客户满意度 90% 截止 2026-12-31 为团队", "csat 90% by 2026-12-31 for team"),
])
def test_an_identical_goal_is_not_created_twice(chat, uow, zh, en):
    run_dialog(chat, [
        ("wang", f"/目标 设定 {zh}", ["#1"]),
        ("wang", f"/目标 设定 {zh}", ["#1", "已经有"], ["#2"]),
        ("bob", f"/goal set {en}", ["#1", "already"], ["#2"]),
    ])
    assert len(_goals(uow)) == 1
    review = chat.say("wang", "/目标 回顾").plain()
    assert review.count("#1") == 1 and "#2" not in review


def test_the_same_goal_with_another_target_is_refused_naming_the_goal_to_adjust(chat, uow):
    run_dialog(chat, [
        ("wang", "/目标 设定 销售额 120万 2026-Q4 为团队", ["#1"]),
        ("wang", "/目标 设定 销售额 150万 2026-Q4 为团队", ["#1", "/目标 调整 1 150万 因为"], [], False),
        ("bob", "/goal set sales 1.5m 2026-Q4 for team", ["#1", "/goal adjust 1 1.5m because"], [], False),
    ])
    assert [t for _, _, t in _goals(uow)] == [1_200_000]


def test_a_managers_goal_without_for_asks_team_or_self(chat, uow):
    before = row_counts(uow)
    zh = chat.say("wang", "/目标 设定 销售额 120万 2026-Q4")
    assert zh.ok and "团队" in zh.plain(), zh.plain()
    buttons = _buttons(zh)
    assert set(buttons) == {"为团队设定", "为我自己设定"}
    en = chat.say("bob", "/goal set sales 1.2m 2026-Q4")
    assert set(_buttons(en)) == {"For the team", "For me"}
    assert row_counts(uow) == before  # asking writes nothing
    assert chat.say("wang", buttons["为团队设定"]).ok
    assert chat.say("bob", _buttons(en)["For me"]).ok
    assert _goals(uow) == [(1, None, 1_200_000), (2, "bob", 1_200_000)]
    # A rep's goal is their own; nothing to ask.
    run_dialog(chat, [("李雷", "/目标 设定 销售额 50万 2026-Q4", ["#3", "@李雷"])])


# -- roster ------------------------------------------------------------------------------------------


def test_removing_a_member_lists_what_they_leave_open_and_offers_the_handover(chat, uow):
    for user, text in [("wang", "/任务 新建 @李雷 拜访客户 截止 下周五"),
                       ("wang", "/任务 新建 @李雷 准备报价 截止 下周五"),
                       ("wang", "/目标 设定 销售额 50万 2026-Q4 为 @李雷"),
                       ("李雷", "/资源 申请 人力 2 用于 华南展会"),
                       ("bob", "/task add @amy call ACME due friday")]:
        assert chat.say(user, text).ok, text
    zh = chat.say("wang", "/团队 移除 @李雷")
    assert zh.ok, zh.plain()
    text = zh.plain()
    for fragment in ("#1 拜访客户", "#2 准备报价", "目标 #1", "申请 #1"):
        assert fragment in text, text
    assert _buttons(zh)["把 #1 转给我"] == "/task assign 1 @wang"
    en = chat.say("bob", "/team remove @amy")
    assert "#3 call ACME" in en.plain()
    assert _buttons(en)["Reassign #3 to me"] == "/task assign 3 @bob"
    with uow() as u:
        assert not u.session.scalars(select(Member).where(Member.user_id.in_(["李雷", "amy"]))).all()
    assert chat.say("wang", "/task assign 1 @wang").ok
    with uow() as u:
        assert u.session.get(Task, 1).assignee == "wang"


def test_a_request_is_orphaned_only_by_the_last_holder_of_its_approving_role(chat):
    assert chat.say("李雷", "/资源 申请 人力 2 用于 华南展会").ok
    assert chat.say("wang", "/资源 批准 1 同意").ok  # now waits for the resource admin
    last_admin = chat.say("wang", "/团队 移除 @赵敏").plain()
    assert "资源申请 #1" in last_admin and "没有人能审批" in last_admin, last_admin
    # Already orphaned before them, so a rep leaving hands nothing of it over.
    rep = chat.say("wang", "/团队 移除 @韩梅梅").plain()
    assert "没有人能审批" not in rep and "没有未完成" in rep, rep


def test_removing_a_member_with_nothing_open_says_so(chat):
    run_dialog(chat, [("wang", "/团队 移除 @韩梅梅", ["@韩梅梅", "没有未完成"]),
                      ("bob", "/team remove @amy", ["@amy", "nothing open"])])


def test_assigning_to_someone_away_says_until_when(chat):
    run_dialog(chat, [
        ("李雷", "/teambot 请假 到 12月4日", ["2026-12-04"]),
        ("amy", "/teambot away until Dec 4", ["2026-12-04"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 下周五", ["@李雷", "休假", "2026-12-04 周五"]),
        ("bob", "/task add @amy call ACME due next friday", ["@amy", "away", "Fri 2026-12-04"]),
        ("wang", "/任务 新建 @韩梅梅 拜访客户 截止 下周五", ["@韩梅梅"], ["休假"]),
    ])


def test_approving_beyond_the_stock_shows_the_shortfall(chat, uow):
    run_dialog(chat, [
        ("赵敏", "/资源 盘点 财务 80万", ["80万"]),
        ("李雷", "/资源 申请 财务 200万 用于 华南展会", ["#1"]),
        ("wang", "/资源 批准 1", ["库存不足", "缺口", "120万"]),
        ("赵敏", "/资源 审核 1", ["库存不足", "缺口", "120万"]),
        ("amy", "/resource request budget 1m for the fair", ["#2"]),
        ("bob", "/resource approve 2", ["short", "¥200,000"]),
    ])
    with uow() as u:
        assert [r.state for r in u.session.scalars(select(ResourceRequest).order_by(ResourceRequest.id))] == [
            "reviewed", "approved"]


def test_a_snooze_past_the_deadline_warns(chat):
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 今天下午6点", ["#1"]),
        ("李雷", "/任务 推迟 1", ["晚于截止时间", "/task due 1"]),
        ("bob", "/task add @amy call ACME due today 6pm", ["#2"]),
        ("amy", "/task snooze 2", ["after the due", "/task due 2"]),
        ("wang", "/任务 新建 @李雷 准备报价 截止 下周五", ["#3"]),
        ("李雷", "/任务 推迟 3", ["暂停"], ["晚于截止时间"]),
    ])
