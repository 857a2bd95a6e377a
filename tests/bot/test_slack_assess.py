"""Assessments on Slack over signed requests into the real Bolt app: the confirm form (a bare
`/assess confirm` opens a modal whose submission is the typed command), the member's Object button
asking for the reason in a modal, and the manager's Confirm button from the team overview.

People: U1 王伟 manager, U2 li rep, U5 zhou performance admin."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Assessment, OutboxMessage
from tests.kit.block_limits import assert_within_limits, view_problems
from tests.kit.fixtures import payload_text
from tests.kit.slack_signing import action_body

SH = ZoneInfo("Asia/Shanghai")


def _setup(slack, clock):
    for user, name in (("U1", "王伟"), ("U2", "li"), ("U5", "zhou")):
        slack.fake.set_user(user, locale="zh-CN", tz="Asia/Shanghai", display_name=name)
    assert "华东一组" in slack.slash("/team", "setup 华东一组", user="U1").text
    slack.slash("/team", "add <@U2|li> rep", user="U1")
    slack.slash("/team", "add <@U5|zhou> performance_admin", user="U1")
    slack.slash("/goal", "set sales 200k 2026-11 for <@U2>", user="U1")
    slack.slash("/progress", "签约 销售额=18万", user="U2")
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=SH))


def _records(slack) -> list[Assessment]:
    with Session(slack.engine) as session:
        return list(session.scalars(select(Assessment).order_by(Assessment.id)))


def _queued(slack, destination: str) -> list[dict]:
    """What the command queued for one person (the outbox; its sender has its own tests)."""
    with Session(slack.engine) as session:
        return [json.loads(m.payload) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.destination == destination]


def test_the_confirm_form_and_the_object_button(slack, clock):
    _setup(slack, clock)
    answer = slack.slash("/assess", "confirm", user="U1", channel="C1", trigger_id="trig-confirm")
    assert answer.status == 200 and answer.body == ""
    [call] = slack.fake.calls("views.open")
    view = call.json("view")
    assert view_problems(view) == [] and view["callback_id"] == "tb:form:assess"
    fields = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(fields) == ["member", "period", "score", "comment"]
    assert fields["member"]["element"]["type"] == "users_select"
    assert fields["period"]["element"]["initial_option"]["value"] == "2026-11"
    # A score out of range comes back on its field; nothing is stored.
    body = slack.submit(view, {"member": "U2", "period": "2026-11", "score": "500", "comment": ""}, user="U1").json
    assert list(body["errors"]) == ["score"] and _records(slack) == []
    assert slack.submit(view, {"member": "U2", "period": "2026-11", "score": "", "comment": "稳定"},
                        user="U1").body == ""
    [record] = _records(slack)
    assert (record.user_id, record.period, record.computed, record.band, record.comment) == ("U2", "2026-11", 90.0,
                                                                                             "A", "稳定")
    [dm] = _queued(slack, "user:U2")
    assert "确认了你在“华东一组”2026年11月的考核：90 分" in dm["summary"]
    buttons = [b for p in dm["parts"] if p["type"] == "Actions" for b in p["buttons"]]
    assert [b["command"] for b in buttons] == ["/assess ack 2026-11", "/assess object 2026-11 "]

    # li clicks Object in the DM: a modal asks for the reason; the objection reaches the manager.
    click = action_body("/assess object 2026-11 ", "tb:assess.object:1", "U2", "DU2",
                        response_url=slack.fake.response_url("dm"), trigger_id="trig-object")
    assert slack.post(click).status == 200
    prompt = slack.fake.calls("views.open")[-1].json("view")
    assert "请写明异议的理由" in prompt["blocks"][0]["label"]["text"]
    assert _records(slack)[0].status == "confirmed"
    assert slack.submit(prompt, {"text": "回款在12月1日到账"}, user="U2").body == ""
    assert (_records(slack)[0].status, _records(slack)[0].response) == ("objected", "回款在12月1日到账")
    [to_manager] = _queued(slack, "user:U1")
    assert "回款在12月1日到账" in to_manager["summary"]
    assert_within_limits(slack.fake, slack.http_answers)


def test_the_confirm_button_is_checked_as_the_clicking_user(slack, clock):
    _setup(slack, clock)
    overview = slack.slash("/assess", "上月", user="U1", channel="C1")
    assert "待确认" in overview.text and "/assess confirm 2026-11 <@U2>" in json.dumps(overview.json)
    # The performance admin clicking the manager's monthly button is refused with the seed's reason.
    refused = action_body("/assess confirm 2026-11 <@U2>", "tb:assess.confirm:0", "U5", "C1",
                          response_url=slack.fake.response_url("r1"), trigger_id="trig-1")
    assert slack.post(refused).status == 200 and _records(slack) == []
    said = " ".join(payload_text(c.params) for c in slack.fake.responses("r1"))
    assert "月度考核由销售经理确认" in said
    # A member with no targets: Confirm asks for the score in a prompt, and the answer completes the command.
    slack.slash("/team", "add <@U3|amy> rep", user="U1")
    click = action_body("/assess confirm 2026-11 <@U3>", "tb:assess.confirm:1", "U1", "C1",
                        response_url=slack.fake.response_url("r3"), trigger_id="trig-3")
    assert slack.post(click).status == 200 and _records(slack) == []
    prompt = slack.fake.calls("views.open")[-1].json("view")
    assert "score=80" in prompt["blocks"][0]["label"]["text"]
    assert slack.submit(prompt, {"text": "score=75 新人第一个月"}, user="U1").body == ""
    [amy] = _records(slack)
    assert (amy.user_id, amy.override, amy.band, amy.comment) == ("U3", 75.0, "B", "新人第一个月")
    allowed = action_body("/assess confirm 2026-11 <@U2>", "tb:assess.confirm:0", "U1", "C1",
                          response_url=slack.fake.response_url("r2"), trigger_id="trig-2")
    assert slack.post(allowed).status == 200
    record = _records(slack)[-1]
    assert (record.user_id, record.confirmed_by, record.status) == ("U2", "U1", "confirmed")
