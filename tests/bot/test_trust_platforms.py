"""What cost the manager's trust, on every platform (Slack over signed HTTP, DingTalk, WeCom, console):
each category of issue 15 in zh and en through the chat test kit. The full dialog tables per category
live in tests/commands/test_{typed_input,did_you_mean,goal_roster_hygiene,kpi_like_for_like,
chinese_throughout}.py; these rows prove the same reading through every adapter.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. wang (zh) and bob (en) manage 华东一组 with 李雷 (rep, zh)
and amy (rep, en).
"""
from __future__ import annotations

import pytest

from tests.kit.chat import PLATFORMS, Chat, Row, run_rows

TEAM = [
    Row("wang", "/团队 创建 华东一组", says=("华东一组",), private=False),
    Row("wang", "/团队 添加 @李雷 销售代表", says=("@李雷",)),
    Row("wang", "/team add @amy rep", says=("@amy",)),
    Row("wang", "/team add @bob manager", says=("@bob",)),
    Row("amy", "/teambot lang en", says=("English",)),
    Row("bob", "/teambot lang en", says=("English",)),
]

ROWS = [
    # Values: spaces and full-width signs read; a value without "=" refused by name; counts whole.
    Row("李雷", "/进展 空格测试 销售额 = 5万", says=("已记录进展：空格测试", "¥50,000")),
    Row("amy", "/progress spacing test sales : 5k", says=("Progress logged: spacing test", "¥5,000")),
    Row("李雷", "/进展 测试 销售额 5万", says=("“销售额 5万”", "销售额=5万"), not_says=("已记录",), ok=False,
        private=True),
    Row("amy", "/progress test sales 5k", says=("“sales 5k”", "sales=5k"), ok=False),
    Row("李雷", "/进展 测试 新客户=1.5", says=("整数",), ok=False),
    Row("amy", "/progress test customers=1.5", says=("whole number",), ok=False),
    Row("李雷", "/进展 撤消", says=("已撤销",), not_says=("已记录",)),
    # People: a member named without @ is the assignee, not the manager who typed it.
    Row("wang", "/任务 新建 李雷 拜访客户 截止 明天", says=("@李雷", "拜访客户"), not_says=("@wang",)),
    Row("wang", "/task add amy call ACME due tomorrow", says=("@amy", "call ACME"), not_says=("@wang",)),
    # Office dates; a non-working day is said so, with the nearest working days.
    Row("wang", "/任务 新建 @李雷 准备报价 截止 12.20", says=("12月20日 周日，非工作日", "12月18日 周五")),
    Row("wang", "/任务 新建 @李雷 准备合同 截止 元旦前", says=("2026-12-31",)),
    Row("amy", "/task add @amy call Globex due before New Year", says=("2026-12-31",)),
    Row("amy", "/task add @amy call Initech due December 20", says=("Sun Dec 20 is not a working day", "Fri Dec 18")),
    # Did you mean, in the form typed.
    Row("李雷", "/任物", says=("是不是想输入 /任务？",), ok=False, private=True),
    Row("amy", "/progres", says=("Did you mean /progress?",), ok=False),
    Row("wang", "/task ad foo", says=("是不是想输入 /task add？",), ok=False),
    Row("wang", "/团队 foo", says=("/团队 添加",), not_says=("/team add",), ok=False),
    # Goals in words, and a manager's goal without `for` asked about.
    Row("李雷", "/目标 设定 客户满意度 提升至90%以上 2026-Q4", says=("客户满意度 90%",)),
    Row("amy", "/goal set csat to at least 90% 2026-Q4", says=("Customer satisfaction 90%",)),
    Row("bob", "/goal set sales 1.2m 2026-Q4", says=("For the team", "For me")),
    Row("wang", "/目标 设定 销售额 120万 2026-Q4", says=("为团队设定", "为我自己设定")),
    Row("wang", "/目标 设定 销售额 120万 2026-Q4 为团队", says=("#3",), private=False),
    Row("wang", "/目标 设定 销售额 120万 2026-Q4 为团队", says=("#3", "已经有这个目标"), not_says=("#4",)),
    Row("bob", "/goal set sales 1.2m 2026-Q4 for team", says=("#3", "already has this goal"), not_says=("#4",)),
    # KPIs: without a period, the period of the goals; a non-member named as such.
    Row("wang", "/绩效 团队", says=("2026年第四季度", "¥1,200,000（120万）", "截至今日，与上季度同期相比")),
    Row("bob", "/kpi team", says=("2026 Q4", "¥1,200,000", "compared with the same working days of last quarter")),
    Row("wang", "/kpi @nobody", says=("@nobody", "不是团队"), ok=False),
    Row("bob", "/kpi @nobody", says=("@nobody", "not a member"), ok=False),
    # Removing a member lists what they leave open and offers the handover.
    Row("bob", "/team remove @李雷", says=("leaves these open", "拜访客户", "Reassign #1 to me")),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_what_cost_trust_reads_right_on_every_platform(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, TEAM + ROWS)


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_labels_take_the_colon_of_their_language(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, TEAM + [
            Row("bob", "/task add @amy call ACME due friday", says=("Owner: @amy", "Due: "), not_says=("Owner：",)),
            Row("wang", "/任务 新建 @李雷 拜访客户 截止 周五", says=("负责人：@李雷", "截止："), not_says=("负责人: ",)),
        ])
