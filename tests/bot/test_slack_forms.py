"""Forms in Slack (issue 6): a bare /task, /progress, /resource or /goal opens a modal; submitting it
runs exactly the typed command as the submitting user; refusals come back inline on the field they
are about; the "Create task from message" shortcut; forms opened by buttons (the Home tab's New
task, Reject without a reason). All through the real Bolt app over signed requests against FakeSlack,
and every payload captured (views, messages, answers) is checked against Slack's limits.

People: U1 王伟 manager (zh), U2 li rep (zh), U3 amy rep (English), U4 zhao resource admin."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.slack.manifest import manifest
from commands.tasks import MAX_NOTE, MAX_TITLE
from commands.core import forms
from commands.core.reply import Reply
from storage.models import Goal, OutboxMessage, ProgressEntry, ProgressValue, ResourceRequest, Task
from tests.kit.block_limits import assert_within_limits, view_problems
from tests.kit.fixtures import SlackHarness, payload_text
from tests.kit.slack_signing import action_body

CHANNEL = "C1"


@pytest.fixture
def slack(slack):
    """The shared harness, and afterwards every payload it saw checked against Slack's limits."""
    yield slack
    assert assert_within_limits(slack.fake, slack.http_answers) > 0


@pytest.fixture
def slack_db(fake_slack, db_url, clock):
    """The harness on SQLite and PostgreSQL."""
    h = SlackHarness(fake_slack, db_url, clock)
    yield h
    assert_within_limits(h.fake, h.http_answers)
    h.close()


def setup_team(slack: SlackHarness) -> None:
    slack.fake.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", display_name="王伟")
    slack.fake.set_user("U2", locale="zh-CN", tz="Asia/Shanghai", display_name="li")
    slack.fake.set_user("U3", locale="en-US", tz="Asia/Shanghai", display_name="amy")
    slack.fake.set_user("U4", locale="zh-CN", tz="Asia/Shanghai", display_name="zhao")
    assert "华东一组" in slack.slash("/team", "setup 华东一组", user="U1").text
    for user, name, role in (("U2", "li", "rep"), ("U3", "amy", "rep"), ("U4", "zhao", "resource_admin")):
        assert f"<@{user}>" in slack.slash("/team", f"add <@{user}|{name}> {role}", user="U1").text
    assert slack.slash("/teambot", "lang en", user="U3").status == 200


def open_form(slack: SlackHarness, command: str, user: str, channel: str = CHANNEL) -> dict:
    """A bare slash command; returns the modal it opened (and checks the trigger and the empty ack)."""
    before = len(slack.fake.calls("views.open"))
    answer = slack.slash(command, "", user=user, channel=channel, trigger_id=f"trig-{command}-{user}")
    assert answer.status == 200 and answer.body == "", answer.body
    calls = slack.fake.calls("views.open")
    assert len(calls) == before + 1
    assert calls[-1].params["trigger_id"] == f"trig-{command}-{user}"
    view = calls[-1].json("view")
    assert view_problems(view) == []
    return view


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def tasks(slack: SlackHarness) -> list[Task]:
    with Session(slack.engine) as session:
        return list(session.scalars(select(Task).order_by(Task.id)))


def told(slack: SlackHarness, method: str = "chat.postEphemeral") -> list[dict]:
    return [c.params for c in slack.fake.calls(method)]


# -- the four forms --------------------------------------------------------------------------------

