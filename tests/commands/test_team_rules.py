"""/team rules (团队 规则): the customer rules a manager sets, in Chinese and English, and every refusal."""
from __future__ import annotations

from sqlalchemy import select

from commands.core.clock import FixedClock
from storage.models import Team
from tests.kit.dialog import Chat, run_dialog
from tests.reminders.helpers import local


def _chat(uow) -> Chat:
    chat = Chat(uow, FixedClock(local("2026-11-26", "10:00")))
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"),
                       ("wang", "/team add @amy manager"), ("amy", "/teambot lang en")]:
        assert chat.say(user, text).ok, text
    return chat


def _rules(uow) -> tuple:
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        return (team.pool_days, team.warn_days, team.reclaim_days, team.claim_cap, team.quality_stage,
                team.stuck_days)


def test_show_and_set_rules_zh_en(uow):
    chat = _chat(uow)
    run_dialog(chat, [
        ("li", "/团队 规则", ["华东销售一组 的客户规则", "公海天数", "30 天", "认领上限", "50 个", "销售经理可修改"]),
        ("wang", "/团队 规则 公海天数=45 提醒天数：5 高质量阶段=方案报价", ["✅ 已更新 华东销售一组 的客户规则", "公海天数 45",
                                                              "提醒天数 5"]),
        ("wang", "/团队 设置 冷却天数＝10 认领上限 80", ["冷却天数 10", "认领上限 80"]),
        ("amy", "/team rules stuck_days=21 quality=qualified", ["customer rules updated", "stuck_days 21"]),
        ("amy", "/team rules", ["pool_days", "45 days", "claim_cap", "80"]),
    ])
    assert _rules(uow) == (45, 5, 10, 80, "qualified", 21)


def test_rule_refusals_are_private_with_an_example(uow):
    chat = _chat(uow)
    run_dialog(chat, [
        ("li", "/团队 规则 公海天数=10", ["销售经理"], [], False),
        ("wang", "/团队 规则 公海天数=0", ["公海天数必须是 1 到 365 之间的整数（你写的是 0）", "/团队 规则 公海天数=30"], [], False),
        ("wang", "/团队 规则 回访天数=3", ["没有“回访天数”这项规则", "停滞天数"], [], False),
        ("wang", "/团队 规则 高质量阶段=输单", ["“输单”不是可用的阶段"], [], False),
        ("wang", "/团队 规则 提醒天数=30", ["提醒天数（30）必须小于公海天数（30）"], [], False),
        ("amy", "/team rules pool_days=abc", ["pool_days must be a whole number from 1 to 365", "/team rules pool_days=30"],
         [], False),
        ("amy", "/team rules foo=1", ["There is no rule 'foo'"], [], False),
    ])
    assert _rules(uow) == (30, 3, 7, 50, "qualified", 14)
