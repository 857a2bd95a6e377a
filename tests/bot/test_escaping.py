"""User text is data on every renderer: the same hostile strings through Slack, DingTalk, WeCom and
the console, one by one and end to end. Only the bot's own mentions of people may notify anyone."""
from __future__ import annotations

import json
import re

import pytest

from bot.console.render import text as console_text
from bot.dingtalk import render as dingtalk
from bot.slack.render import message_payload
from bot.wecom import render as wecom
from commands.core.reply import Actions, Button, Fields, Reply, Table, Text
from tests.kit.chat import Chat

HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0ALL>", "<!subteam^S0ALL|@sales>",
           "<http://evil.example|click me>", "<@all>", "<@@all>", "@all", "@所有人",
           "[click me](http://evil.example)", "\x1b[2J\x1b]0;pwned\x07"]
#: The bot's own mention of the person it means (an assignee), next to each hostile string.
ASSIGNEE = "<@U123|li>"


def hostile_reply(s: str) -> Reply:
    """A reply carrying `s` everywhere user text can sit: a paragraph (a goal's reason), a field (a
    resource's purpose), a table cell (a blocker on an agenda), a button label (a team name)."""
    return Reply(parts=(Text(f"✏️ {ASSIGNEE} 调整了目标，原因：{s}"), Fields((("用途", s),)),
                        Table(("问题", "成员"), ((s, ASSIGNEE),)),
                        Actions((Button(s[:30] or "x", "go", "/task done 1", "/task done 1"),))),
                 private=False, summary=f"原因：{s}")


def _live_slack_tokens(payload: dict) -> set[str]:
    """Every `<...>` Slack would obey in a payload (text and every text object of its blocks)."""
    import re
    raw = json.dumps(payload, ensure_ascii=False)
    return set(re.findall(r"<[^<>]*>", raw))


@pytest.mark.parametrize("s", HOSTILE)
def test_slack_obeys_only_the_bots_mentions_of_people(s):
    payload = message_payload(hostile_reply(s))
    assert _live_slack_tokens(payload) == {ASSIGNEE}, payload
    for word in ("@channel", "@here", "@everyone"):
        assert word not in json.dumps(payload, ensure_ascii=False)
    if s.startswith("<http"):
        assert "click me (http://evil.example)" in payload["blocks"][0]["text"]["text"]


@pytest.mark.parametrize("s", HOSTILE)
def test_dingtalk_never_ats_everyone_and_shows_no_disguised_link(s):
    for group in (True, False):
        message = dingtalk.render(hostile_reply(s), at_user="U9", group=group)
        at = message.get("at") or {}
        assert at.get("isAtAll") in (None, False)
        assert set(at.get("atUserIds") or []) <= {"U9", "U123"}
        raw = json.dumps(message, ensure_ascii=False)
        assert '"isAtAll": true' not in raw and "](http" not in raw


@pytest.mark.parametrize("s", HOSTILE)
def test_wecom_never_mentions_all_and_shows_no_disguised_link(s):
    robot = wecom.render_robot(hostile_reply(s))
    app = wecom.render_app(hostile_reply(s), task_id="t1")
    for message in (robot, app, wecom.render_markdown(hostile_reply(s))):
        assert "mentioned_list" not in json.dumps(message) and "mentioned_mobile_list" not in json.dumps(message)
        if message["msgtype"] == "markdown":  # a card shows its text as it is: nothing in it is obeyed
            content = message["markdown"]["content"]
            assert "<@all>" not in content and "<@@all>" not in content and "](http" not in content
    assert "<@U123>" in robot["markdown"]["content"]  # the bot's own mention stays live in robot posts


@pytest.mark.parametrize("s", HOSTILE)
def test_the_console_obeys_no_control_characters(s):
    out = console_text(hostile_reply(s))
    assert "\x1b" not in out and "\x07" not in out and "@li" in out


def test_a_broadcast_in_a_goals_reason_posts_no_live_broadcast_over_signed_slack_http(slack):
    for user in ("UMGR", "UREP"):
        slack.fake.set_user(user, locale="zh-CN")
    assert slack.slash("/team", "setup 华东一组", user="UMGR", channel="CSALES").status == 200
    slack.slash("/team", "add <@UREP|li> rep", user="UMGR", channel="CSALES")
    slack.slash("/goal", "set sales 1m 2026-Q4 for team", user="UMGR", channel="CSALES")
    slack.slash("/goal", "set customers 5 2026-Q4 for team", user="UMGR", channel="CSALES")
    answer = slack.slash("/goal", "adjust 2 6 because <!channel> <!here> <!subteam^S0ALL> look",
                         user="UMGR", channel="CSALES")
    assert answer.status == 200 and answer.response_type == "in_channel"
    assert "目标 #2" in answer.text and "look" in answer.text
    team = slack.slash("/team", "setup <!here> ping <!everyone>", user="UREP", channel="COTHER")
    for body in [a.body for a in slack.http_answers] + [c.raw.decode("utf-8", "replace") for c in slack.fake.calls()]:
        assert "<!" not in body and "\\u003c!" not in body, body
    assert team.status == 200


