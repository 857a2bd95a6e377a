"""The App Home tab (issue 6): my open tasks with Done / Snooze, my KPIs against my goals, requests
waiting for my approval with Approve / Reject, my team's next meeting; published when the tab is
opened and again after every button click by that person. Through the real Bolt app over signed
requests against FakeSlack; every view and message captured is checked against Slack's limits.

People: U1 王伟 manager (zh), U2 li rep (zh), U3 amy rep (English), U4 zhao resource admin."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from storage.models import ResourceRequest, Task
from tests.kit.block_limits import VIEW_BLOCKS, assert_within_limits, view_problems
from tests.kit.fixtures import SlackHarness, payload_text

HOME = {"channel": None, "response_url": None, "container": {"type": "view", "view_id": "VHOME"}}


@pytest.fixture
def slack(slack):
    yield slack
    assert assert_within_limits(slack.fake, slack.http_answers) > 0


@pytest.fixture
def slack_db(fake_slack, db_url, clock):
    h = SlackHarness(fake_slack, db_url, clock)
    yield h
    assert_within_limits(h.fake, h.http_answers)
    h.close()


def setup_team(slack: SlackHarness) -> None:
    slack.fake.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", display_name="王伟")
    slack.fake.set_user("U2", locale="zh-CN", tz="Asia/Shanghai", display_name="li")
    slack.fake.set_user("U3", locale="en-US", tz="Asia/Shanghai", display_name="amy")
    slack.fake.set_user("U4", locale="zh-CN", tz="Asia/Shanghai", display_name="zhao")
    slack.slash("/team", "setup 华东一组", user="U1")
    for user, name, role in (("U2", "li", "rep"), ("U3", "amy", "rep"), ("U4", "zhao", "resource_admin")):
        slack.slash("/team", f"add <@{user}|{name}> {role}", user="U1")
    slack.slash("/teambot", "lang en", user="U3")


def published(slack: SlackHarness, user: str) -> dict:
    """The last Home view published for `user`."""
    calls = [c for c in slack.fake.calls("views.publish") if c.params.get("user_id") == user]
    assert calls, f"no Home tab published for {user}"
    view = calls[-1].json("view")
    assert view["type"] == "home" and view_problems(view) == []
    return view


def open_home(slack: SlackHarness, user: str) -> dict:
    assert slack.home(user).status == 200
    return published(slack, user)


def buttons(view: dict) -> list[dict]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def button(view: dict, label: str, value_part: str = "") -> dict:
    found = [e for e in buttons(view) if e["text"]["text"] == label and value_part in e["value"]]
    assert found, f"no button {label!r} ({value_part!r}) in {[e['text']['text'] for e in buttons(view)]}"
    return found[0]


def click_on_home(slack: SlackHarness, el: dict, user: str, **kw) -> None:
    assert slack.click(el["value"], user=user, action_id=el["action_id"], label=el["text"]["text"],
                       **{**HOME, **kw}).status == 200


def test_home_shows_my_tasks_kpis_approvals_and_meeting(slack_db):
    slack = slack_db
    setup_team(slack)
    slack.slash("/task", "add <@U1> 准备周会材料 截止 明天", user="U1")
    slack.slash("/task", "add <@U1> 回访老客户 截止 下周五", user="U1")
    slack.slash("/task", "add <@U2> 不是我的 截止 明天", user="U1")
    slack.slash("/goal", "set sales 100万 2026-11 for me", user="U1")  # a manager says whose goal
    slack.slash("/progress", "签约ACME 销售额=30万", user="U1")
    slack.slash("/resource", "申请 人力 2 用于 华南展会", user="U2")
    view = open_home(slack, "U1")
    text = payload_text(view)
    assert view["blocks"][0]["type"] == "header"
    # My open tasks, soonest first, each with Done / Snooze; not other people's.
    assert "*我的进行中任务*（2）" in text and "准备周会材料" in text and "回访老客户" in text
    assert text.index("准备周会材料") < text.index("回访老客户") and "不是我的" not in text
    assert button(view, "完成", "/task done 1")["style"] == "primary"
    assert button(view, "推迟1天", "/task snooze 1")
    # My KPIs against my goals this month.
    assert "*我的绩效* · 2026年11月" in text and "销售额" in text and "¥1,000,000" in text and "30%" in text
    # Requests waiting for my approval (the manager approves submitted ones).
    assert "*待我审批*（1）" in text and "华南展会" in text
    assert button(view, "批准", "/resource approve 1") and button(view, "驳回", "/resource reject 1")
    # The next meeting (default: Monday 09:30, 60 minutes).
    assert "*华东一组 下次例会*：2026-11-30 周一 09:30" in text and button(view, "预览议程")["value"] == "/agenda"
    # Quick actions open the forms.
    assert [b["value"] for b in buttons(view)[:4]] == ["/task", "/progress", "/resource", "/goal"]


def test_a_rep_sees_no_approvals_and_an_english_home(slack):
    setup_team(slack)
    slack.slash("/resource", "申请 人力 2 用于 华南展会", user="U2")
    view = open_home(slack, "U3")
    text = payload_text(view)
    assert "*My open tasks*: none." in text and "Waiting for my approval" not in text
    assert "*My KPIs* · November 2026" in text
    assert "Next meeting of 华东一组" in text
    # The resource admin sees the request only once the manager approved it.
    assert "待我审批*（0）" in payload_text(open_home(slack, "U4"))
    slack.slash("/resource", "批准 1", user="U1")
    view = open_home(slack, "U4")
    assert "待我审批*（1）" in payload_text(view) and button(view, "审核通过", "/resource approve 1")


def test_done_and_snooze_on_the_home_tab_act_and_republish(slack_db):
    slack = slack_db
    setup_team(slack)
    slack.slash("/task", "add <@U3> call ACME due tomorrow", user="U3")
    slack.slash("/task", "add <@U3> send the quote due next friday", user="U3")
    view = open_home(slack, "U3")
    publishes = len(slack.fake.calls("views.publish"))
    click_on_home(slack, button(view, "Done", "/task done 1"), "U3", trigger_id="t-done")
    with Session(slack.engine) as session:
        assert session.get(Task, 1).status == "done"
    # Answered in the DM (a Home tab has no response_url), and the tab re-published without it.
    [dm] = slack.fake.calls("chat.postMessage")
    assert dm.params["channel"] == "U3" and "Task #1 done" in payload_text(dm.params)
    assert len(slack.fake.calls("views.publish")) == publishes + 1
    view = published(slack, "U3")
    assert "call ACME" not in payload_text(view) and "*My open tasks* (1)" in payload_text(view)
    click_on_home(slack, button(view, "Snooze 1 day", "/task snooze 2"), "U3", trigger_id="t-snooze")
    with Session(slack.engine) as session:
        assert session.get(Task, 2).snoozed_until is not None
    assert "reminders paused until" in payload_text(published(slack, "U3"))


def test_a_forwarded_home_button_is_rechecked_for_the_clicker(slack):
    setup_team(slack)
    slack.slash("/task", "add <@U3> call ACME due tomorrow", user="U3")
    done = button(open_home(slack, "U3"), "Done", "/task done 1")
    click_on_home(slack, done, "U2", trigger_id="t-other")
    with Session(slack.engine) as session:
        assert session.get(Task, 1).status == "open"
    [dm] = slack.fake.calls("chat.postMessage")
    assert dm.params["channel"] == "U2" and "🚫" in payload_text(dm.params)


def test_approve_from_the_home_tab(slack):
    setup_team(slack)
    slack.slash("/resource", "申请 人力 2 用于 华南展会", user="U2")
    view = open_home(slack, "U1")
    click_on_home(slack, button(view, "批准", "/resource approve 1"), "U1", trigger_id="t-approve")
    with Session(slack.engine) as session:
        assert session.get(ResourceRequest, 1).state == "approved"
    after = payload_text(published(slack, "U1"))
    assert "*待我审批*（0）" in after and "没有等你处理的申请" in after


def test_home_republishes_after_every_click_and_after_a_form(slack):
    setup_team(slack)
    slack.click("/teambot help", user="U2", channel="C1", response_token="h")
    assert published(slack, "U2")
    view = slack.slash("/task", "", user="U2") and slack.views()[-1]
    n = len(slack.fake.calls("views.publish"))
    assert slack.submit(view, {"title": "回访", "due_date": "2026-12-01"}, user="U2").body == ""
    assert len(slack.fake.calls("views.publish")) == n + 1
    assert "回访" in payload_text(published(slack, "U2"))


def test_someone_in_no_team_gets_the_help(slack):
    slack.fake.set_user("U9", locale="en-US")
    text = payload_text(open_home(slack, "U9"))
    assert "not in a sales team yet" in text and "/teambot" in text and "/team setup" in text


def test_someone_in_two_teams_sees_both(slack):
    setup_team(slack)
    slack.slash("/team", "setup 华南组", user="U1", channel="C2")
    slack.slash("/task", "add <@U1> 华东的事 截止 明天", user="U1")
    slack.slash("/task", "add <@U1> 华南的事 截止 明天", user="U1", channel="C2")
    text = payload_text(open_home(slack, "U1"))
    assert "*🏷 华东一组*" in text and "*🏷 华南组*" in text and "华东的事" in text and "华南的事" in text
    assert text.count("下次例会") == 2


def test_a_failing_views_publish_never_fails_the_click(slack):
    setup_team(slack)
    slack.slash("/task", "add <@U3> call ACME due tomorrow", user="U3")
    slack.fake.fail("views.publish", status=500, times=None)
    assert slack.home("U3").status == 200
    assert slack.click("/task done 1", user="U3", action_id="tb:task.done:0", **HOME).status == 200
    with Session(slack.engine) as session:
        assert session.get(Task, 1).status == "done"


def test_the_home_view_stays_within_a_hundred_blocks_with_many_requests_and_teams(slack):
    setup_team(slack)
    for i in range(30):
        slack.slash("/resource", f"申请 人力 {i + 1} 用于 展会{i}", user="U2")
    for i in range(30):
        slack.slash("/task", f"add <@U1> 任务{i} 截止 {i + 1}天后", user="U1")
    view = open_home(slack, "U1")
    assert len(view["blocks"]) <= VIEW_BLOCKS
    text = payload_text(view)
    assert "*待我审批*（30）" in text and "更多（还有 25 项）" in text
    assert button(view, "更多（还有 25 项）", "/resource list pending")
    assert [r.id for r in _requests(slack)][:1] == [1]


def _requests(slack: SlackHarness) -> list[ResourceRequest]:
    with Session(slack.engine) as session:
        return list(session.scalars(select(ResourceRequest).order_by(ResourceRequest.id)))
