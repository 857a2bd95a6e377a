"""Block Kit within Slack's limits (issue 6): 50 blocks a message, 100 a view, 3000 characters a
text, 10 fields a section, 25 buttons an actions block, 75-character labels, 2000-character values.
Long lists page with a More button instead of failing: a team with 200 open tasks gets `/task list`
and its Home tab within the limits, and following More reaches every task exactly once.
Every payload captured is checked by tests/kit/block_limits.py, whose own checks are tested last."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.slack.render import blocks, message_payload
from commands import tasks
from commands.core.reply import Actions, Button, Fields, Reply, Table, Text
from storage.models import ProgressEntry, Task
from tests.kit.block_limits import (
    MESSAGE_BLOCKS,
    VIEW_BLOCKS,
    assert_within_limits,
    blocks_problems,
    message_problems,
    view_problems,
)
from tests.kit.dialog import Chat
from tests.kit.fixtures import SlackHarness, payload_text

N = 200


@pytest.fixture
def slack(slack):
    yield slack
    assert assert_within_limits(slack.fake, slack.http_answers) > 0


@pytest.fixture
def slack_db(fake_slack, db_url, clock):
    h = SlackHarness(fake_slack, db_url, clock)
    yield h
    assert assert_within_limits(h.fake, h.http_answers) > 0
    h.close()


def team_with_open_tasks(slack: SlackHarness, n: int = N) -> None:
    """U1 manages 华东一组 (C1); U2 has `n` open tasks, due one a day from tomorrow."""
    slack.fake.set_user("U1", locale="zh-CN", tz="Asia/Shanghai")
    slack.fake.set_user("U2", locale="en-US", tz="Asia/Shanghai")
    slack.slash("/team", "setup 华东一组", user="U1")
    slack.slash("/team", "add <@U2|li> rep", user="U1")
    slack.slash("/teambot", "lang en", user="U2")
    now = slack.clock.now()
    with Session(slack.engine) as session:
        for i in range(n):
            session.add(Task(team_id=1, assignee="U2", created_by="U1", title=f"任务 {i + 1:03d} " + "跟进客户" * 10,
                       note="", due_at=now + timedelta(days=i + 1), status="open", created_at=now, updated_at=now))
        session.commit()


def ids_in(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"#(\d+)\b", text)]


def more_button(payload: dict) -> dict | None:
    found = [e for b in payload.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]
             if e["text"]["text"].startswith(("More", "更多"))]
    return found[0] if found else None


def test_task_list_of_200_pages_with_a_more_button_to_the_end(slack_db):
    slack = slack_db
    team_with_open_tasks(slack)
    answer = slack.slash("/task", "list", user="U2")
    payload = answer.json
    assert len(payload["blocks"]) <= MESSAGE_BLOCKS and message_problems(payload) == []
    assert "*Open tasks* assigned to you (200)" in answer.text
    seen = ids_in(answer.text.split("· times in")[-1])
    pages = 1
    more = more_button(payload)
    while more is not None:
        assert more["value"] == f"/task list mine page {pages + 1}"
        token = f"page{pages + 1}"
        assert slack.click(more["value"], user="U2", action_id=more["action_id"], response_token=token).status == 200
        [resp] = slack.fake.responses(token)
        payload = resp.params
        assert len(payload["blocks"]) <= MESSAGE_BLOCKS
        seen += ids_in(payload_text(payload).split("· times in")[-1])
        pages += 1
        more = more_button(payload)
    assert pages == -(-N // tasks.LIST_LIMIT)
    assert sorted(seen) == list(range(1, N + 1)) and len(seen) == N
    assert "more not shown" not in payload_text(payload)  # the last page says nothing is left


def test_the_team_list_and_someones_list_page_too(slack):
    team_with_open_tasks(slack)
    payload = slack.slash("/task", "list team", user="U1").json
    assert more_button(payload)["value"] == "/task list team page 2"
    payload = slack.slash("/task", "列表 <@U2|li>", user="U1").json
    assert more_button(payload)["value"] == "/task list <@U2> page 2"
    last = slack.slash("/task", "list <@U2> page 7", user="U1")
    assert more_button(last.json) is None and "#200" in last.text
    beyond = slack.slash("/task", "list team page 8", user="U1")
    assert beyond.ephemeral and "没有第 8 页" in beyond.text and "共 7 页" in beyond.text
    bad = slack.slash("/task", "list page 0", user="U1")
    assert "不是有效的页码" in bad.text


def test_the_home_tab_with_200_tasks_pages_through_them_all(slack_db):
    slack = slack_db
    team_with_open_tasks(slack)
    assert slack.home("U2").status == 200
    view = slack.fake.calls("views.publish")[-1].json("view")
    assert len(view["blocks"]) <= VIEW_BLOCKS and view_problems(view) == []
    text = payload_text(view)
    assert "*My open tasks* (200) · page 1/20" in text
    seen = [i for i in ids_in(text)]
    page = 1
    while True:
        more = more_button(view)
        if more is None:
            break
        assert more["action_id"].startswith("tb:home.tasks:") and more["value"] == str(page + 1)
        n = len(slack.fake.calls("views.publish"))
        assert slack.click(more["value"], user="U2", channel=None, response_url=None, action_id=more["action_id"],
                           container={"type": "view", "view_id": "VH"}).status == 200
        assert len(slack.fake.calls("views.publish")) == n + 1
        view = slack.fake.calls("views.publish")[-1].json("view")
        page += 1
        assert len(view["blocks"]) <= VIEW_BLOCKS
        assert f"page {page}/20" in payload_text(view)
        assert any(e["text"]["text"] == "⏮ First page" for b in view["blocks"] if b["type"] == "actions"
                   for e in b["elements"])
        seen += ids_in(payload_text(view))
    assert page == 20 and sorted(seen) == list(range(1, N + 1))
    # Paging never sent a message or ran a command.
    assert slack.fake.calls("chat.postMessage") == [] and slack.fake.responses() == []


def test_progress_list_pages_with_a_more_button(slack):
    slack.fake.set_user("U1", locale="zh-CN", tz="Asia/Shanghai")
    slack.slash("/team", "setup 华东一组", user="U1")
    now = slack.clock.now()
    with Session(slack.engine) as session:
        for i in range(65):
            session.add(ProgressEntry(team_id=1, user_id="U1", note=f"拜访客户{i:02d}", is_blocker=False,
                                created_at=now - timedelta(minutes=i)))
        session.commit()
    payload = slack.slash("/progress", "list", user="U1").json
    assert len(payload["blocks"]) <= MESSAGE_BLOCKS
    more = more_button(payload)
    assert more["value"] == "/progress list 2026-W48 page 2"
    seen = re.findall(r"拜访客户(\d\d)", payload_text(payload))
    for page in (2, 3):
        slack.click(more["value"], user="U1", action_id=more["action_id"], response_token=f"p{page}")
        [resp] = slack.fake.responses(f"p{page}")
        seen += re.findall(r"拜访客户(\d\d)", payload_text(resp.params))
        more = more_button(resp.params)
    assert more is None and sorted(seen) == [f"{i:02d}" for i in range(65)]


# -- the renderer ----------------------------------------------------------------------------------

def test_a_huge_reply_keeps_its_more_button_when_cut():
    rows = tuple((f"#{i}", "客户" * 40, "<@U2>", "12-01 18:00", "open") for i in range(4000))
    reply = Reply(parts=(Text("*Open tasks*"), Table(("#", "Task", "Owner", "Due", "Status"), rows),
                         Actions((Button("More", "task.more", "2", command="/task list team page 2"),))))
    out = blocks(reply, "en")
    assert len(out) == MESSAGE_BLOCKS and blocks_problems(out, MESSAGE_BLOCKS, surface="message") == []
    assert out[-1]["type"] == "actions" and out[-1]["elements"][0]["value"] == "/task list team page 2"
    assert out[-2]["type"] == "context" and "more not shown" in out[-2]["elements"][0]["text"]
    home = blocks(reply, "en", max_blocks=97)
    assert len(home) == 97 and home[-1]["type"] == "actions"


def test_everything_oversized_is_cut_to_fit():
    reply = Reply(parts=(
        Text("长" * 10_000),
        Fields(tuple((f"标签{i}" * 50, "值" * 3000) for i in range(25))),
        Actions(tuple(Button("按钮" * 60, f"act{i}", "v", command="/task done " + "9" * 3000) for i in range(60))),
        Table(("a",), tuple(("x" * 5000,) for _ in range(3))),
    ), summary="s" * 50_000)
    payload = message_payload(reply, "zh")
    assert message_problems(payload) == []
    fields = [b for b in payload["blocks"] if "fields" in b]
    assert len(fields) == 3 and all(len(b["fields"]) <= 10 for b in fields)
    assert sum(len(b["elements"]) for b in payload["blocks"] if b["type"] == "actions") == 60


# -- the validator itself ----------------------------------------------------------------------------

def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize("payload, fragment", [
    ({"blocks": [_section("x")] * 51}, "51 blocks"),
    ({"blocks": [_section("x" * 3001)]}, "3001 characters"),
    ({"blocks": [_section("")]}, "empty text"),
    ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}]}, "11 fields"),
    ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}]}, "2001"),
    ({"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": f"a{i}", "text": {"type": "plain_text", "text": "b"}} for i in range(26)]}]},
     "26 elements"),
    ({"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}]}]}, "76"),
    ({"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "value": "v" * 2001, "text": {"type": "plain_text", "text": "b"}}]}]},
     "button value"),
    ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}, "151"),
    ({"blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]}, "11 elements"),
    ({"blocks": [{"type": "input", "label": {"type": "plain_text", "text": "l"},
                  "element": {"type": "plain_text_input"}}]}, "input blocks belong in modals"),
    ({"blocks": [_section("x"), {**_section("y"), "block_id": "b"}, {**_section("z"), "block_id": "b"}]},
     "twice"),
])
def test_the_validator_catches_each_limit(payload, fragment):
    problems = message_problems(payload)
    assert any(fragment in p for p in problems), problems


def test_the_validator_checks_views_and_inline_errors():
    from tests.kit.block_limits import errors_problems
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25},
             "blocks": [{"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "T"},
                         "element": {"type": "static_select", "action_id": "v",
                                     "options": [{"text": {"type": "plain_text", "text": "o"}, "value": "1"}] * 101,
                                     "initial_option": {"text": {"type": "plain_text", "text": "p"}, "value": "9"}}}],
             "private_metadata": "m" * 3001}
    problems = "\n".join(view_problems(modal))
    for fragment in ("25 characters", "101 options", "initial_option", "private_metadata", "submit button"):
        assert fragment in problems
    assert view_problems({"type": "home", "blocks": [_section("x")] * 101})
    assert errors_problems({"response_action": "errors", "errors": {"nope": "x"}}, modal)
    assert errors_problems({"response_action": "errors", "errors": {"title": "x"}}, modal) == []


# -- the same pages on the console -------------------------------------------------------------------

def test_page_keyword_on_the_console(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东一组")
    chat.say("wang", "/team add @li rep")
    for i in range(35):
        assert chat.say("wang", f"/task add @li 任务{i:02d} 截止 {i + 1}天后").ok
    first = chat.say("li", "/task list")
    assert "任务00" in first.plain() and "任务30" not in first.plain()
    assert "[更多（还有 5 项）] (/task list mine page 2)" in first.plain()
    second = chat.say("li", "/task 列表 第2页")
    assert "任务30" in second.plain() and "任务34" in second.plain() and "任务00" not in second.plain()
    assert "更多" not in second.plain()
    assert "任务34" in chat.say("wang", "/task list @li page 2").plain()
    assert "没有第 3 页" in chat.say("li", "/task list page 3").plain()
    assert not chat.say("li", "/task list page 0").ok
