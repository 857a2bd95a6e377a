"""/goal: the SMART check, relative and recurring goals, review numbers, adjust history, permissions."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from commands import goals
from commands.core import fmt, parsing
from commands.core.clock import FixedClock
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.goals import AdjustGoal, GoalHistory, ListGoals, ReviewGoals, parse
from storage.models import Goal, GoalRevision
from tests.commands import kpi_data as K
from tests.kit.dialog import Chat, row_counts, run_dialog


@pytest.fixture
def world(uow):
    clock = FixedClock(K.NOW)
    chat, data, _ = K.world(uow, clock)
    return chat, data, clock


@pytest.fixture
def small(uow):
    """A team without generated data (fast): wang manages 李雷 and alice."""
    chat = Chat(uow, FixedClock(K.NOW))
    for line in ("/team setup 华东一组", "/team add @李雷 rep", "/team add @alice rep"):
        assert chat.say("wang", line).ok
    return chat


def _ctx(lang="zh"):
    inv = Invocation(actor=Actor("console", "wang"), channel="C", command="goal", text="", received_at=K.NOW)
    return Ctx(inv=inv, lang=lang, tz=K.SHANGHAI, now=K.NOW)


# -- parsing ----------------------------------------------------------------------------------------


def test_parse_shapes():
    ctx = _ctx()
    g = parse("set sales 1.2m 2026-Q4", ctx)
    assert (g.metric, g.target.value, g.relative, g.period.label, g.team, g.who) == (
        "sales", 1_200_000, False, "2026-Q4", False, None)
    g = parse("set sales +20% 2026-Q4 for team", ctx)
    assert g.relative and g.target.value == 20 and g.team
    g = parse("set sales 1m Q4 for the team", ctx)
    assert g.team and g.metric == "sales" and g.period.label == "2026-Q4"
    g = parse("设定 新客户 10 每月 为 @李雷", ctx)
    assert (g.metric, g.recurring, g.who.name) == ("新客户", "month", "李雷")
    g = parse("set csat 90% by 2026-12-31", ctx)
    assert g.deadline == date(2026, 12, 31) and g.target.percent and g.period is None
    g = parse("设定 满意度 90% 12月31日前", ctx)
    assert g.deadline == date(2026, 12, 31)
    g = parse("set sales 2026-Q4 1.2m", ctx)  # order is free
    assert g.period.label == "2026-Q4" and g.target.value == 1_200_000
    g = parse("set New customers 5 next month", ctx)
    assert g.metric == "New customers" and g.period.label == "2026-11"
    g = parse("set sales 500万 2027", ctx)
    assert g.period.label == "2027" and g.target.value == 5_000_000
    assert parse("", ctx) == ListGoals() and parse("回顾", ctx) == ReviewGoals()
    assert parse("adjust 3 1.5m because ACME slipped", ctx) == AdjustGoal(3, g.target.__class__(1_500_000, False),
                                                                          "ACME slipped")
    assert parse("调整 #3 150万因为客户延期", ctx).reason == "客户延期"
    assert parse("历史 3", ctx) == GoalHistory(3)


@pytest.mark.parametrize("text", [
    "set sales 1m last quarter", "set sales 1m 2026-Q3", "adjust 3 1m", "adjust x 1m because y",
    "adjust 3 +10% because y", "set sales +20% by 2026-12-31", "set sales 1m for @a @b", "set sales -5 2026-Q4",
    "frobnicate", "set sales 1m by", "list extra",
])
def test_parse_errors(text):
    with pytest.raises(UsageError):
        parse(text, _ctx())


@pytest.mark.parametrize("text,letters", [
    ("set", "S/R/M/T"),
    ("set foo", "S/R/M/T"),
    ("set sales", "M/T"),
    ("set sales 1m", "T"),
    ("set sales 2026-Q4", "M"),
    ("set 1m 2026-Q4", "S/R"),
    ("set profit 1m 2026-Q4", "S/R"),
    ("set profit monthly", "S/R/M"),
])
def test_smart_check_names_the_missing_letters(small, text, letters):
    before = row_counts(small.uow)
    reply = small.say("李雷", f"/goal {text}")
    assert not reply.ok
    assert f"缺少：{letters}。" in reply.plain(), reply.plain()
    missing = set(letters.replace("S/R", "SR").split("/"))
    for letter, hint in (("SR", "S/R（具体、相关）"), ("M", "M（可衡量）"), ("T", "T（有时限）")):
        assert (hint in reply.plain()) == (letter in missing), (letter, reply.plain())
    assert row_counts(small.uow) == before


def test_smart_check_in_english(small):
    small.say("alice", "/teambot lang en")
    reply = small.say("alice", "/goal set sales 1m")
    assert "missing: T." in reply.plain() and "T (Time-bound)" in reply.plain()
    reply = small.say("alice", "/goal set revenue-ish 1m 2026-Q4")
    assert "missing: S/R." in reply.plain() and "“revenue-ish” is not a metric" in reply.plain()


# -- permissions --------------------------------------------------------------------------------------


def test_who_may_set_which_goals(small):
    run_dialog(small, [
        ("李雷", "/goal set sales 1m 2026-Q4", ["🎯", "#1", "<@李雷>"]),
        ("李雷", "/goal set sales 1m 2026-Q4 for team", ["只有销售经理可以设定团队目标"], [], False),
        ("李雷", "/goal set sales 1m 2026-Q4 for @alice", ["给别人设定目标需要销售经理"], [], False),
        ("李雷", "/goal set sales 1m 2026-Q4 for @李雷", ["已经有这个目标", "#1"]),  # identical: not added twice
        ("wang", "/goal set sales 1m 2026-Q4 for @alice", ["#2", "<@alice>"]),
        ("wang", "/goal 设定 销售额 300万 2026-Q4 为团队", ["#3", "团队"]),
        ("wang", "/goal set sales 1m 2026-Q4 for @nobody", ["不是本团队成员"], [], False),
        ("李雷", "/goal adjust 2 2m because 我觉得", ["只有目标的负责人或销售经理"], [], False),
        ("李雷", "/goal adjust 3 2m because 我觉得", ["只有目标的负责人或销售经理"], [], False),
        ("李雷", "/goal adjust 1 1.2m because 新客户加入", ["¥1,000,000（100万） → ¥1,200,000（120万）"]),
        ("wang", "/goal adjust 2 800k because 区域调整", ["#2", "区域调整"]),
        ("wang", "/goal adjust 99 1m because x", ["没有编号为 #99"], [], False),
        ("stranger", "/goal list", ["不是团队"], [], False),
    ])


# -- relative, recurring, deadline, achievable --------------------------------------------------------------


def test_relative_goal_is_computed_at_set_time_and_echoed(world):
    chat, data, _ = world
    q3 = K.quarter(2026, 3)
    base = K.actual(data, "sales", *q3, user="李雷")
    expected = base * 1.2
    reply = chat.say("wang", "/goal set sales +20% 2026-Q4 for @李雷")
    assert reply.ok, reply.plain()
    text = reply.plain()
    # A target worked out from a percentage is a planning figure: in 万, no cents.
    assert fmt.plan_amount(expected, "CNY", "zh") in text and fmt.amount(base, "CNY", "zh") in text
    assert "2026年第三季度实际" in text and "+20%" in text
    team_base = K.actual(data, "visits", *K.month(2026, 9))
    reply = chat.say("wang", "/goal 设定 拜访 -10% 每月 为团队")
    assert fmt.number(round(team_base * 0.9)) in reply.plain(), reply.plain()  # visits are whole
    with chat.uow() as u:
        g1, g2 = u.session.scalars(select(Goal).order_by(Goal.id)).all()
    assert (g1.basis, g1.relative_pct, g1.base_value, g1.target) == ("relative", 20.0, base, pytest.approx(expected))
    assert (g2.recurring, g2.kind, g2.user_id, g2.target) == (True, "month", None, round(team_base * 0.9))
    # the list shows the basis
    assert "较 " in chat.say("李雷", "/goal list").plain()


def test_relative_goal_without_a_base_is_refused(small):
    reply = small.say("李雷", "/goal set sales +20% 2026-Q4")
    assert not reply.ok and "没有可比较的实际值" in reply.plain()


def test_achievable_warning_names_the_best_past_period(world):
    chat, data, _ = world
    best = max(K.actual(data, "visits", *K.month(2026, m), user="alice") for m in range(4, 10))
    reply = chat.say("wang", f"/goal set visits {int(best * 3)} 2026-11 for @alice")
    assert reply.ok
    assert "⚠️ 可实现吗" in reply.plain() and fmt.number(best) in reply.plain(), reply.plain()
    reply = chat.say("wang", f"/goal set visits {int(best * 1.5)} 2026-12 for @alice")
    assert reply.ok and "可实现吗" not in reply.plain()


def test_review_numbers(world):
    chat, data, _ = world
    run_dialog(chat, [
        ("wang", "/goal set sales 6m 2026-Q4 for team", ["#1"]),
        ("wang", "/goal set customers 8 monthly for @李雷", ["#2"]),
        ("wang", "/goal set csat 95% by 2026-11-30 for @alice", ["#3"]),
        ("wang", "/goal set visits 50 2026-11 for @韩梅梅", ["#4"]),  # not started: not reviewed
    ])
    reply = chat.say("韩梅梅", "/goal review")
    rows = K.rows_by_first(K.table_after(reply))
    assert set(rows) == {"#1", "#2", "#3"}
    now_end = K.NOW + timedelta(microseconds=1)

    def check(row, code, target, start, end_day, user=None):
        actual = K.actual(data, code, start, now_end, user)
        total = K.workdays(start.astimezone(K.SHANGHAI).date(), end_day)
        elapsed = K.workdays(start.astimezone(K.SHANGHAI).date(), date(2026, 10, 21))
        unit = K.AGG[code][1]
        a = (lambda v: "—" if v is None else fmt.amount(v, unit, "zh"))
        plan = (lambda v: "—" if v is None else fmt.plan_amount(v, unit, "zh"))  # expected and forecast are plans
        if K.AGG[code][0] == "sum":
            expected, forecast = target * elapsed / total, actual * total / elapsed
        else:
            expected, forecast = target, actual
        att = None if actual is None else f"{fmt.number(round(100 * actual / target, 1))}%"
        assert row[4:8] == (a(target), a(actual), att or "—", plan(expected)), row
        assert row[9] == plan(forecast), row

    check(rows["#1"], "sales", 6_000_000, K.quarter(2026, 4)[0], date(2027, 1, 1))
    check(rows["#2"], "customers", 8, K.month(2026, 10)[0], date(2026, 11, 1), "李雷")
    check(rows["#3"], "csat", 95, K.local("2026-10-20"), date(2026, 12, 1), "alice")


def test_adjust_keeps_history(small):
    run_dialog(small, [
        ("wang", "/goal set sales 1m 2026-Q4 for team", ["#1"]),
        ("wang", "/goal adjust 1 1.5m because 新增华南区域", ["1 次"]),
        ("wang", "/goal 调整 1 130万 因为 大客户推迟到明年", ["2 次"]),
        ("李雷", "/goal history 1", ["新增华南区域", "大客户推迟到明年", "¥1,000,000（100万）",
                                     "¥1,500,000（150万）", "¥1,300,000（130万）", "设定"]),
        ("wang", "/goal adjust 1 2m", ["原因"], [], False),
        ("wang", "/goal adjust 1 50% because x", ["不是百分比"], [], False),
    ])
    with small.uow() as u:
        revs = u.session.scalars(select(GoalRevision).order_by(GoalRevision.id)).all()
        goal = u.session.get(Goal, 1)
    assert [(r.old_target, r.new_target, r.reason, r.changed_by) for r in revs] == [
        (1_000_000, 1_500_000, "新增华南区域", "wang"), (1_500_000, 1_300_000, "大客户推迟到明年", "wang")]
    assert goal.target == 1_300_000
    table = K.table_after(small.say("wang", "/goal list"))
    assert table.rows[0][-1] == "2"


def test_month_review_met_missed_and_suggestions(world):
    """Goals for September, set in August, reviewed as the scheduled goal review would (Oct 8)."""
    chat, data, clock = world
    sep = K.month(2026, 9)
    li = K.actual(data, "sales", *sep, user="李雷")
    han = K.actual(data, "visits", *sep, user="韩梅梅")
    team_c = K.actual(data, "customers", *sep)
    clock.set(K.local("2026-08-20", "10:00"))
    run_dialog(chat, [
        ("wang", f"/goal set sales {int(li / 2)} 2026-09 for @李雷", ["#1"]),  # 200%: raise
        ("wang", f"/goal set visits {int(han * 2)} monthly for @韩梅梅", ["#2"]),  # 50%: lower
        ("wang", f"/goal set customers {int(team_c)} 2026-09 for team", ["#3"]),  # met exactly: keep
        ("wang", "/goal set sales 1m 2026-Q4 for team", ["#4"]),  # not over: not reviewed
    ])
    clock.set(K.local("2026-10-08", "10:00"))
    with chat.uow() as u:
        from storage.models import Team
        team = u.session.scalars(select(Team)).one()
        month = parsing.period_of("month", date(2026, 9, 1), K.SHANGHAI)
        reply = goals.month_review(u.session, team, month, K.SHANGHAI, "zh")
    rows = K.rows_by_first(K.table_after(reply))
    assert set(rows) == {"#1", "#2", "#3"}
    assert "3 个目标中达成 2 个" in reply.plain()
    assert rows["#1"][5] == fmt.amount(li, "CNY", "zh") and rows["#1"][-1] == "✅ 达成"
    assert rows["#2"][5] == fmt.number(han) and rows["#2"][-1] == "❌ 未达成"
    assert rows["#3"][5] == fmt.number(team_c) and rows["#3"][-1] == "✅ 达成"
    text = reply.plain()
    raise_to = goals.nice(li * 1.05)
    lower_to = goals.nice((han + int(han * 2)) / 2)
    assert f"建议提高到 {fmt.amount(raise_to, 'CNY', 'zh')}" in text
    assert f"建议调整为 {fmt.number(lower_to)}" in text
    assert "#3" not in text.split("*调整建议*")[1]


def test_nice_numbers():
    assert goals.nice(1_234_567) == 1_200_000 and goals.nice(87) == 87 and goals.nice(1_250_000) == 1_200_000
    assert goals.nice(5) == 5 and goals.nice(0) == 0
