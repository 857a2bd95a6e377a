"""/task end to end in Slack: signed slash commands and signed block_actions clicks into the real Bolt
app (Starlette TestClient), the Web API answered by FakeSlack, on SQLite and PostgreSQL.

The assignment DM is read from the outbox and rendered the way the sender renders it
(bot.slack.render.message_payload), and its buttons are clicked exactly as Slack would post them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.slack.render import message_payload
from commands.core.reply import reply_from_dict
from storage.models import OutboxMessage, Task
from tests.kit.fixtures import SlackHarness, payload_text
from tests.kit.slack_signing import action_body


@pytest.fixture
def slack_db(fake_slack, db_url, clock):
    """The Slack harness on each database (the shared `slack` fixture is SQLite only)."""
    h = SlackHarness(fake_slack, db_url, clock)
    yield h
    h.close()


def _setup(slack: SlackHarness) -> None:
    """U1 manages 华东一组 in C1; U2 (li) and U3 (amy, English) are reps."""
    slack.fake.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", display_name="王伟")
    slack.fake.set_user("U2", locale="zh-CN", tz="Asia/Shanghai", display_name="li")
    slack.fake.set_user("U3", locale="en-US", tz="Asia/Shanghai", display_name="amy")
    assert "华东一组" in slack.slash("/team", "setup 华东一组", user="U1").text
    assert "<@U2>" in slack.slash("/team", "add <@U2|li> rep", user="U1").text
    assert "<@U3>" in slack.slash("/team", "add <@U3|amy> rep", user="U1").text
    assert slack.slash("/teambot", "lang en", user="U3").status == 200


def _task(slack: SlackHarness, task_id: int) -> Task:
    with Session(slack.engine) as session:
        return session.get(Task, task_id)


def _snapshot(slack: SlackHarness) -> list[tuple]:
    with Session(slack.engine) as session:
        return [(x.id, x.assignee, x.status, x.due_at, x.snoozed_until, x.done_at, x.updated_at)
                for x in session.scalars(select(Task).order_by(Task.id))]


def _outbox(slack: SlackHarness) -> list[OutboxMessage]:
    with Session(slack.engine) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _rendered(row: OutboxMessage, lang: str | None = None) -> dict:
    """The DM as the outbox sender posts it to Slack."""
    return message_payload(reply_from_dict(json.loads(row.payload)), lang)


def _buttons(payload: dict) -> dict[str, dict]:
    """Button label -> the Block Kit element."""
    return {e["text"]["text"]: e for b in payload.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]}


def _click(slack: SlackHarness, button: dict, user: str, channel: str, token: str, **kw) -> dict:
    """Click a rendered button; return what the bot posted to the response_url."""
    seen = len(slack.fake.responses())
    r = slack.click(button["value"], user=user, channel=channel, action_id=button["action_id"],
                    response_token=token, label=button["text"]["text"], **kw)
    assert r.status == 200, r.body
    slack.fake.wait_for("response_url", seen + 1)
    [resp] = slack.fake.responses(token)
    return resp.params


def test_assign_by_slash_command_and_the_dm_buttons(slack_db):
    slack = slack_db
    _setup(slack)
    answer = slack.slash("/task", "add <@U2|li> 拜访客户 截止 下周五 备注 带上报价单", user="U1")
    assert answer.status == 200 and answer.ephemeral
    assert "已为 <@U2> 创建任务 #1：*拜访客户*" in answer.text
    assert "2026-12-04 周五 18:00 Asia/Shanghai" in answer.text and "带上报价单" in answer.text

    [dm] = _outbox(slack)
    assert dm.destination == "user:U2" and dm.dedupe_key == "task:1:assigned:1" and dm.status == "pending"
    payload = _rendered(dm)
    assert "<@U1> 在“华东一组”给你布置了任务 #1" in payload_text(payload)
    buttons = _buttons(payload)
    done, snooze = buttons["完成"], buttons["推迟1天"]
    assert done["action_id"] == "tb:task.done:0" and done["value"] == "/task done 1"
    assert done["style"] == "primary"
    assert snooze["action_id"] == "tb:task.snooze:1" and snooze["value"] == "/task snooze 1"

    # The DM forwarded to another rep, who clicks Done: the server re-checks and refuses.
    before_rows, before_tasks = slack.counts(), _snapshot(slack)
    resp = _click(slack, done, user="U3", channel="C1", token="forwarded")
    assert resp["response_type"] == "ephemeral"
    assert "Only the task's owner or the sales manager can mark task #1 done." in payload_text(resp)
    resp = _click(slack, snooze, user="U3", channel="DU3", token="forwarded-snooze")
    assert "can snooze task #1" in payload_text(resp)
    assert slack.counts() == before_rows and _snapshot(slack) == before_tasks

    # The assignee snoozes from the DM, then marks it done.
    resp = _click(slack, snooze, user="U2", channel="DU2", token="snooze")
    assert "任务 #1（拜访客户）的提醒暂停到 2026-11-27 周五 10:00 Asia/Shanghai" in payload_text(resp)
    assert _task(slack, 1).snoozed_until == slack.clock.now() + timedelta(days=1)
    resp = _click(slack, done, user="U2", channel="DU2", token="done")
    assert "任务 #1 已完成：拜访客户" in payload_text(resp)
    task = _task(slack, 1)
    assert task.status == "done" and task.done_at == slack.clock.now()
    # The manager who assigned it hears of it.
    assert [(m.destination, m.dedupe_key) for m in _outbox(slack)][-1] == ("user:U1", "task:1:done:1")


def test_a_retried_click_acts_once(slack_db):
    slack = slack_db
    _setup(slack)
    slack.slash("/task", "add <@U2|li> 回访 截止 明天", user="U1")
    done = _buttons(_rendered(_outbox(slack)[0]))["完成"]
    body = action_body(done["value"], done["action_id"], "U2", "DU2", trigger_id="click-1",
                       response_url=slack.fake.response_url("retry"))
    assert slack.post(body).status == 200
    assert slack.post(body, retry_num=1).status == 200
    assert _task(slack, 1).status == "done"
    assert [m.dedupe_key for m in _outbox(slack)] == ["task:1:assigned:1", "task:1:done:1"]
    texts = [payload_text(r.params) for r in slack.fake.wait_for("response_url", 2)]
    assert all("任务 #1 已完成" in t for t in texts), texts


def test_self_assigned_task_carries_the_buttons_in_the_reply(slack_db):
    slack = slack_db
    _setup(slack)
    answer = slack.slash("/task", "add <@U3|amy> call ACME due tomorrow 3pm", user="U3")
    assert answer.ephemeral and "Task #1 for <@U3>: *call ACME*" in answer.text
    assert "Fri 2026-11-27 15:00 Asia/Shanghai" in answer.text
    assert _outbox(slack) == []
    buttons = _buttons(answer.json)
    assert set(buttons) == {"Done", "Snooze 1 day"}
    resp = _click(slack, buttons["Done"], user="U3", channel="C1", token="own")
    assert "Task #1 done: call ACME" in payload_text(resp)


def test_every_subcommand_as_a_slash_command(slack_db):
    slack = slack_db
    _setup(slack)

    def say(user: str, text: str) -> str:
        answer = slack.slash("/task", text, user=user)
        assert answer.status == 200 and answer.ephemeral, answer.body
        return answer.text

    assert "#1" in say("U1", "新建 <@U2|li> 准备方案 截止 明天 下午3点")
    assert "#2" in say("U2", "add <@U2> 回访ACME by 2026-12-05")
    text = say("U2", "list")
    assert "我的进行中任务" in text and "准备方案" in text and "回访ACME" in text
    assert "2026-12-10 周四 18:00" in say("U1", "due 1 12月10日")
    assert "已转给 <@U3>" in say("U1", "assign 1 <@U3|amy>")
    assert _task(slack, 1).assignee == "U3"
    assert "<@U3>" in say("U1", "list team")
    assert "paused until" in say("U3", "snooze 1")
    assert "Task #1 done" in say("U3", "done 1")
    assert "已重新打开" in say("U1", "reopen 1")
    assert "已取消任务 #1" in say("U1", "cancel 1")
    assert "No open tasks overdue" in say("U3", "list overdue")
    # Refusals and bad input: a private answer with an example, HTTP 200, nothing written.
    before = slack.counts(), _snapshot(slack)
    assert "只有销售经理可以给别人布置任务" in say("U2", "add <@U3|amy> 跟进 截止 明天")
    assert "已经过去了" in say("U2", "add <@U2> 跟进 截止 昨天")
    assert "无法识别日期" in say("U2", "due 2 某天")
    assert "本团队没有编号为 #99 的任务" in say("U2", "done 99")
    assert "只有任务 #1 的创建人或销售经理可以重开它" in say("U2", "reopen 1")
    assert (slack.counts(), _snapshot(slack)) == before


def test_a_task_of_another_workspace_channel_team_is_not_found(slack_db):
    slack = slack_db
    _setup(slack)
    slack.fake.set_user("U9", locale="zh-CN", tz="Asia/Shanghai")
    slack.slash("/team", "setup 华南组", user="U9", channel="C9")
    assert "#1" in slack.slash("/task", "add <@U9> 华南的任务 截止 明天", user="U9", channel="C9").text
    before = _snapshot(slack)
    resp = _click(slack, {"value": "/task done 1", "action_id": "tb:task.done:0",
                          "text": {"text": "完成"}}, user="U1", channel="C1", token="other-team")
    assert "本团队没有编号为 #1 的任务" in payload_text(resp) and "华南" not in payload_text(resp)
    assert _snapshot(slack) == before
