"""/kpi over two quarters of generated data: every number equals a plain-Python computation."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from commands.core import fmt
from commands.core.clock import FixedClock
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.kpi import AddMetric, ListMetrics, ShowKpi, parse
from storage.models import Metric
from tests.commands import kpi_data as K
from tests.kit.dialog import run_dialog

ZH_NAMES = {"sales": "销售额", "customers": "新客户", "csat": "客户满意度", "event_participants": "活动参与人数",
            "visits": "拜访", "pipeline": "管道"}
EN_NAMES = {"sales": "Sales", "customers": "New customers", "csat": "Customer satisfaction",
            "event_participants": "Event participants", "visits": "Visits", "pipeline": "Pipeline"}


def money(v, code, lang="zh"):
    return "—" if v is None else fmt.amount(v, K.AGG[code][1], lang)


def percent(x):
    return "—" if x is None else f"{fmt.number(round(x, 1))}%"


def signed(x, code, lang="zh"):
    if x is None:
        return "—"
    sign = "+" if x > 0 else ""
    if K.AGG[code][1] == "%":  # a percentage changes in percentage points
        n = fmt.number(round(x, 1))
        return f"{sign}{n}个百分点" if lang == "zh" else f"{sign}{n} pp"
    return sign + percent(x)


def rel(a, b, code="sales"):
    if a is None or b is None:
        return None
    if K.AGG[code][1] == "%":
        return a - b
    return None if b == 0 else 100.0 * (a - b) / abs(b)


def check_row(row, code, *, actual, target, previous, last_year, lang="zh"):
    att = None if actual is None or target is None else 100.0 * actual / target
    expected = (money(actual, code, lang), money(target, code, lang), percent(att), money(previous, code, lang),
                signed(rel(actual, previous, code), code, lang), money(last_year, code, lang),
                signed(rel(actual, last_year, code), code, lang))
    assert row[1:8] == expected, (code, row, expected)


def needed(gap, days, code):
    """The "still needed" cell, worked out by hand: the gap and the working days left."""
    if gap <= 0:
        return "已达成"
    shown = fmt.plan_amount(gap, K.AGG[code][1], "zh")
    if K.AGG[code][1] == "count":
        shown += " 个"
    text = f"还差 {shown}，剩 {days} 个工作日"
    if K.AGG[code][1] == "CNY":
        text += f"（每个工作日约 {fmt.plan_amount(gap / days, 'CNY', 'zh')}）"
    return text


@pytest.fixture
def world(uow):
    clock = FixedClock(K.NOW)
    chat, data, _ = K.world(uow, clock)
    return chat, data, clock


def test_team_kpi_for_a_past_quarter(world):
    chat, data, _ = world
    reply = chat.say("李雷", "/kpi 2026-Q3")
    assert reply.ok and reply.private, reply.plain()
    rows = K.rows_by_first(K.table_after(reply))
    q3, q2, ly = K.quarter(2026, 3), K.quarter(2026, 2), K.quarter(2025, 3)
    for code, name in ZH_NAMES.items():
        a = K.actual(data, code, *q3)
        check_row(rows[name], code, actual=a, target=None, previous=K.actual(data, code, *q2),
                  last_year=K.actual(data, code, *ly))
    assert "该周期已结束" in reply.plain()
    # real numbers, not all zeros
    assert K.actual(data, "sales", *q3) > 0 and K.actual(data, "sales", *ly) > 0


def test_current_quarter_with_targets_and_pace(world):
    chat, data, _ = world
    run_dialog(chat, [
        ("wang", "/goal set sales 6m 2026-Q4 for team", ["#1", "¥6,000,000"]),
        ("wang", "/goal 设定 满意度 90% 本季度 为团队", ["#2", "90%"]),
    ])
    reply = chat.say("韩梅梅", "/绩效 团队 本季度")
    rows = K.rows_by_first(K.table_after(reply))
    q4, q3, ly = K.quarter(2026, 4), K.quarter(2026, 3), K.quarter(2025, 4)
    now = K.NOW
    remaining = K.workdays(date(2026, 10, 20), date(2027, 1, 1))
    assert f"剩余 {remaining} 个工作日" in reply.plain()
    # The quarter is in progress: 环比 and 同比 compare its first working days so far with the same
    # number of working days of 2026-Q3 and of 2025-Q4.
    elapsed = K.workdays(date(2026, 10, 1), date(2026, 10, 21))
    assert f"第 {elapsed} 个工作日" in reply.plain()
    for code, name in ZH_NAMES.items():
        a = K.actual(data, code, q4[0], q4[1])
        target = {"sales": 6_000_000.0, "csat": 90.0}.get(code)
        check_row(rows[name], code, actual=a, target=target, previous=K.actual(data, code, *K.same_days(q3, elapsed)),
                  last_year=K.actual(data, code, *K.same_days(ly, elapsed)))
        if K.AGG[code][0] == "sum":
            forecast = a / elapsed * K.workdays(date(2026, 10, 1), date(2027, 1, 1))
            assert rows[name][8] == fmt.plan_amount(forecast, K.AGG[code][1], "zh"), (code, rows[name])
    assert rows["销售额"][9] == needed(6_000_000.0 - K.actual(data, "sales", *q4), remaining, "sales")
    assert now < q4[1]


def test_a_members_month_with_recurring_and_exact_targets(world):
    chat, data, _ = world
    run_dialog(chat, [
        ("wang", "/goal set sales 1m 2026-10 for @李雷", ["#1"]),
        ("wang", "/goal set customers 8 monthly for @李雷", ["#2", "每月"]),
        ("wang", "/goal set visits 30 monthly for @韩梅梅", ["#3"]),
    ])
    oct_, sep, ly = K.month(2026, 10), K.month(2026, 9), K.month(2025, 10)
    remaining = K.workdays(date(2026, 10, 20), date(2026, 11, 1))
    elapsed = K.workdays(date(2026, 10, 1), date(2026, 10, 21))
    reply = chat.say("alice", "/kpi @李雷 本月")
    rows = K.rows_by_first(K.table_after(reply))
    for code, name in ZH_NAMES.items():
        a = K.actual(data, code, *oct_, user="李雷")
        target = {"sales": 1_000_000.0, "customers": 8.0}.get(code)
        check_row(rows[name], code, actual=a, target=target,
                  previous=K.actual(data, code, *K.same_days(sep, elapsed), user="李雷"),
                  last_year=K.actual(data, code, *K.same_days(ly, elapsed), user="李雷"))
        if target is not None:
            assert rows[name][-1] == needed(target - a, remaining, code), (code, rows[name])
    # 韩梅梅's recurring visits target applies to October; 李雷's exact sales target does not leak to her
    reply = chat.say("韩梅梅", "/kpi 我 2026-10")
    rows = K.rows_by_first(K.table_after(reply))
    assert rows["拜访"][2] == "30" and rows["销售额"][2] == "—"


def test_english_and_the_last_value_metric(world):
    chat, data, _ = world
    chat.say("alice", "/teambot lang en")
    reply = chat.say("alice", "/kpi me last month")
    assert "*KPI* · <@alice> · September 2026" in reply.plain()
    table = K.table_after(reply)
    assert table.header[:3] == ("Metric", "Actual", "Target")
    rows = K.rows_by_first(table)
    sep, aug, ly = K.month(2026, 9), K.month(2026, 8), K.month(2025, 9)
    for code, name in EN_NAMES.items():
        check_row(rows[name], code, actual=K.actual(data, code, *sep, user="alice"), target=None,
                  previous=K.actual(data, code, *aug, user="alice"),
                  last_year=K.actual(data, code, *ly, user="alice"), lang="en")
    assert K.actual(data, "pipeline", *sep, user="alice") is not None  # the latest value is exercised


def test_metric_add_is_for_managers_and_names_must_be_free(world):
    chat, _, _ = world
    run_dialog(chat, [
        ("李雷", "/kpi metric add demos 演示 Product demos count sum", ["只有销售经理"], [], False),
        ("wang", "/kpi 指标 添加 demos 演示 Product demos count sum demo,演示次数",
         ["demos", "演示", "求和", "demo, 演示次数"]),
        ("wang", "/kpi metric add demos 演示2 Demos count sum", ["demos"], [], False),
        ("wang", "/kpi metric add talks 销售额 Talks count sum", ["销售额", "sales"], [], False),
        ("wang", "/kpi metric add Bad-Code 名 Name count sum", ["Bad-Code"], [], False),
        ("wang", "/kpi metric add nps 净推荐 NPS % average", ["nps"]),
        ("李雷", "/kpi metric list", ["demos", "Product demos", "pipeline", "nps"]),
        ("李雷", "/progress 演示两场 演示=2 净推荐=55", ["演示 2", "净推荐 55%"]),
    ])
    with chat.uow() as u:
        m = u.session.scalars(select(Metric).where(Metric.code == "demos")).one()
        assert (m.name_zh, m.name_en, m.unit, m.aggregation, m.aliases) == (
            "演示", "Product demos", "count", "sum", "demo,演示次数")


def _ctx():
    inv = Invocation(actor=Actor("console", "wang"), channel="C", command="kpi", text="", received_at=K.NOW)
    return Ctx(inv=inv, lang="zh", tz=K.SHANGHAI, now=K.NOW)


def test_without_a_period_the_request_leaves_it_to_the_goals():
    assert parse("", _ctx()).period is None and parse("团队", _ctx()).period is None


@pytest.mark.parametrize("text,kind,label", [
    ("week", "week", "2026-W43"), ("月", "month", "2026-10"),
    ("quarter", "quarter", "2026-Q4"), ("年", "year", "2026"), ("2026-Q4", "quarter", "2026-Q4"),
    ("2026-11", "month", "2026-11"), ("上月", "month", "2026-09"), ("本季度", "quarter", "2026-Q4"),
    ("团队 上季度", "quarter", "2026-Q3"), ("@li last year", "year", "2025"),
])
def test_periods(text, kind, label):
    req = parse(text, _ctx())
    assert isinstance(req, ShowKpi) and (req.period.kind, req.period.label) == (kind, label)


def test_parse_metric_requests_and_errors():
    req = parse("metric add win_rate 赢单率 Win rate % average 赢率,winrate", _ctx())
    assert req == AddMetric("win_rate", "赢单率", "Win rate", "%", "average", ("赢率", "winrate"))
    assert isinstance(parse("指标 列表", _ctx()), ListMetrics)
    assert parse("指标添加 x 名字 Name 元 sum", _ctx()).unit == "CNY"
    for bad in ("metric add", "metric add x y", "metric remove x", "@a @b", "some day", "metric add 1x 名 N count sum"):
        with pytest.raises(UsageError):
            parse(bad, _ctx())