def test_bare_task_opens_its_form_and_submitting_runs_the_typed_command(slack_db):
    slack = slack_db
    setup_team(slack)
    view = open_form(slack, "/task", "U1")
    assert view["type"] == "modal" and view["callback_id"] == "tb:form:task"
    assert view["title"]["text"] == "新建任务" and view["submit"]["text"] == "创建任务"
    fields = inputs(view)
    assert list(fields) == ["assignee", "title", "due_date", "due_time", "note"]  # in the team channel
    assert fields["assignee"]["element"] == {"action_id": "v", "type": "users_select", "initial_user": "U1"}
    assert fields["due_date"]["element"]["type"] == "datepicker"
    assert fields["due_date"]["element"]["initial_date"] == "2026-11-27"  # tomorrow, Shanghai
    assert fields["due_time"]["element"]["initial_time"] == "18:00" and fields["due_time"]["optional"]
    assert fields["note"]["element"]["multiline"] is True
    assert json.loads(view["private_metadata"]) == {"f": "task", "c": CHANNEL, "s": ""}

    before = slack.counts()
    answer = slack.submit(view, {"assignee": "U2", "title": "拜访ACME\n采购", "due_date": "2026-12-04",
                                 "due_time": "15:00", "note": "带上报价单"}, user="U1")
    assert answer.status == 200 and answer.body == ""  # the modal closes
    [task] = tasks(slack)
    assert (task.assignee, task.created_by, task.title, task.note) == ("U2", "U1", "拜访ACME 采购", "带上报价单")
    assert task.due_at.isoformat() == "2026-12-04T07:00:00+00:00"
    # The confirmation is private, in the channel the form came from.
    [conf] = told(slack)
    assert conf["channel"] == CHANNEL and conf["user"] == "U1"
    assert "已为 <@U2> 创建任务 #1：*拜访ACME 采购*" in payload_text(conf) and "15:00" in payload_text(conf)
    # The same path as typing: the assignee's DM is queued in the same transaction.
    after = slack.counts()
    assert after["task"] == before["task"] + 1 and after["outbox_message"] == before["outbox_message"] + 1

    # Typed, the same command makes the same task.
    typed = slack.slash("/task", "add <@U2> 拜访ACME 采购 due 2026-12-04 15:00 note 带上报价单", user="U1")
    assert typed.ephemeral and "#2" in typed.text
    first, second = tasks(slack)
    assert (first.assignee, first.title, first.due_at, first.note) == (second.assignee, second.title,
                                                                      second.due_at, second.note)


def test_an_invalid_field_is_answered_inline_and_nothing_is_written(slack_db):
    slack = slack_db
    setup_team(slack)
    view = open_form(slack, "/task", "U2")
    before = slack.counts()
    cases = [
        # a date in the past -> the due date
        ({"title": "回访", "due_date": "2026-11-20"}, "due_date", "已经过去了"),
        # a rep may not assign to someone else -> the owner
        ({"assignee": "U3", "title": "回访", "due_date": "2026-12-01"}, "assignee", "只有销售经理"),
        # nothing to do -> the title (Slack requires it; another client might not)
        ({"title": "  ", "due_date": "2026-12-01"}, "title", "请填写"),
    ]
    for values, field, fragment in cases:
        answer = slack.submit(view, values, user="U2")
        assert answer.status == 200
        body = answer.json
        assert body["response_action"] == "errors" and list(body["errors"]) == [field], (values, body)
        assert fragment in body["errors"][field], body
    assert slack.counts() == before
    assert told(slack) == [] and told(slack, "chat.postMessage") == []  # never a separate message


def test_inline_errors_are_plain_text(slack):
    setup_team(slack)
    view = open_form(slack, "/task", "U1")
    body = slack.submit(view, {"assignee": "U9", "title": "回访", "due_date": "2026-12-01"}, user="U1").json
    message = body["errors"]["assignee"]
    assert "@U9" in message and "<@" not in message and "*" not in message


