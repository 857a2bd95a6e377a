"""What people type, read the way they meant it, over signed Slack HTTP (the real Bolt app, FakeSlack):
a metric part with spaces, a value without "=", a member named without @ (Slack sends `<@U2>` without
a label, so the name is the one Slack gives the member), an office date on a non-working day, a
keyword typo, a manager's goal without `for`, and a KPI mid-month compared like for like.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai unless moved. U1 manages 华东一组 in C1; U2 (李雷) is a rep.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import Goal, ProgressValue, Task
from tests.kit.fixtures import SlackHarness

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _team(slack: SlackHarness) -> None:
    slack.fake.set_user("U1", locale="zh-CN", display_name="王经理")
    slack.fake.set_user("U2", locale="zh-CN", display_name="李雷")
    assert slack.slash("/team", "setup 华东一组", user="U1").status == 200
    # A mention as recent Slack clients send it: no label. U2's name comes from Slack's profile.
    assert slack.slash("/team", "add <@U2> rep", user="U1").status == 200
    assert slack.slash("/progress", "加入团队", user="U2").status == 200


def _rows(slack: SlackHarness, model):
    with slack.engine.connect() as c:
        return c.execute(select(model)).all()


def test_metric_parts_over_slack(slack):
    _team(slack)
    ok = slack.slash("/progress", "空格测试 销售额 = 5万", user="U2")
    assert ok.ephemeral and "¥50,000" in ok.text, ok.text
    refused = slack.slash("/progress", "空格测试 销售额 5万", user="U2")
    assert "“销售额 5万”" in refused.text and "销售额=5万" in refused.text
    counted = slack.slash("/progress", "测试 新客户=1.5", user="U2")
    assert "整数" in counted.text
    assert [r.value for r in _rows(slack, ProgressValue)] == [50_000]


def test_a_member_named_without_at_over_slack(slack):
    _team(slack)
    reply = slack.slash("/task", "新建 李雷 拜访客户 截止 明天", user="U1")
    assert "拜访客户" in reply.text, reply.text
    (task,) = _rows(slack, Task)
    assert (task.assignee, task.title) == ("U2", "拜访客户")


def test_an_office_date_on_a_non_working_day_over_slack(slack):
    _team(slack)
    reply = slack.slash("/task", "新建 <@U2> 拜访客户 截止 12.20", user="U1")
    assert "12月20日 周日，非工作日" in reply.text and "12月18日 周五" in reply.text, reply.text
    reply = slack.slash("/task", "新建 <@U2> 准备报价 截止 元旦前", user="U1")
    assert "2026-12-31" in reply.text, reply.text


def test_did_you_mean_and_the_goal_scope_question_over_slack(slack):
    _team(slack)
    typo = slack.slash("/task", "ad foo", user="U1")
    assert "是不是想输入 /task add？" in typo.text and typo.ephemeral
    asked = slack.slash("/goal", "设定 销售额 120万 2026-Q4", user="U1")
    assert "为团队设定" in asked.text and not _rows(slack, Goal)
    slack.click("/goal 设定 销售额 120万 2026-Q4 为团队", user="U1")
    (goal,) = _rows(slack, Goal)
    assert goal.user_id is None and goal.target == 1_200_000


def test_kpi_mid_month_is_like_for_like_over_slack(slack, clock):
    clock.set(datetime(2026, 11, 3, 15, tzinfo=SHANGHAI))
    _team(slack)
    assert slack.slash("/progress", "签约 销售额=60万", user="U2").status == 200
    clock.set(datetime(2026, 11, 20, 15, tzinfo=SHANGHAI))
    assert slack.slash("/progress", "签约 销售额=89万", user="U2").status == 200
    clock.set(datetime(2026, 12, 3, 15, tzinfo=SHANGHAI))
    assert slack.slash("/progress", "签约 销售额=70万", user="U2").status == 200
    clock.set(datetime(2026, 12, 4, 10, tzinfo=SHANGHAI))  # Friday, 4th working day of December
    reply = slack.slash("/kpi", "team", user="U1")
    # December so far (70万) against Nov 1-5 (60万), not all of November (149万).
    assert "截至今日，与上月同期相比" in reply.text and "+16.7%" in reply.text, reply.text
