"""/assess (考核) and /kpi weights on every platform through its real adapter (tests/kit/chat.py):
Slack (signed HTTP into the real Bolt app), DingTalk, WeCom and the console, in Chinese and English.

A month of numbers is logged in November; on Tue Dec 1 the manager sets the weights, reads the team's
sheets, confirms li's November (li gets a DM with the sheet and the Acknowledge / Object buttons), li
objects (the reason reaches the manager) and then acknowledges; the performance admin confirms the
quarter, and a rep is refused with the seed's reason.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.kit.chat import PLATFORMS, Chat, Row, run_rows

SH = ZoneInfo("Asia/Shanghai")

SETUP_ZH = [
    Row("wang", "/team setup 华东销售一组"),
    Row("wang", "/team add @li rep"),
    Row("wang", "/team add @zhou performance_admin"),
    Row("wang", "/goal set sales 200k 2026-11 for @li"),
    Row("wang", "/goal set customers 5 2026-11 for @li"),
    Row("wang", "/goal set sales 500k 2026-Q4 for @li"),
    Row("li", "/progress 签约ACME 销售额=22万 新客户=4"),
]
DECEMBER_ZH = [
    Row("wang", "/绩效 权重 销售额=60 新客户=40", says=("已更新考核权重", "60%", "40%")),
    Row("li", "/kpi 权重 销售额=100", says=("🚫 只有销售经理可以这样做。",), ok=False, private=True),
    Row("wang", "/kpi weights sales=60 customers=30", says=("权重合计为 90，须正好为 100", "正确示例"), ok=False,
        private=True),
    Row("li", "/考核 上月", says=("考核表", "2026年11月", "110%", "80%", "总分：98", "A（优秀）", "尚未确认"),
        private=True),
    Row("wang", "/考核 上月", says=("@li", "98", "待确认", "确认 li"), private=True),
    Row("zhou", "/考核 确认 上月 @li", says=("🚫 月度考核由销售经理确认", "每月初 销售经理；季度末、年度末 绩效管理部"),
        ok=False, private=True),
    Row("wang", "/考核 确认 上月 @li score=92 继续保持", says=("已确认 @li 2026年11月的考核：92 分，等级 A（优秀）",),
        private=True, dms={"li": ("@wang 确认了你在“华东销售一组”2026年11月的考核：92 分", "继续保持", "认可",
                                  "提出异议")}),
    Row("li", "/考核 异议 上月 新客户应为5家", says=("已把你对2026年11月考核的异议转给 @wang",), private=True,
        dms={"wang": ("@li 对“华东销售一组”2026年11月的考核有异议：新客户应为5家",)}),
    Row("li", "/考核 认可 上月", says=("已认可2026年11月的考核",), dms={"wang": ("@li 已认可2026年11月的考核",)}),
    Row("li", "/assess 上季度", says=("2026年第三季度",), private=True),
    Row("wang", "/考核 确认 本季度 @li", says=("🚫 季度考核由绩效管理部确认",), ok=False, private=True),
    Row("zhou", "/考核 确认 本季度 @li 季度进度正常", says=("已确认 @li 2026年第四季度的考核",),
        dms={"li": ("@zhou 确认了你在“华东销售一组”2026年第四季度的考核",)}),
    Row("li", "/考核 上月 @zhou", says=("🚫 只有销售经理或绩效管理部可以查看别人的考核表",), ok=False, private=True),
]

SETUP_EN = [
    Row("amy", "/team setup East Sales lang=en"),
    Row("amy", "/team add @bob rep"),
    Row("amy", "/team add @hr performance_admin"),
    Row("amy", "/goal set sales 100k 2026-11 for @bob"),
    Row("amy", "/goal set csat 90% 2026-11 for @bob"),
    Row("bob", "/progress signed ACME sales=80k csat=81"),
]
DECEMBER_EN = [
    Row("amy", "/kpi weights sales=70 csat=30", says=("Assessment weights updated", "70%", "30%")),
    Row("bob", "/assess last month", says=("Assessment", "November 2026", "80%", "90%", "Score: 83", "B (good)"),
        private=True),
    Row("hr", "/assess confirm last month @bob", says=("🚫 Monthly assessments are confirmed by the sales manager",),
        ok=False, private=True),
    Row("amy", "/assess confirm 2026-11 @bob score=80 solid start",
        says=("Confirmed @bob's assessment for November 2026: 80, band B (good)",),
        dms={"bob": ("@amy confirmed your assessment in “East Sales” for November 2026: 80", "solid start",
                     "Acknowledge", "Object")}),
    Row("bob", "/assess object 2026-11 the ACME deal closed on Nov 30", says=("Your objection", "@amy"),
        dms={"amy": ("@bob objects to the assessment in “East Sales” for November 2026: the ACME deal closed",)}),
    Row("bob", "/assess ack 2026-11", says=("You acknowledged the assessment for November 2026",)),
    Row("bob", "/assess confirm 2026-11 @amy", says=("🚫",), ok=False, private=True),
]


def _month(platform: str, clock, setup: list[Row], december: list[Row], sqlite_url: str) -> None:
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=SH))
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, setup)
        clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=SH))
        run_rows(chat, december)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_assessments_in_chinese(platform, sqlite_url, clock):
    _month(platform, clock, SETUP_ZH, DECEMBER_ZH, sqlite_url)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_assessments_in_english(platform, sqlite_url, clock):
    _month(platform, clock, SETUP_EN, DECEMBER_EN, sqlite_url)