def test_progress_form_lists_the_teams_metrics_and_maps_errors_to_fields(slack):
    setup_team(slack)
    assert slack.slash("/kpi", "metric add demos 演示 Demos count sum 演示次数", user="U1").status == 200
    view = open_form(slack, "/progress", "U3")
    assert view["title"]["text"] == "Log progress"
    fields = inputs(view)
    metric = fields["metric"]["element"]
    assert metric["type"] == "static_select"
    assert [o["value"] for o in metric["options"]] == ["sales", "customers", "csat", "event_participants",
                                                       "visits", "demos"]
    assert metric["options"][0]["text"]["text"] == "Sales (¥)"
    assert fields["kind"]["element"]["initial_option"]["value"] == "progress"
    assert fields["amount"]["element"]["type"] == "plain_text_input"

    before = slack.counts()
    for values, field, fragment in [
        ({"note": "deal", "metric": "sales", "amount": "lots"}, "amount", "lots"),
        ({"note": "deal", "metric": "sales"}, "amount", "Give the amount"),
        ({"note": "deal", "amount": "5"}, "metric", "Pick the metric"),
        ({"note": "deal", "more": "profit=5k"}, "metric", "Unknown metric “profit”"),
        ({"note": "survey", "metric": "csat", "amount": "120"}, "amount", "from 0 to 100"),
        ({}, "note", "Say what you did"),
        ({"kind": "blocker", "note": "", "metric": None}, "note", "Describe the blocker"),
    ]:
        body = slack.submit(view, values, user="U3").json
        assert body.get("response_action") == "errors" and list(body["errors"]) == [field], (values, body)
        assert fragment in body["errors"][field], (values, body)
    assert slack.counts() == before

    ok = slack.submit(view, {"note": "signed ACME", "metric": "sales", "amount": "50 万",
                             "more": "customers=1 demos=2"}, user="U3")
    assert ok.body == ""
    with Session(slack.engine) as session:
        [entry] = session.scalars(select(ProgressEntry)).all()
        values = sorted(v.value for v in session.scalars(select(ProgressValue)))
    assert entry.note == "signed ACME" and entry.user_id == "U3" and values == [1, 2, 500_000]
    [conf] = told(slack)
    assert "Progress logged: signed ACME" in payload_text(conf) and "¥500,000" in payload_text(conf)
    # The answer keeps its Undo button, which works like any other.
    assert any(b["type"] == "actions" for b in _blocks(conf))

    blocker = slack.submit(view, {"kind": "blocker", "note": "legal review is stuck", "metric": None}, user="U3")
    assert blocker.body == ""
    assert "Blocker logged" in payload_text(told(slack)[-1])


def test_resource_form(slack):
    setup_team(slack)
    view = open_form(slack, "/resource", "U2")
    fields = inputs(view)
    assert [o["value"] for o in fields["type"]["element"]["options"]] == ["people", "customers", "marketing",
                                                                          "budget"]
    assert fields["type"]["element"]["options"][0]["text"]["text"] == "人力"
    assert fields["needed_by"]["optional"] and fields["needed_by"]["element"]["type"] == "datepicker"
    for values, field, fragment in [
        ({"type": "people", "amount": "两个人", "purpose": "展会"}, "amount", "两个人"),
        ({"type": "people", "amount": "0", "purpose": "展会"}, "amount", ""),
        ({"type": "people", "amount": "2", "purpose": "展会", "needed_by": "2026-11-01"}, "needed_by", "已经过去了"),
    ]:
        body = slack.submit(view, values, user="U2").json
        assert list(body["errors"]) == [field] and fragment in body["errors"][field], body
    assert slack.submit(view, {"type": "people", "amount": "2", "purpose": "华南展会",
                               "needed_by": "2026-12-10"}, user="U2").body == ""
    with Session(slack.engine) as session:
        [row] = session.scalars(select(ResourceRequest)).all()
    assert (row.type, row.amount, row.purpose, row.requester, row.state) == ("people", 2, "华南展会", "U2",
                                                                            "submitted")
    assert "已提交资源申请 #1" in payload_text(told(slack)[-1])


