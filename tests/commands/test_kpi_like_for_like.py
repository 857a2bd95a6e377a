"""/kpi for a period in progress compares like with like.

The clock stops on Friday 2026-12-11 10:00 Asia/Shanghai, the 9th working day of December (CN calendar).
環比 compares December so far with the first 9 working days of November (Nov 2-12), not all of
November; 同比 with the first 9 working days of December 2025 (Dec 1-11). The reply says so, gives the
forecast at the current pace, changes of % metrics in percentage points, and the pace of count
metrics in whole units ("还差 2 个，剩 15 个工作日"). The expected figures are worked out here by hand.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from commands.core.reply import Table
from tests.commands.team_world import sales_team
from tests.kit.dialog import run_dialog

SHANGHAI = ZoneInfo("Asia/Shanghai")
MID_DECEMBER = datetime(2026, 12, 11, 10, tzinfo=SHANGHAI)  # Friday, 9th working day of the month

# (day, user, text): November has 100万 in its first 9 working days and 189万 in all; December so far 170万.
LOG = [
    ("2025-12-03", "李雷", "/进展 去年 销售额=50万"),
    ("2025-12-20", "李雷", "/进展 去年 销售额=200万"),
    ("2026-11-02", "李雷", "/进展 签约 销售额=60万"),
    ("2026-11-03", "韩梅梅", "/进展 回访 客户满意度=85%"),
    ("2026-11-12", "韩梅梅", "/进展 签约 销售额=40万"),
    ("2026-11-20", "李雷", "/进展 签约 销售额=89万"),
    ("2026-11-24", "韩梅梅", "/进展 回访 客户满意度=95%"),
    ("2026-12-01", "李雷", "/进展 签约 销售额=100万 新客户=5"),
    ("2026-12-02", "韩梅梅", "/进展 回访 客户满意度=88%"),
    ("2026-12-08", "amy", "/progress new logos customers=3"),
    ("2026-12-10", "韩梅梅", "/进展 签约 销售额=70万"),
]


@pytest.fixture
def uow(sqlite_uow):
    return sqlite_uow


@pytest.fixture
def chat(uow, clock):
    clock.set(datetime(2025, 11, 3, 10, tzinfo=SHANGHAI))
    chat = sales_team(uow, clock)
    for day, user, text in LOG:
        clock.set(datetime.fromisoformat(day).replace(hour=15, tzinfo=SHANGHAI))
        assert chat.say(user, text).ok, text
    clock.set(MID_DECEMBER)
    return chat


def _row(reply, first: str) -> dict[str, str]:
    table = next(p for p in reply.parts if isinstance(p, Table))
    row = next(r for r in table.rows if r[0] == first)
    return dict(zip(table.header, row))


def test_month_to_date_is_compared_with_the_same_working_days_of_last_month(chat):
    zh = chat.say("wang", "/绩效 团队")
    assert zh.ok, zh.plain()
    sales = _row(zh, "销售额")
    assert sales["实际"] == "¥1,700,000（170万）"
    assert sales["上月同期"] == "¥1,000,000（100万）"      # Nov 1-12, not all of November (189万)
    assert sales["环比"] == "+70%"                          # not -10.1%
    assert sales["去年同期"] == "¥500,000（50万）"          # Dec 1-11 2025, not all of December 2025
    assert sales["同比"] == "+240%"
    assert sales["预测"] == "434.4万"                       # 170万 / 9 working days * 23
    text = zh.plain()
    assert "截至今日，与上月同期相比" in text
    assert "第 9 个工作日" in text

    en = chat.say("bob", "/kpi team")
    sales = _row(en, "Sales")
    assert sales["Same days last month"] == "¥1,000,000"
    assert sales["Change (环比)"] == "+70%"
    assert sales["YoY (同比)"] == "+240%"
    assert sales["Forecast"] == "¥4,344,444"
    assert "compared with the same working days of last month" in en.plain()


def test_a_past_period_is_compared_whole(chat):
    zh = chat.say("wang", "/绩效 团队 上月")
    sales = _row(zh, "销售额")
    assert sales["实际"] == "¥1,890,000（189万）"
    assert sales["上月"] == "¥0"
    assert "上月同期" not in zh.plain() and "截至今日" not in zh.plain()


def test_percent_metrics_change_in_percentage_points(chat):
    zh = _row(chat.say("wang", "/绩效 团队"), "客户满意度")
    assert zh["上月同期"] == "85%"
    assert zh["环比"] == "+3个百分点"
    en = _row(chat.say("bob", "/kpi team"), "Customer satisfaction")
    assert en["Change (环比)"] == "+3 pp"


def test_pace_of_a_count_metric_is_in_whole_units_and_working_days(chat, clock):
    run_dialog(chat, [("wang", "/目标 设定 新客户 10 每月 为团队", ["#1"])])
    zh = _row(chat.say("wang", "/绩效 团队"), "新客户")
    assert zh["实际"] == "8"
    assert zh["还需"] == "还差 2 个，剩 15 个工作日"
    en = _row(chat.say("bob", "/kpi team"), "New customers")
    assert en["Still needed"] == "2 to go, 15 working days left"


def test_today_is_counted_only_on_a_working_day(chat, clock):
    run_dialog(chat, [("wang", "/绩效 团队", ["剩余 15 个工作日", "含今天"]),
                      ("bob", "/kpi team", ["15 working days left", "today included"])])
    clock.set(datetime(2026, 12, 12, 10, tzinfo=SHANGHAI))  # Saturday
    run_dialog(chat, [("wang", "/绩效 团队", ["剩余 14 个工作日", "本月到今天已过 9 个工作日"], ["含今天", "今天是本月"]),
                      ("bob", "/kpi team", ["14 working days left", "9 working days of this month have passed"],
                       ["today included"])])


def test_without_a_period_kpi_shows_the_period_of_the_active_goals(chat):
    run_dialog(chat, [
        ("wang", "/目标 设定 销售额 500万 2026-Q4 为团队", ["#1"]),
        ("wang", "/绩效 团队", ["2026年第四季度", "¥5,000,000（500万）"], ["还没有目标"]),
        ("bob", "/kpi team", ["2026 Q4", "¥5,000,000"], ["No targets"]),
        ("wang", "/绩效", ["2026年第四季度", "¥5,000,000（500万）"], ["还没有目标"]),
    ])


def test_goals_of_several_periods_each_get_their_table(chat):
    run_dialog(chat, [
        ("wang", "/目标 设定 销售额 500万 2026-Q4 为团队", ["#1"]),
        ("wang", "/目标 设定 新客户 10 每月 为团队", ["#2"]),
        ("wang", "/绩效 团队", ["2026年12月", "2026年第四季度", "¥5,000,000（500万）", "还差 2 个"]),
    ])


def test_an_explicit_period_without_goals_points_at_the_goals_that_exist(chat):
    run_dialog(chat, [
        ("wang", "/目标 设定 销售额 500万 2026-Q4 为团队", ["#1"]),
        ("wang", "/绩效 团队 本月", ["2026年12月", "第四季度"], ["/goal 设定 销售额 120万"]),
        ("bob", "/kpi team this month", ["December 2026", "2026 Q4"], ["/goal set sales 1.2m"]),
    ])