@pytest.mark.parametrize("platform", ["slack", "dingtalk", "wecom", "console"])
def test_hostile_text_stored_in_blockers_and_purposes_reaches_agendas_and_dms_inert(platform, sqlite_url, clock):
    """End to end: what a rep types is stored, then shown to others (the agenda in the channel, the
    manager's approval DM) on every platform, and never broadcasts there."""
    with Chat(platform, sqlite_url, clock) as chat:
        chat.say("wang", "/team setup 华东一组")
        chat.say("wang", "/team add @li rep")
        chat.say("li", "/progress 阻塞: 法务 @all @所有人 [click me](http://evil.example) 拖延")
        request = chat.say("li", "/resource request budget 5000 for 展会 @all [click me](http://evil.example)")
        if platform != "wecom":  # WeCom's XML cannot carry control characters
            chat.say("li", "/progress 拜访 \x1b[2J\x1b]0;pwned\x07客户")
        agenda = chat.say("wang", "/agenda")
        assert "法务" in agenda.text and "拖延" in agenda.text
        assert any("展会" in m for m in request.dms["wang"])
        _assert_nothing_broadcast(chat)


def _assert_nothing_broadcast(chat: Chat) -> None:
    """Every message the platform was asked to deliver, as sent: no broadcast, no hidden link."""
    driver = chat.driver
    if chat.platform == "slack":
        raws = [c.raw.decode("utf-8", "replace") for c in driver.fake.calls()]
        raws += [a.body for a in driver.harness.http_answers]
        assert not any("<!" in r or "\\u003c!" in r for r in raws)
    elif chat.platform == "dingtalk":
        for c in driver.fake.calls():
            raw = json.dumps(c.json, ensure_ascii=False)
            assert '"isAtAll": true' not in raw and "](http" not in raw and '"all"' not in raw
    elif chat.platform == "wecom":
        for c in driver.fake.calls():
            raw = json.dumps(c.json, ensure_ascii=False)
            assert "<@all>" not in raw and "](http" not in raw and "mentioned_list" not in raw
    else:
        assert not any("\x1b" in line or "\x07" in line for line in driver.out.printed)


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_tags_a_person_types_stay_text_on_dingtalk_and_wecom(platform, sqlite_url, clock):
    """`<@all>` typed by a person is WeCom's mention of everyone, and `<font color=red>` recolours a
    reply on both platforms: what a rep types reaches the channel and the manager's DM as the
    characters typed, not as markup (the bot's own mentions stay live)."""
    typed = "<@all> <@@all> <font color=red>紧急</font> 看这里"
    with Chat(platform, sqlite_url, clock) as chat:
        chat.say("wang", "/team setup 华东一组")
        chat.say("wang", "/team add @li rep")
        chat.say("wang", "/goal set customers 5 2026-Q4 for team")
        adjusted = chat.say("wang", f"/goal adjust 1 6 because {typed}")
        chat.say("li", f"/progress blocker: {typed}")
        request = chat.say("li", f"/resource request budget 5000 for 展会 {typed}")
        assert adjusted.ok and "看这里" in adjusted.text and any("展会" in m for m in request.dms["wang"])
        sent = [json.dumps(_shown(c.json), ensure_ascii=False) for c in chat.driver.fake.calls()]
        assert sent and not [raw for raw in sent if "<@all>" in raw or "<font" in raw or "<@@all>" in raw]


def _shown(message):
    """A message without its `title`s: DingTalk shows a title as plain text in the notification."""
    if isinstance(message, str) and message.startswith("{"):
        return _shown(json.loads(message))  # DingTalk's OpenAPI msgParam: a JSON string
    if isinstance(message, dict):
        return {k: _shown(v) for k, v in message.items() if k != "title"}
    if isinstance(message, list):
        return [_shown(v) for v in message]
    return message


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_a_heading_or_quote_typed_on_a_new_line_stays_text_on_dingtalk_and_wecom(platform, sqlite_url, clock):
    """A rep's blocker with a line `# 公司通知：停止工作` must not become a heading in the channel's
    agenda (nor `> 来自CEO` a quote): the line keeps its characters, not their markdown meaning."""
    with Chat(platform, sqlite_url, clock) as chat:
        chat.say("wang", "/team setup 华东一组")
        chat.say("wang", "/team add @li rep")
        assert chat.say("li", "/progress 阻塞: 法务\n# 公司通知：停止工作\n> 来自CEO").ok
        chat.say("li", "/resource request budget 5000 for 展会\n## 大标题")
        agenda = chat.say("wang", "/agenda")
        assert "公司通知" in agenda.text
        shown = [t for c in chat.driver.fake.calls() for t in _markdown_texts(_shown(c.json))]
        assert any("公司通知" in t for t in shown)
        assert not [t for t in shown if re.search(r"(?m)^[ \t]*(?:#+ .*(?:公司通知|大标题)|> 来自CEO)", t)], shown


def _markdown_texts(message) -> list[str]:
    """The markdown a platform would render in a message (a WeCom template card shows plain text)."""
    if isinstance(message, dict):
        return [t for k, v in message.items() if k != "template_card"
                for t in ([v] if k in ("text", "content") and isinstance(v, str) else _markdown_texts(v))]
    if isinstance(message, list):
        return [t for v in message for t in _markdown_texts(v)]
    return []


def test_placeholders_in_the_bots_examples_stay_as_written_on_dingtalk_and_wecom():
    """Only markup the platforms obey is defused: `<n>` and `<金额>` in an example are copied as shown."""
    reply = Reply(parts=(Text("活动办完后录入结果：/activity result 1 参与人数=<n> 线索=<n> · 预算=<金额>"),), private=False)
    for content in (dingtalk.render(reply, at_user=None, group=True)["markdown"]["text"],
                    wecom.render_markdown(reply)["markdown"]["content"]):
        assert "参与人数=<n> 线索=<n> · 预算=<金额>" in content and "\u200b" not in content