def test_goal_form(slack):
    setup_team(slack)
    view = open_form(slack, "/goal", "U1")
    fields = inputs(view)
    periods = [o["value"] for o in fields["period"]["element"]["options"]]
    assert periods[:4] == ["2026-11", "2026-12", "2026-Q4", "2027-Q1"] and "monthly" in periods
    assert "initial_option" not in fields["period"]["element"]  # a deadline is the other way
    assert fields["scope"]["element"]["initial_option"]["value"] == "me"
    for user, values, field, fragment in [
        ("U1", {"metric": "sales", "target": "1.2m"}, "period", "T"),
        ("U1", {"metric": "sales", "target": "很多", "period": "2026-Q4"}, "target", "很多"),
        ("U1", {"metric": "sales", "target": "1m", "period": "2026-Q4", "deadline": "2026-12-31"}, "deadline",
         "只填一个"),
        ("U1", {"metric": "sales", "target": "1m", "period": "2026-Q4", "scope": "team", "member": "U2"},
         "member", "只能选一个"),
        ("U2", {"metric": "sales", "target": "1m", "period": "2026-Q4", "scope": "team"}, "scope", "销售经理"),
        ("U2", {"metric": "sales", "target": "1m", "period": "2026-Q4", "member": "U3"}, "member", "销售经理"),
    ]:
        body = slack.submit(view, values, user=user).json
        assert list(body.get("errors", {})) == [field], (values, body)
        assert fragment in body["errors"][field], (values, body)
    assert slack.counts()["goal"] == 0
    assert slack.submit(view, {"metric": "sales", "target": "120万", "period": "2026-Q4", "scope": "team"},
                        user="U1").body == ""
    assert slack.submit(view, {"metric": "csat", "target": "90%", "deadline": "2026-12-31", "member": "U2"},
                        user="U1").body == ""
    with Session(slack.engine) as session:
        goals = list(session.scalars(select(Goal).order_by(Goal.id)))
    assert [(g.user_id, g.target, g.kind) for g in goals] == [(None, 1_200_000, "quarter"), ("U2", 90, "deadline")]
    # Setting a goal is announced in the team channel (the core's reply is public there).
    posted = told(slack, "chat.postMessage")
    assert [p["channel"] for p in posted] == [CHANNEL, CHANNEL] and "目标 #1" in payload_text(posted[0])


def test_a_form_opened_outside_the_team_channel_asks_for_it_and_answers_in_the_dm(slack):
    setup_team(slack)
    view = open_form(slack, "/task", "U3", channel="DU3")
    fields = inputs(view)
    assert list(fields)[-1] == "channel"
    assert fields["channel"]["element"]["type"] == "conversations_select"
    assert fields["channel"]["element"]["initial_conversation"] == CHANNEL
    assert slack.submit(view, {"title": "call ACME", "due_date": "2026-12-01"}, user="U3").body == ""
    [task] = tasks(slack)
    assert task.assignee == "U3" and task.team_id == 1
    assert told(slack) == []
    [dm] = told(slack, "chat.postMessage")
    assert dm["channel"] == "U3" and "Task #1 for <@U3>: *call ACME*" in payload_text(dm)


def test_someone_in_two_teams_picks_the_team_by_its_channel(slack):
    setup_team(slack)
    assert "华南组" in slack.slash("/team", "setup 华南组", user="U1", channel="C2").text
    slack.slash("/team", "add <@U3|amy> rep", user="U1", channel="C2")
    view = open_form(slack, "/task", "U3", channel="DU3")
    channel = inputs(view)["channel"]
    assert not channel["optional"] and "initial_conversation" not in channel["element"]
    # No channel picked (a client that skips Slack's check): the refusal lands on the picker.
    body = slack.submit(view, {"title": "x", "due_date": "2026-12-01"}, user="U3").json
    assert list(body["errors"]) == ["channel"] and "no team" in body["errors"]["channel"]
    assert slack.submit(view, {"title": "call ACME", "due_date": "2026-12-01", "channel": "C2"},
                        user="U3").body == ""
    [task] = tasks(slack)
    assert task.team_id == 2


def test_a_retried_submission_writes_once(slack_db):
    slack = slack_db
    setup_team(slack)
    view = open_form(slack, "/task", "U1")
    values = {"assignee": "U2", "title": "回访", "due_date": "2026-12-01"}
    assert slack.submit(view, values, user="U1", view_id="V-same").body == ""
    assert slack.submit(view, values, user="U1", view_id="V-same", retry_num=1).body == ""
    assert len(tasks(slack)) == 1
    with Session(slack.engine) as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1
    # The same view submitted again with other values is another command.
    assert slack.submit(view, {**values, "title": "再回访"}, user="U1", view_id="V-same").body == ""
    assert [t.title for t in tasks(slack)] == ["回访", "再回访"]


