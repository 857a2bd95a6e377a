"""/activity (活动) and what a resource allocation brought (投入产出比), through the real dispatcher and
database (SQLite and PostgreSQL), in zh and en; and one table on every platform through its adapter.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东一组: wang (manager), mei (marketing), li (rep),
zhao (resource admin), amy (marketing, English); `stranger` is in no team."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from commands import activities
from commands.core import forms
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import Table
from storage.models import Activity, ResourceRequest
from tests.kit.chat import PLATFORMS, Row, run_rows
from tests.kit.chat import Chat as PlatformChat
from tests.kit.dialog import Chat, row_counts, run_dialog


def _team(uow, clock) -> Chat:
    chat = Chat(uow, clock)
    for user, line in (("wang", "/team setup 华东一组"), ("wang", "/team add @mei marketing"),
                       ("wang", "/team add @li rep"), ("wang", "/team add @zhao resource_admin"),
                       ("wang", "/team add @amy marketing"), ("amy", "/teambot lang en")):
        assert chat.say(user, line).ok, line
    return chat


def _table(reply) -> Table:
    return next(p for p in reply.parts if isinstance(p, Table))


def test_each_activity_is_compared_with_the_previous_one_not_the_previous_month(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("mei", "/活动 新建 春季沙龙 10月10日 预算=2万", ["登记了活动 #1：春季沙龙，2026-10-10 周六", "¥20,000（2万）",
                                                       "/活动 结果 1 参与人数="]),
        ("mei", "/活动 结果 1 参与人数=100 线索=10", ["活动 #1 春季沙龙 的结果已记录", "参与 100 人，线索 10 条",
                                                 "第一个有结果的活动"]),
        # Two activities in the same month (November): each compares with the one before it.
        ("mei", "/活动 新建 客户答谢会 11月5日", ["#2：客户答谢会，2026-11-05 周四"]),
        ("mei", "/活动 结果 2 参与人数=90 线索=8", ["较上次活动 #1 春季沙龙（100 人）-10%", "目标 +20% 即 120 人",
                                              "达成 75%", "⚠️"]),
        ("amy", "/activity add Autumn salon 2026-11-20 budget=30k", ["recorded activity #3: Autumn salon",
                                                                    "Fri 2026-11-20", "budget ¥30,000"]),
        ("amy", "/activity result 3 participants=108 leads=12",
         ["vs the previous activity #2 客户答谢会 (90 participants) +20%", "target +20% = 108", "attainment 100%",
          "✅"]),
        # run together as typed on a Chinese keyboard, a coming day
        ("mei", "/活动 新建华南展会12月20日 预算＝5万", ["#4：华南展会，2026-12-20 周日", "¥50,000（5万）",
                                                    "活动办完后录入结果"]),
        ("mei", "/活动 结果 4 参与人数=150", ["活动 #4 华南展会 在 2026-12-20 周日，还没举办"], [], False),
        ("mei", "/活动 结果3 参与人数=110人", ["活动 #3 Autumn salon 的结果已更正", "参与 110 人，线索 12 条"]),
    ])
    reply = chat.say("li", "/活动 列表")
    assert reply.ok and "市场活动* · 华东一组 · 共 4 个" in reply.plain()
    rows = {r[0]: r for r in _table(reply).rows}
    assert list(rows) == ["#1", "#2", "#3", "#4"]
    #        participants, previous, change, target, attainment, leads, cost per lead
    assert rows["#1"][4:] == ("100", "—", "—", "—", "—", "10", "¥2,000")
    assert rows["#2"][4:] == ("90", "100", "-10%", "120", "75%", "8", "—")
    assert rows["#3"][4:] == ("110", "90", "+22.2%", "108", "101.9%", "12", "¥2,500")
    assert rows["#4"][4:9] == ("—", "110", "—", "132", "—")
    assert "+20%" in reply.plain()


def test_the_teams_relative_goal_sets_the_step(uow, clock):
    chat = _team(uow, clock)
    for line in ("/活动 新建 沙龙一 11月1日", "/活动 结果 1 参与人数=50", "/活动 新建 沙龙二 11月15日"):
        assert chat.say("mei", line).ok, line
    assert chat.say("wang", "/goal set event_participants 60 2026-Q4 for team").ok
    # an absolute goal does not change the seed's 20%; a relative one (+30%) does
    assert "目标 +20% 即 60 人" in chat.say("mei", "/活动 结果 2 参与人数=66").plain()
    with uow() as u:
        from storage.models import Goal
        g = u.session.scalars(select(Goal)).one()
        g.basis, g.relative_pct = "relative", 30.0
    assert "目标 +30% 即 65 人" in chat.say("mei", "/活动 结果 2 参与人数=66").plain()


REFUSED = [
    ("li", "/活动 新建 沙龙 12月20日", ["🚫 只有市场部或销售经理可以登记活动"]),
    ("zhao", "/activity result 1 participants=5", ["🚫 只有市场部或销售经理"]),
    ("stranger", "/活动 新建 沙龙 12月20日", ["🚫"]),
    ("mei", "/活动 新建 沙龙", ["⚠️ 活动哪天举办？", "正确示例", "/活动 新建 华南展会 12月20日 预算=5万"]),
    ("mei", "/活动 新建 12月20日", ["活动叫什么？"]),
    ("mei", "/活动 新建", ["要新建哪个活动？"]),
    ("mei", "/活动 新建 沙龙 12月20日 人数=5", ["不认识“人数”。新建活动时只能写 预算"]),
    ("mei", "/活动 新建 沙龙 12月20日 预算=-5", ["不是人数或金额"]),
    ("mei", "/活动 新建 沙龙 12月20日 预算=2万 预算=3万", ["“预算”写了两次"]),
    ("mei", "/活动 结果", ["哪个活动？"]),
    ("mei", "/活动 新建 沙龙 12月20日 预算 5万", ["“预算 5万”要写成 预算=5万"]),
    ("mei", "/活动 新建 沙龙 12月20日 预算5万", ["要写成 预算=5万"]),
    ("mei", "/活动 结果 1 参与人数 120", ["“参与人数 120”要写成 参与人数=120"]),
    ("amy", "/activity result 1 participants 120", ["Write “participants 120” as participants=120."]),
    ("mei", "/活动 结果 abc 参与人数=5", ["“abc”不是活动编号"]),
    ("mei", "/活动 结果 1", ["参与了多少人？写 参与人数=<n>", "/活动 结果 3 参与人数=120 线索=15"]),
    ("mei", "/活动 结果 1 参与人数=12.5", ["不是人数或金额"]),
    ("mei", "/活动 结果 1 参与人数=5 很热闹", ["多余的内容：“很热闹”"]),
    ("mei", "/活动 结果 1 参与人数=5 访客=3", ["不认识“访客”"]),
    ("mei", "/活动 结果 99 参与人数=5", ["没有找到活动 #99"]),
    ("mei", "/活动 结果 99999999999999999999 参与人数=5", ["不是活动编号"]),
    ("mei", "/活动 发布", ["这里不认识“发布”。可以用 新建、结果、列表"]),
    ("amy", "/activity add", ["Which activity? Write its name and date.", "Example:",
                              "/activity add South China expo 2026-12-20 budget=50k"]),
    ("amy", "/activity result 1 attendees=lots", ["“lots” is not a count"]),
    ("amy", "/activity frobnicate", ["I don't know “frobnicate” here."]),
]


def test_refusals_are_private_in_the_callers_language_and_write_nothing(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("mei", "/活动 新建 春季沙龙 12月20日").ok
    before = row_counts(uow)
    for user, line, says in REFUSED:
        reply = chat.say(user, line)
        assert not reply.ok and reply.private, (line, reply.plain())
        for frag in says:
            assert frag in reply.plain(), (line, reply.plain())
    assert row_counts(uow) == before
    with uow() as u:
        assert [(a.name, a.participants) for a in u.session.scalars(select(Activity))] == [("春季沙龙", None)]


def test_a_result_in_a_direct_message_finds_its_team(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("mei", "/活动 新建 沙龙 11月20日").ok
    reply = chat.say("mei", "/活动 结果 1 参与人数=40", channel="D-mei", direct=True)
    assert reply.ok and "参与 40 人" in reply.plain(), reply.plain()
    assert not chat.say("stranger", "/活动 结果 1 参与人数=41", channel="D-x", direct=True).ok


def test_a_bare_activity_opens_the_form_whose_submission_is_the_typed_command(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("mei", "/活动")
    assert not reply.ok and "登记市场活动" not in reply.plain() and "/活动 新建 <名称> <日期>" in reply.plain()
    form = next(p for p in reply.parts if type(p).__name__ == "Form")
    assert [f.name for f in form.fields] == ["name", "day", "budget"] and form.title == "登记市场活动"
    typed = forms.compose("activity", {"name": "华南 展会", "day": "2026-12-20", "budget": "5 万"})
    assert typed == "/activity add 华南 展会 2026-12-20 budget=5万"
    assert chat.say("mei", typed).ok
    assert forms.field_for_error("activity", "activities.date_required", ["name", "day", "budget"]) == "day"
    with pytest.raises(forms.FieldError) as e:
        forms.compose("activity", {"name": "x", "day": "2026-12-20", "budget": "lots"})
    assert e.value.field == "budget"


def _ctx() -> Ctx:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    inv = Invocation(actor=Actor("console", "mei", "mei"), channel="C", command="activity", text="",
                     received_at=datetime(2026, 11, 26, 10, 0, tzinfo=tz))
    return Ctx(inv=inv, now=inv.received_at, tz=tz, lang="zh")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_request_or_a_usage_error(text):
    for head in ("", "add ", "新建 ", "result ", "结果 1 "):
        try:
            activities.parse(head + text, _ctx())
        except UsageError:
            pass


# -- what a resource allocation brought --------------------------------------------------------------


def test_feedback_records_the_return_per_request_and_per_type(uow, clock):
    chat = _team(uow, clock)
    for user, line in (("zhao", "/resource stock budget 100000"), ("zhao", "/resource stock people 5"),
                       ("li", "/resource request budget 20000 for 华南展会"), ("wang", "/resource approve 1"),
                       ("zhao", "/resource approve 1"), ("zhao", "/resource allocate 1"),
                       ("li", "/resource request people 2 for 展会人手"), ("wang", "/resource approve 2"),
                       ("zhao", "/resource approve 2"), ("zhao", "/resource allocate 2")):
        assert chat.say(user, line).ok, line
    run_dialog(chat, [
        ("zhao", "/resource feedback 2 人手刚好 sales=5万", ["只有申请人 <@li> 或销售经理可以反馈申请 #2"], [], False),
        ("li", "/resource 反馈 1 展会效果好 销售额=17万 新客户=4",
         ["已记录你对申请 #1", "投入产出比：1 : 8.5（每投入 ¥1 带来 ¥8.5 销售额）、每个新客户成本 ¥5,000"]),
        ("li", "/resource 反馈 1 再补充 销售额=1万", ["申请 #1 的流程已经结束（已关闭）"], [], False),
        ("wang", "/resource feedback 2 人手刚好 visits=3", ["反馈里的“visits”不认识"], [], False),
        ("wang", "/resource feedback 2 人手刚好 sales=-5", ["不能是负数"], [], False),
        # the manager says what it brought, for the rep
        ("wang", "/resource feedback 2 人手刚好 sales=5万 customers=3", ["投入产出比：每人带来 ¥25,000（2.5万）、1.5 个新客户"]),
        ("li", "/resource show 1", ["带来销售额 ¥170,000（17万）、新客户 4 个", "投入产出比：1 : 8.5"]),
    ])
    reply = chat.say("li", "/resource stock")
    tables = [p for p in reply.parts if isinstance(p, Table)]
    assert len(tables) == 3 and "投入产出" in reply.plain()
    by_type = {r[0]: r for r in tables[1].rows}
    assert by_type["财务"][1:5] == ("1", "¥20,000（2万）", "¥170,000（17万）", "4")
    assert by_type["人力"][1:6] == ("1", "2 人", "¥50,000（5万）", "3", "每人带来 ¥25,000（2.5万）、1.5 个新客户")
    assert [r[0] for r in tables[2].rows] == ["#2", "#1"]
    with uow() as u:
        rows = {r.id: (r.state, r.return_sales, r.return_customers) for r in u.session.scalars(select(ResourceRequest))}
    assert rows == {1: ("closed", 170000.0, 4), 2: ("closed", 50000.0, 3)}
    amy = chat.say("amy", "/resource stock").plain()
    assert "Return on resources" in amy and "per person: ¥25,000, 1.5 new customers" in amy


# -- on every platform -------------------------------------------------------------------------------

PLATFORM_ROWS = [
    Row("wang", "/team setup 华东一组", private=False),
    Row("wang", "/team add @mei marketing"),
    Row("wang", "/team add @li rep"),
    Row("mei", "/活动 新建 春季沙龙 11月10日 预算=2万", says=("@mei 登记了活动 #1：春季沙龙",), private=False,
        channel=("登记了活动 #1",)),
    Row("mei", "/活动 结果 1 参与人数=100 线索=10", says=("参与 100 人，线索 10 条",), private=False),
    Row("mei", "/activity add 华南展会 2026-11-25", says=("#2：华南展会",)),
    Row("mei", "/活动 结果 2 参与人数=130", says=("较上次活动 #1 春季沙龙（100 人）+30%", "达成 108.3%"), private=False),
    Row("li", "/活动 新建 沙龙 12月20日", says=("🚫 只有市场部或销售经理",), ok=False, private=True),
    Row("li", "/活动 结果 2", says=("参与了多少人？", "正确示例"), ok=False, private=True),
    Row("li", "/活动 列表", says=("市场活动 · 华东一组 · 共 2 个", "+30%"), private=True),
    Row("li", "/teambot lang en"),
    Row("li", "/activity list", says=("Marketing activities", "+30%")),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_activities_on_every_platform(platform, sqlite_url, clock):
    with PlatformChat(platform, sqlite_url, clock) as chat:
        run_rows(chat, PLATFORM_ROWS)


def test_a_relative_goal_and_the_kpi_take_the_previous_activity_as_the_base(uow, clock):
    chat = _team(uow, clock)
    for line in ("/活动 新建 春季沙龙 10月10日", "/活动 结果 1 参与人数=100"):
        assert chat.say("mei", line).ok, line
    # no progress ever logged 活动参与人数: the base is the last activity, not last quarter
    reply = chat.say("wang", "/goal set 活动参与人数 +20% 2026-Q4 for team")
    assert reply.ok and "目标 120 = 100（上次活动 #1 春季沙龙实际）+20%" in reply.plain(), reply.plain()
    for line in ("/活动 新建 秋季沙龙 11月20日", "/活动 结果 2 参与人数=130"):
        assert chat.say("mei", line).ok, line
    rows = {r[0]: r for r in _table(chat.say("li", "/kpi 2026-Q4")).rows}
    row = rows["活动参与人数（#2 秋季沙龙，较上次活动）"]
    #            actual, target, attainment, previous, change
    assert row[1:6] == ("130", "120", "108.3%", "100", "+30%")
    # a member's own KPI is not the team's activities
    assert not any("较上次活动" in name for name in (r[0] for r in _table(chat.say("li", "/kpi @li 2026-Q4")).rows))


ENGLISH_ROWS = [
    Row("amy", "/team setup East Sales lang=en", private=False),
    Row("amy", "/team add @bob rep"),
    Row("amy", "/team add @mia marketing"),
    Row("amy", "/team add @carl resource_admin"),
    Row("mia", "/activity add Spring salon 2026-11-10 budget=20k", says=("@mia recorded activity #1: Spring salon",),
        private=False),
    Row("mia", "/activity result 1 participants=100 leads=10", says=("100 participants, 10 leads",)),
    Row("mia", "/activity add Autumn salon 2026-11-24", says=("#2: Autumn salon",)),
    Row("mia", "/activity result 2 participants=120", says=("vs the previous activity #1 Spring salon (100 participants) +20%",
                                                          "attainment 100%")),
    Row("bob", "/activity add Roadshow 2026-12-20", says=("Only marketing or the sales manager",), ok=False,
        private=True),
    Row("carl", "/resource stock budget 100000"),
    Row("bob", "/resource request budget 20000 for the expo"),
    Row("amy", "/resource approve 1"),
    Row("carl", "/resource approve 1"),
    Row("carl", "/resource allocate 1"),
    Row("bob", "/resource feedback 1 the expo went well sales=170k customers=4",
        says=("Return: 1 : 8.5", "¥5,000 per new customer")),
    Row("bob", "/resource stock", says=("Return on resources", "1 : 8.5")),
    Row("bob", "/agenda kickoff expo", says=("Project kick-off agenda", "expo"), private=True),
    Row("amy", "/agenda schedule weekly mon 09:30 90m", says=("Meetings stay within an hour",), ok=False,
        private=True),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_english_team_records_activities_and_returns_on_every_platform(platform, sqlite_url, clock):
    with PlatformChat(platform, sqlite_url, clock) as chat:
        run_rows(chat, ENGLISH_ROWS)