def test_no_team_no_form_and_a_failed_views_open_shows_the_usage_card(slack):
    setup_team(slack)
    slack.fake.set_user("U9", locale="en-US")
    answer = slack.slash("/task", "", user="U9", channel="C-other")
    assert answer.ephemeral and "no team yet" in answer.text and slack.fake.calls("views.open") == []
    slack.fake.error("views.open", "expired_trigger_id")
    answer = slack.slash("/progress", "", user="U3")
    assert answer.ephemeral and "Say what you did" in answer.text and "/progress signed ACME" in answer.text
    assert "Metric" in answer.text and "(optional)" in answer.text


# -- the message shortcut ---------------------------------------------------------------------------

def test_create_task_from_message(slack):
    setup_team(slack)
    text = "<@U2|li> ACME 要一份报价 &amp; 合同草稿\n请周五前发给 <@U4> 和 <#C7|legal>"
    answer = slack.shortcut(text, user="U1", channel=CHANNEL, message_ts="1764122400.000200")
    assert answer.status == 200
    [link] = slack.fake.calls("chat.getPermalink")
    assert (link.params["channel"], link.params["message_ts"]) == (CHANNEL, "1764122400.000200")
    [view] = slack.views()
    fields = inputs(view)
    title = fields["title"]["element"]["initial_value"]
    note = fields["note"]["element"]["initial_value"]
    assert title == "li ACME 要一份报价 & 合同草稿"  # mentions become names: the owner is picked above
    assert "请周五前发给 zhao 和 #legal" in note
    assert note.endswith("https://teambot-test.slack.com/archives/C1/p1764122400000200")
    assert "<@" not in title + note and "@" not in title
    assert slack.submit(view, {"assignee": "U2", "due_date": "2026-11-27"}, user="U1").body == ""
    [task] = tasks(slack)
    # A note reads as typed: its line breaks are spaces, as in any typed command.
    assert task.assignee == "U2" and task.title == title and task.note == " ".join(note.split())


def test_the_shortcut_on_a_very_long_message_fits_the_form(slack):
    setup_team(slack)
    slack.shortcut("长" * 5000, user="U1")
    [view] = slack.views()
    fields = inputs(view)
    assert len(fields["title"]["element"]["initial_value"]) <= MAX_TITLE
    note = fields["note"]["element"]["initial_value"]
    assert len(note) <= MAX_NOTE and note.endswith("p1764122400000200")
    assert slack.submit(view, {"due_date": "2026-11-27"}, user="U1").body == ""
    assert len(tasks(slack)) == 1


def test_the_shortcut_outside_any_team_says_so_privately(slack):
    slack.fake.set_user("U9", locale="en-US")
    slack.shortcut("hello", user="U9", channel="C-other", response_url=slack.fake.response_url("sc"))
    [resp] = slack.fake.responses("sc")
    assert resp.params["response_type"] == "ephemeral" and "no team yet" in payload_text(resp.params)
    assert slack.fake.calls("views.open") == []


def test_the_manifest_declares_the_shortcut_and_interactivity():
    for m in (manifest("socket"), manifest("http", "https://bot.example.com")):
        [sc] = m["features"]["shortcuts"]
        assert sc["type"] == "message" and sc["callback_id"] == "create_task_from_message"
        assert len(sc["name"]) <= 24 and sc["description"]
        assert m["settings"]["interactivity"]["is_enabled"] is True
        assert m["features"]["app_home"]["home_tab_enabled"] is True
    http = manifest("http", "https://bot.example.com/slack/events")
    assert http["oauth_config"]["redirect_urls"] == ["https://bot.example.com/slack/oauth_redirect"]
    assert "redirect_urls" not in manifest("socket")["oauth_config"]


# -- forms opened by buttons --------------------------------------------------------------------------

def test_a_button_running_a_bare_command_opens_its_form(slack):
    setup_team(slack)
    slack.click("/task", user="U2", channel=None, response_url=None, trigger_id="trig-home-new",
                action_id="tb:home.new_task:0", container={"type": "view", "view_id": "VH"})
    [call] = slack.fake.calls("views.open")
    assert call.params["trigger_id"] == "trig-home-new" and call.json("view")["callback_id"] == "tb:form:task"
    assert slack.fake.calls("chat.postMessage") == []
    # The Home tab is re-published after the click.
    assert slack.fake.calls("views.publish")


def test_reject_on_the_home_tab_asks_for_the_reason_in_a_form(slack):
    setup_team(slack)
    slack.slash("/resource", "申请 人力 2 用于 华南展会", user="U2")
    home_click = {"channel": None, "response_url": None, "container": {"type": "view", "view_id": "VH"},
                  "action_id": "tb:resource.reject:1", "label": "驳回"}
    slack.click("/resource reject 1 ", user="U1", trigger_id="trig-reject", **home_click)
    [call] = slack.fake.calls("views.open")
    view = call.json("view")
    assert view["title"]["text"] == "驳回" and list(inputs(view)) == ["text"]
    assert "驳回需要写明理由" in inputs(view)["text"]["label"]["text"]
    assert json.loads(view["private_metadata"])["s"] == "/resource reject 1"
    body = slack.submit(view, {"text": ""}, user="U1").json
    assert list(body["errors"]) == ["text"]
    assert slack.submit(view, {"text": "本季度预算已用完"}, user="U1").body == ""
    with Session(slack.engine) as session:
        assert session.get(ResourceRequest, 1).state == "rejected"
    [dm] = told(slack, "chat.postMessage")  # opened from the Home tab: answered in the DM
    assert dm["channel"] == "U1" and "本季度预算已用完" in payload_text(dm)


def test_reject_in_a_message_asks_for_the_reason_in_a_form(slack):
    setup_team(slack)
    slack.slash("/resource", "申请 人力 2 用于 华南展会", user="U2")
    body = action_body("/resource reject 1 ", "tb:resource.reject:1", "U1", "DU1",
                       response_url=slack.fake.response_url("msg"), trigger_id="trig-msg")
    assert slack.post(body).status == 200
    [call] = slack.fake.calls("views.open")
    view = call.json("view")
    assert "驳回需要写明理由" in inputs(view)["text"]["label"]["text"]
    with Session(slack.engine) as session:
        assert session.get(ResourceRequest, 1).state == "submitted"  # nothing happens until the reason comes
    assert slack.submit(view, {"text": "预算不足"}, user="U1").body == ""
    with Session(slack.engine) as session:
        assert session.get(ResourceRequest, 1).state == "rejected"


# -- the neutral side ---------------------------------------------------------------------------------

def test_compose_is_the_typed_command():
    assert forms.compose("task", {"assignee": "U2", "title": "a\nb", "due_date": "2026-12-04",
                                  "due_time": "", "note": "x"}) == "/task add <@U2> a b due 2026-12-04 note x"
    assert forms.compose("task", {"title": "t", "due_date": "2026-12-04"}) == "/task add t due 2026-12-04"
    assert forms.compose("progress", {"kind": "progress", "note": "n", "metric": "sales", "amount": "1,200 万"}) \
        == "/progress n sales=1,200万"
    assert forms.compose("progress", {"kind": "blocker", "note": "stuck"}) == "/progress blocker: stuck"
    assert forms.compose("resource", {"type": "budget", "amount": "5万", "purpose": "展位", "needed_by": ""}) \
        == "/resource request budget 5万 for 展位"
    assert forms.compose("goal", {"metric": "sales", "target": "+20%", "period": "2026-Q4", "scope": "team"}) \
        == "/goal set sales +20% 2026-Q4 for team"
    assert forms.compose("goal", {"metric": "csat", "target": "90%", "deadline": "2026-12-31", "scope": "me",
                                  "member": "U2"}) == "/goal set csat 90% by 2026-12-31 for <@U2>"
    assert forms.compose("prompt", {"text": "理由"}, "/resource reject 7") == "/resource reject 7 理由"
    with pytest.raises(forms.FieldError) as e:
        forms.compose("nope", {})
    assert e.value.key == "forms.unknown_form"


def test_field_for_error_falls_back_to_the_first_field():
    fields = ["assignee", "title", "due_date"]
    assert forms.field_for_error("task", "parse.bad_date", fields) == "due_date"
    assert forms.field_for_error("task", "core.internal_error", fields) == "assignee"
    assert forms.field_for_error("task", "", fields) == "assignee"
    assert forms.field_for_error("goal", "goals.not_smart", ["metric", "target"]) == "metric"
    assert forms.field_for_error("progress", "progress.unknown_metric", ["note", "metric"]) == "metric"
    assert forms.field_for_error("resource", "parse.bad_amount", ["type", "amount"]) == "amount"


def test_the_form_survives_a_round_trip_through_the_outbox_format(slack):
    from commands.core.reply import reply_from_dict, reply_to_dict
    setup_team(slack)
    reply = slack.dispatcher.handle(_inv("U1", "task"))
    again = reply_from_dict(json.loads(json.dumps(reply_to_dict(reply), ensure_ascii=False)))
    assert again == reply and isinstance(again, Reply)
    # Platforms without forms read the usage card: the field list and one example.
    assert again.plain().startswith("⚠️") and "正确示例" in again.plain() and "截止日期" in again.plain()


def _inv(user: str, command: str, text: str = ""):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commands.core.context import Actor, Invocation
    return Invocation(actor=Actor("slack", user), channel=CHANNEL, command=command, text=text,
                      received_at=datetime(2026, 11, 26, 10, tzinfo=ZoneInfo("Asia/Shanghai")))


def _blocks(params: dict) -> list[dict]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def test_kudos_form(slack):
    """A bare /kudos opens the form; praising oneself is refused on the person field; the praise goes to
    the team channel through the outbox."""
    from storage.models import Kudos

    setup_team(slack)
    view = open_form(slack, "/kudos", "U2")
    fields = inputs(view)
    assert list(fields) == ["receiver", "reason"]
    for values, field, fragment in [
        ({"receiver": "U2", "reason": "我真棒"}, "receiver", "不能表扬自己"),
        ({"receiver": "U9", "reason": "谢谢"}, "receiver", "不在团队"),
        ({"receiver": "U3", "reason": " "}, "reason", ""),
    ]:
        body = slack.submit(view, values, user="U2").json
        assert list(body["errors"]) == [field] and fragment in body["errors"][field], body
    assert slack.counts()["kudos"] == 0
    assert slack.submit(view, {"receiver": "U3", "reason": "拿下ACME\n年框"}, user="U2").body == ""
    with Session(slack.engine) as session:
        [row] = session.scalars(select(Kudos)).all()
        posts = [m for m in session.scalars(select(OutboxMessage)) if m.destination == f"channel:{CHANNEL}"]
    assert (row.giver, row.receiver, row.reason) == ("U2", "U3", "拿下ACME 年框")
    assert len(posts) == 1 and "<@U2> 表扬了 <@U3>：拿下ACME 年框" in posts[0].payload
    assert "已在团队频道公开表扬 <@U3>" in payload_text(told(slack)[-1])


def test_the_honour_confirm_button_is_the_managers(slack):
    setup_team(slack)
    value = "/honor <@U2> 月度销冠 2026-10"
    slack.click(value, user="U3", response_token="rep")
    refused = json.loads(slack.fake.responses("rep")[-1].raw)["text"]
    assert slack.counts()["honour"] == 0 and "Only the sales manager" in refused
    slack.click(value, user="U1", response_token="mgr")
    confirmed = json.loads(slack.fake.responses("mgr")[-1].raw)["text"]
    assert slack.counts()["honour"] == 1 and "「月度销冠」" in confirmed
