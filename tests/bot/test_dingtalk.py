"""The DingTalk adapter end to end: signed outgoing-robot callbacks into the real HTTP front and the
real dispatcher on SQLite, answered through the message's sessionWebhook on a fake DingTalk (a real
local HTTP server); Stream mode's handler; the outbox sender against that fake, whose robot checks
signatures and answers 130101 when scripted.

Users are staff ids ("wang", "li"); in groups they are @-mentioned by nickname ("@李雷") with the
staff ids in atUsers, the way a DingTalk client sends them.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import warnings
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dingtalk_stream import AckMessage, CallbackMessage, ChatbotMessage

from bot.config import DingTalkSettings, Settings
from bot.dingtalk import render, signing
from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.http import build_asgi
from bot.dingtalk.inbound import DingTalkBot, pair_mentions, parse_message, private_dm_key
from bot.dingtalk.sender import DingTalkSender
from bot.dingtalk.stream import TeambotHandler
from bot.kit.inbound import strip_bot_mention
from bot.kit.robots import Robot, StaticRobots
from commands.core.dispatch import Dispatcher
from commands.core.reply import Actions, Button, Fields, Reply, Table, Text, reply_from_dict, reply_to_dict
from reminders.outbox import DEFAULT_PACE_SECONDS, OutboxConfig, drain
from storage import outbox_store
from storage.db import make_engine
from storage.models import OutboxMessage, ProgressEntry
from storage.uow import uow_factory
from tests.kit.fake_dingtalk import FakeDingTalk, robot_message, sign_value, signed_headers

APP_KEY = "dingappkey"
APP_SECRET = "dingappsecret-test"
NICK = {"wang": "王伟", "li": "李雷", "chen": "陈静", "zhao": "赵强", "amy": "Amy", "bob": "Bob",
        "carol": "Carol", "stranger": "路人"}
_AT_NAME = re.compile(r"@(\w+)")


@dataclass
class Answer:
    status: int
    #: The HTTP answer's body (empty on success: the answer goes through the sessionWebhook).
    http_body: str
    #: What was posted to the message's sessionWebhook (the answer in the conversation), as JSON.
    body: str = ""
    #: A private reply to a group message: the 1:1 message queued in the outbox for the sender,
    #: rendered as DingTalkSender would send it (the group `body` is then only the notice).
    dm: dict | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.body) if self.body.startswith("{") else {}

    @property
    def group_text(self) -> str:
        return render.message_text(self.json)

    @property
    def text(self) -> str:
        """What the sender reads: the 1:1 message when the reply was private in a group."""
        return render.message_text(self.dm) if self.dm is not None else self.group_text


def normalize(s: str) -> str:
    """What a fragment from the console dialogs looks like in DingTalk: mentions `<@li>` -> `@li`,
    and no bold markers (render tests check `**bold**` on their own)."""
    return re.sub(r"<@([^<>|]+)(?:\|[^<>]*)?>", r"@\1", s).replace("*", "")


class DingTalkHarness:
    def __init__(self, fake: FakeDingTalk, db_url: str, clock):
        self.fake = fake
        self.clock = clock
        self.engine = make_engine(db_url)
        self.uow = uow_factory(self.engine)
        self.dispatcher = Dispatcher(self.uow, clock)
        self.settings = Settings(platform="dingtalk", database_url=db_url, dingtalk=DingTalkSettings(
            app_key=APP_KEY, app_secret=APP_SECRET, mode="http", api_url=fake.url))
        self.client = TestClient(build_asgi(self.settings, self.dispatcher, clock), raise_server_exceptions=False)

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def message(self, user: str, text: str, *, group: bool = True, conversation: str = "cidG1",
                msg_id: str | None = None) -> dict:
        """The callback JSON for `text` typed by `user`: `@li` becomes `@李雷` with li in atUsers."""
        at_ids: list[str] = []

        def nick(m: re.Match) -> str:
            uid = m.group(1)
            if uid in NICK and group:
                at_ids.append(uid)
                return "@" + NICK[uid]
            return m.group(0)

        typed = _AT_NAME.sub(nick, text)
        return robot_message(typed, sender=user, nick=NICK.get(user, user), group=group,
                             conversation=conversation if group else f"cidDM-{user}", at_staff_ids=at_ids,
                             msg_id=msg_id, created_ms=self.now_ms(), session_webhook=self.fake.session_url())

    def post(self, body: dict | bytes, *, headers: dict | None = None, timestamp: int | None = None) -> Answer:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        if headers is None:
            headers = signed_headers(APP_SECRET, timestamp if timestamp is not None else self.now_ms())
        before = len(self.fake.calls("session"))
        r = self.client.post("/dingtalk/events", content=raw, headers=headers)
        posted = self.fake.calls("session")[before:]
        assert len(posted) <= 1, posted
        answer = Answer(r.status_code, r.text, json.dumps(posted[0].json, ensure_ascii=False) if posted else "")
        if isinstance(body, dict) and r.status_code == 200:
            assert r.text == "", r.text  # answers go through the sessionWebhook, never in the HTTP body
            if posted:  # a redelivery posts nothing
                self.attach_dm(body, answer)
        return answer

    def attach_dm(self, body: dict, answer: Answer) -> None:
        """A private reply to a group message: check the group got only the @-notice and the sender's
        1:1 message was queued (once), and attach that message to the answer."""
        dm = [r for r in self.private_dms() if r.dedupe_key == private_dm_key(body.get("msgId", ""))]
        if not dm:
            return
        [row] = dm
        user = body.get("senderStaffId")
        assert body["conversationType"] == "2" and row.destination == f"user:{user}", row.destination
        assert answer.json["at"]["atUserIds"][0] == user
        assert answer.group_text in (f"@{user} 已私信回复你。", f"@{user} I've replied to you in a direct message.")
        answer.dm = render.render(reply_from_dict(json.loads(row.payload)), group=False)

    def private_dms(self) -> list[OutboxMessage]:
        """The outbox rows carrying private replies to group messages, oldest first."""
        with self.uow() as u:
            rows = list(u.session.scalars(select(OutboxMessage).where(
                OutboxMessage.dedupe_key.like("dingtalk:private:%")).order_by(OutboxMessage.id)))
            u.session.expunge_all()
            return rows

    def say(self, user: str, text: str, **kw) -> Answer:
        answer = self.post(self.message(user, text, **kw))
        assert answer.status == 200, answer.body
        return answer

    def count(self, model) -> int:
        with self.uow() as u:
            return u.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def fake_dt():
    with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
def dt(fake_dt, sqlite_url, clock):
    h = DingTalkHarness(fake_dt, sqlite_url, clock)
    yield h
    h.close()


def run_dialog(h: DingTalkHarness, table: list[tuple], **kw) -> None:
    """The console dialog tables (tests/commands), through the DingTalk adapter."""
    for row in table:
        user, message, expected = row[0], row[1], row[2]
        absent = row[3] if len(row) > 3 else []
        ok = row[4] if len(row) > 4 else True
        answer = h.say(user, message, **kw)
        text = normalize(answer.text)
        for frag in expected:
            assert normalize(frag) in text, f"{user}: {message!r}\n  expected {frag!r} in:\n{text}"
        for frag in absent:
            assert normalize(frag) not in text, f"{user}: {message!r}\n  did not expect {frag!r} in:\n{text}"
        if not ok:
            assert "⚠️" in text or "🚫" in text, f"{user}: {message!r} should be refused:\n{text}"
        assert "Traceback" not in answer.body + answer.http_body


# --- (1) the dialog tables through the adapter ------------------------------------------------------

def test_team_dialog_zh(dt):
    run_dialog(dt, [
        ("wang", "/team setup 华东销售一组 tz=Asia/Shanghai calendar=CN", ["已创建团队", "Asia/Shanghai"]),
        ("wang", "/team setup 又一个", ["本频道已绑定团队“华东销售一组”"], [], False),
        ("wang", "/team add @li rep", ["已把 <@li> 加入", "销售代表", "执行销售计划"]),
        ("wang", "/团队 添加 @chen 客户经理", ["<@chen>", "客户经理"]),
        ("wang", "/team add @li rep", ["已经是团队成员"]),
        ("wang", "/team add @li marketing", ["角色已改为 市场部"]),
        ("li", "/team add @zhao rep", ["只有销售经理可以这样做"], ["已把"], False),
        ("wang", "/team add @zhao boss", ["不认识的角色“boss”", "正确示例"], [], False),
        ("wang", "/team add rep", ["请 @ 提及一位成员"], [], False),
        ("wang", "/team add @zhao", ["请写上角色"], [], False),
        ("wang", "/team", ["华东销售一组", "3 位成员", "销售经理", "制定销售策略", "主要沟通对象"]),
        ("wang", "/team remove @chen", ["已把 <@chen> 移出"]),
        ("wang", "/team remove @chen", ["不是团队“华东销售一组”的成员"], [], False),
        ("wang", "/team remove @wang", ["唯一的销售经理"], [], False),
        ("wang", "/team frobnicate", ["不认识“frobnicate”"], [], False),
    ])


def test_team_dialog_en(dt):
    run_dialog(dt, [
        ("amy", "/team setup Bay Area calendar=none lang=en", ["Team *Bay Area* is set up"]),
        ("amy", "/team add @bob rep", ["Added <@bob> to *Bay Area* as Sales rep"]),
        ("bob", "/team remove @amy", ["Only the sales manager can do that."], [], False),
        ("amy", "/team add @bob sales manager", ["<@bob> is now Sales manager"]),
        ("amy", "/team add @carol wizard", ["Unknown role “wizard”", "Example:"], [], False),
        ("bob", "/team", ["Bay Area", "2 members", "Mainly talks to"]),
        ("amy", "/team setup Other tz=Europe/Berlin", ["already belongs to team"], [], False),
    ], conversation="cidBay")


def _team(dt: DingTalkHarness) -> None:
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"),
                       ("wang", "/team add @amy rep"), ("amy", "/teambot lang en")]:
        assert "⚠️" not in dt.say(user, text).text


def test_progress_dialogs_zh_and_en(dt):
    _team(dt)
    run_dialog(dt, [
        ("li", "/progress 签约ACME年框 销售额=50万 新客户=1", ["已记录进展：签约ACME年框", "销售额 ¥500,000", "新客户 1"]),
        ("amy", "/progress signed ACME annual deal sales=1.2m customers=2 csat=92.5%",
         ["Progress logged: signed ACME annual deal", "Sales ¥1,200,000", "New customers 2", "92.5%"]),
        ("li", "/progress 阻塞: 客户法务审核合同超过两周", ["已记录阻塞问题", "问题讨论"]),
        ("amy", "/progress blocker: legal review is stuck", ["Blocker logged", "Problems"]),
        ("amy", "/progress blocker:", ["Describe the blocker"], [], False),
    ])
    assert dt.count(ProgressEntry) == 4
    before = dt.count(ProgressEntry)
    run_dialog(dt, [
        ("li", "/progress 签约 利润=5万", ["不认识指标“利润”", "sales / 销售额", "visits / 拜访", "正确示例"], [], False),
        ("amy", "/progress deal profit=5k", ["Unknown metric “profit”", "Example:"], [], False),
        ("amy", "/progress deal sales=lots", ["lots"], [], False),
        ("amy", "/progress deal sales=10%", ["not a percentage"], [], False),
        ("amy", "/progress survey csat=120", ["from 0 to 100"], [], False),
        ("amy", "/progress deal sales=1 销售额=2", ["given twice"], [], False),
        ("amy", "/progress", ["Say what you did"], [], False),
        ("stranger", "/progress hello", ["还不是团队“华东销售一组”的成员"], [], False),
    ])
    assert dt.count(ProgressEntry) == before


def test_progress_list_by_week_and_person(dt):
    _team(dt)
    dt.clock.advance(days=-7)
    dt.say("li", "/progress 上周拜访 visits=3")
    dt.clock.advance(days=7)
    dt.say("li", "/progress 本周签约 sales=10万")
    dt.say("amy", "/progress demo for Globex visits=1")
    this_week = dt.say("wang", "/progress list").text
    assert "本周签约" in this_week and "demo for Globex" in this_week and "上周拜访" not in this_week
    last_week = dt.say("wang", "/进展 list 上周").text
    assert "上周拜访" in last_week and "本周签约" not in last_week
    amy_only = dt.say("amy", "/progress list @amy this week").text
    assert "demo for Globex" in amy_only and "本周签约" not in amy_only


def test_undo_button_is_an_action_card_that_sends_the_typed_command(dt):
    _team(dt)
    answer = dt.say("li", "/progress 拜访 visits=1")
    card = answer.dm  # the confirmation is private: it comes 1:1
    assert card["msgtype"] == "actionCard"
    url = card["actionCard"]["btns"][0]["actionURL"]
    assert url.startswith("dtmd://dingtalkclient/sendMessage?content=")
    command = render.command_from_url(url)
    assert command == "/progress undo"
    # A tap makes the client send the command as a message (in the 1:1 chat): it runs like typing it.
    undone = dt.say("li", command, group=False)
    assert "已撤销" in undone.text
    assert dt.count(ProgressEntry) == 0


def test_group_answers_at_the_sender_and_dm_uses_the_persons_only_team(dt):
    _team(dt)
    group = dt.say("li", "/progress 拜访客户 visits=2").json
    assert group["at"]["atUserIds"][0] == "li"
    dm = dt.say("li", "/progress 私聊记录 visits=1", group=False).json
    assert "at" not in dm
    assert "已记录进展：私聊记录" in render.message_text(dm)
    assert dt.count(ProgressEntry) == 2


def test_non_text_message_and_bare_mention_get_help(dt):
    msg = dt.message("li", "")
    msg["msgtype"], msg["content"] = "picture", {"downloadCode": "x"}
    msg.pop("text")
    assert "text commands" in dt.post(msg).text
    assert "/teambot" in dt.say("li", "").text  # just "@bot": the help


# --- (2) signatures ---------------------------------------------------------------------------------

def test_signature_helpers_match_dingtalks_construction():
    assert signing.sign("1577262236757", "SECxxx") == sign_value("1577262236757", "SECxxx")
    url = signing.signed_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECxxx", 1577262236757)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1577262236757&sign=")
    assert "%" in url.split("sign=")[1] or "+" not in url.split("sign=")[1]  # URL-encoded base64
    assert signing.signed_webhook_url("https://x/robot/send?access_token=a", None, 1) == "https://x/robot/send?access_token=a"


@pytest.mark.parametrize("case", ["forged", "wrong_secret", "stale", "future", "missing", "malformed"])
def test_bad_signatures_are_refused_without_running_anything(dt, case):
    body = dt.message("wang", "/team setup 华东销售一组")
    now = dt.now_ms()
    headers = signed_headers(APP_SECRET, now)
    if case == "forged":
        headers["sign"] = headers["sign"][:-4] + ("AAAA" if not headers["sign"].endswith("AAAA") else "BBBB")
    elif case == "wrong_secret":
        headers = signed_headers("not-the-secret", now)
    elif case == "stale":
        headers = signed_headers(APP_SECRET, now - 3600_000 - 1)
    elif case == "future":
        headers = signed_headers(APP_SECRET, now + 3600_000 + 1)
    elif case == "missing":
        headers = {"Content-Type": "application/json"}
    elif case == "malformed":
        headers["timestamp"] = "12ab"
    answer = dt.post(body, headers=headers)
    assert answer.status == 401
    assert "Traceback" not in answer.http_body and "invalid signature" in answer.http_body
    assert answer.body == ""
    assert dt.count(ProgressEntry) == 0
    from storage.models import Team
    assert dt.count(Team) == 0


def test_timestamp_within_the_hour_is_accepted(dt):
    answer = dt.post(dt.message("wang", "/teambot help"), timestamp=dt.now_ms() - 3599_000)
    assert answer.status == 200


def test_unreadable_bodies_are_4xx_without_traceback(dt):
    for body, status in [(b"{not json", 400), (b"[1,2]", 400), (json.dumps({"msgId": "m1"}).encode(), 400),
                         (b"\xff\xfe", 400), (b"{" + b" " * 300_000 + b"}", 413)]:
        answer = dt.post(body)
        assert answer.status == status, (body[:20], answer.http_body)
        assert "Traceback" not in answer.http_body


# --- (3) redelivery ---------------------------------------------------------------------------------

def test_a_redelivered_message_runs_and_answers_once(dt):
    _team(dt)
    msg = dt.message("li", "/progress 签约ACME 销售额=50万", msg_id="msgREDELIVER")
    first = dt.post(msg)
    second = dt.post(msg)
    assert first.status == second.status == 200
    assert first.json["at"]["atUserIds"] == ["li"] and second.body == ""
    assert dt.count(ProgressEntry) == 1


def test_a_refusal_in_a_group_goes_to_the_sender_1_to_1_and_the_group_sees_only_a_notice(dt, fake_dt):
    _team(dt)
    before = dt.count(OutboxMessage)
    msg = dt.message("li", "/team add @zhao rep", msg_id="msgPRIVATE1")
    first = dt.post(msg)
    assert first.status == 200
    # The group: only the notice, @-mentioning li; nothing of the refusal.
    assert first.group_text == "@li 已私信回复你。"
    assert first.json["at"] == {"atUserIds": ["li"], "isAtAll": False}
    assert "只有销售经理" not in first.body
    # li: one 1:1 message in the outbox with the refusal.
    with dt.uow() as u:
        [row] = u.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "dingtalk:private:msgPRIVATE1"))
        assert row.destination == "user:li" and row.platform == "dingtalk"
        payload = json.loads(row.payload)
    assert payload["ok"] is False and payload["private"] is True
    assert "只有销售经理可以这样做" in render.message_text(render.render(reply_from_dict(payload)))
    assert dt.count(OutboxMessage) == before + 1
    # A redelivery (same msgId) of a refusal is answered once too: nothing posted, nothing queued.
    second = dt.post(msg)
    assert second.status == 200 and second.body == ""
    assert dt.count(OutboxMessage) == before + 1
    # The outbox sends it with the robot's 1:1 API.
    drain(dt.uow, DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url)), dt.clock, "w1")
    [dm] = [c for c in fake_dt.delivered("robot.oToMessages") if c.json["userIds"] == ["li"]]
    assert "只有销售经理可以这样做" in json.loads(dm.json["msgParam"])["text"]
    assert not any("只有销售经理" in c.json.get("msgParam", "") for c in fake_dt.delivered("robot.groupMessages"))


def test_the_notice_speaks_the_replys_language_and_public_answers_and_dms_stay_as_they_are(dt):
    _team(dt)
    refused = dt.say("amy", "/team add @zhao rep")  # amy reads English
    assert refused.group_text == "@amy I've replied to you in a direct message."
    assert "Only the sales manager can do that." in refused.text
    public = dt.say("wang", "/team add @chen account_manager")
    assert public.dm is None and "已把 @chen 加入" in normalize(public.group_text)
    before = dt.count(OutboxMessage)
    direct = dt.say("li", "/team add @zhao rep", group=False)
    assert direct.dm is None and "只有销售经理可以这样做" in direct.text and "at" not in direct.json
    assert dt.count(OutboxMessage) == before


def test_http_mode_answers_through_the_session_webhook_or_the_openapi_once_it_expired(dt, fake_dt):
    """DingTalk documents replies through the sessionWebhook or the OpenAPI, never the HTTP answer."""
    _team(dt)
    fresh = dt.post(dt.message("wang", "/team add @chen account_manager", msg_id="msgFRESH"))
    assert fresh.http_body == "" and "已把 @chen 加入" in normalize(fresh.text) and fresh.dm is None
    [post] = [c for c in fake_dt.calls("session") if c.json == fresh.json]
    assert post.path == "/robot/sendBySession" and post.ok
    # The same kind of message an hour and a half later: its sessionWebhook has expired.
    late = dt.message("wang", "/team add @zhao rep", msg_id="msgLATE")
    late["sessionWebhookExpiredTime"] = dt.now_ms() - 1
    sessions = len(fake_dt.calls("session"))
    answer = dt.post(late)
    assert answer.status == 200 and answer.http_body == "" and answer.body == ""
    assert len(fake_dt.calls("session")) == sessions
    stats = drain(dt.uow, DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url)), dt.clock, "w1")
    assert stats.sent >= 1
    [group] = [c for c in fake_dt.delivered("robot.groupMessages") if "已把 @zhao 加入" in c.json["msgParam"]]
    assert group.json["openConversationId"] == "cidG1"


# --- Stream mode ------------------------------------------------------------------------------------

def _callback(data: dict, message_id: str = "stream-1") -> CallbackMessage:
    return CallbackMessage.from_dict({"specVersion": "1.0", "type": "CALLBACK",
                                      "headers": {"topic": ChatbotMessage.TOPIC, "messageId": message_id},
                                      "data": json.dumps(data, ensure_ascii=False)})


def test_stream_handler_runs_off_the_event_loop_and_replies_once(dt, fake_dt):
    _team(dt)
    threads: list[int] = []
    real = dt.dispatcher.handle

    def spy(inv):
        threads.append(threading.get_ident())
        return real(inv)

    dt.dispatcher.handle = spy
    handler = TeambotHandler(DingTalkBot(dt.dispatcher, dt.clock, DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url)))
    data = dt.message("li", "/progress 流式签约 销售额=8万", msg_id="msgSTREAM1")
    data["sessionWebhook"] = fake_dt.session_url("sess1")

    async def deliver_twice():
        loop_thread = threading.get_ident()
        acks = [await handler.raw_process(_callback(data)), await handler.raw_process(_callback(data))]
        return loop_thread, acks

    before = len(fake_dt.calls("session"))
    loop_thread, acks = asyncio.run(deliver_twice())
    assert [a.code for a in acks] == [AckMessage.STATUS_OK] * 2
    assert threads and all(t != loop_thread for t in threads)
    posts = fake_dt.calls("session")[before:]
    assert len(posts) == 1
    # The confirmation is private: the group gets the notice, li the confirmation 1:1 (queued once).
    assert render.message_text(posts[0].json) == "@li 已私信回复你。"
    assert posts[0].json["at"]["atUserIds"][0] == "li"
    [dm] = [r for r in dt.private_dms() if "msgSTREAM" in r.dedupe_key]
    assert (dm.destination, dm.dedupe_key) == ("user:li", "dingtalk:private:msgSTREAM1")
    assert "已记录进展：流式签约" in json.loads(dm.payload)["summary"]
    assert dt.count(ProgressEntry) == 1


def test_stream_reply_that_cannot_be_posted_goes_through_the_outbox(dt, fake_dt):
    _team(dt)
    fake_dt.script("session", errcode=130101, times=1)
    api = DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url)
    bot = DingTalkBot(dt.dispatcher, dt.clock, api)
    data = dt.message("li", "/progress 补发 visits=1", msg_id="msgSTREAM2")
    data["sessionWebhook"] = fake_dt.session_url("sess2")
    result = bot.deliver(parse_message(data))
    assert result is not None and result.status == "rate_limited"
    with dt.uow() as u:
        rows = {(r.destination, r.dedupe_key) for r in u.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("%msgSTREAM2")))}
    # The confirmation is private: li's 1:1 message, and the group's notice that could not be posted.
    assert rows == {("channel:cidG1", "dingtalk-reply:msgSTREAM2"), ("user:li", "dingtalk:private:msgSTREAM2")}
    stats = drain(dt.uow, DingTalkSender(api), dt.clock, "w1")
    assert stats.sent == 3  # with amy's private answer to `/teambot lang en` in _team
    sent = fake_dt.delivered("robot.groupMessages")
    assert sent[0].json["openConversationId"] == "cidG1"
    assert json.loads(sent[0].json["msgParam"])["text"] == "@li 已私信回复你。"
    [dm] = [c for c in fake_dt.delivered("robot.oToMessages") if c.json["userIds"] == ["li"]]
    assert "补发" in json.loads(dm.json["msgParam"])["text"]


# --- (4) the outbox against a robot that says "too fast" ---------------------------------------------

def _enqueue(uow, clock, destination: str, texts: list[str], platform: str = "dingtalk") -> None:
    with uow() as u:
        for text in texts:
            outbox_store.enqueue(u.session, platform=platform, destination=destination,
                                 payload=reply_to_dict(Reply.text(text, private=False)), now=clock.now())


def drain_until_done(uow, sender, clock, *, limit_seconds: int = 600, step: int = 1):
    """Drain, advance the clock one second, repeat: no real sleeps. Returns (time, msg id, status)."""
    events: list[tuple] = []
    for _ in range(limit_seconds // step):
        drain(uow, sender, clock, "w1", on_result=lambda m, r: events.append((clock.now(), m.id, r.status)))
        with uow() as u:
            if not u.session.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))).first():
                return events
        clock.advance(seconds=step)
    raise AssertionError(f"outbox not drained after {limit_seconds}s: {events}")


@pytest.fixture
def outbox_db(sqlite_url):
    engine = make_engine(sqlite_url)
    yield uow_factory(engine)
    engine.dispose()


def test_130101_slows_the_outbox_down_and_everything_arrives_once_in_order(fake_dt, outbox_db, clock):
    robot = fake_dt.add_robot("tok1", secret="SECrobotsecret")
    sender = DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url),
                            robots=StaticRobots({"cidG1": Robot(robot.webhook, robot.secret)}))
    texts = [f"第{i}条提醒" for i in range(1, 6)]
    _enqueue(outbox_db, clock, "channel:cidG1", texts)
    fake_dt.script("robot.send", errcode=130101, times=2)

    events = drain_until_done(outbox_db, sender, clock)

    delivered = [render.message_text(c.json) for c in fake_dt.delivered("robot.send")]
    assert delivered == texts  # everything, once, in order
    assert [c.json.get("errcode") for c in fake_dt.calls("robot.send")] == [None] * 7
    assert [c.answer["errcode"] for c in fake_dt.calls("robot.send")][:2] == [130101, 130101]
    limited = [t for t, _, status in events if status == "rate_limited"]
    sent = [t for t, _, status in events if status == "sent"]
    assert len(limited) == 2 and len(sent) == 5
    assert limited[1] - limited[0] >= timedelta(seconds=60)  # backed off a minute after "too fast"
    assert sent[0] - limited[1] >= timedelta(seconds=60)
    assert all(b - a >= timedelta(seconds=DEFAULT_PACE_SECONDS["dingtalk"]) for a, b in pairwise(sent))
    with outbox_db() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows] == ["sent"] * 5
    assert [r.attempts for r in rows] == [1] * 5  # "too fast" is not a failed attempt


def test_pacing_is_20_a_minute_per_robot():
    assert OutboxConfig().pace_for("dingtalk") >= 60 / 20


def test_signature_refused_by_the_robot_is_permanent_and_kept(fake_dt, outbox_db, clock):
    robot = fake_dt.add_robot("tok2", secret="SECright")
    sender = DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url),
                            robots=StaticRobots({"cidG2": Robot(robot.webhook, "SECwrong")}))
    _enqueue(outbox_db, clock, "channel:cidG2", ["hello"])
    stats = drain(outbox_db, sender, clock, "w1")
    assert stats.dead == 1
    with outbox_db() as u:
        row = u.session.scalars(select(OutboxMessage)).one()
    assert row.status == "dead" and "310000" in row.last_error


def test_server_errors_are_transient_and_retried(fake_dt, outbox_db, clock):
    robot = fake_dt.add_robot("tok3")
    sender = DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url),
                            robots=StaticRobots({"cidG3": Robot(robot.webhook)}))
    fake_dt.script("robot.send", status=503, times=1)
    fake_dt.script("robot.send", errcode=-1, times=1)
    _enqueue(outbox_db, clock, "channel:cidG3", ["a", "b"])
    drain_until_done(outbox_db, sender, clock)
    assert [render.message_text(c.json) for c in fake_dt.delivered("robot.send")] == ["a", "b"]


def test_webhook_outside_dingtalk_is_never_called(fake_dt, outbox_db, clock):
    sender = DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url),
                            robots=StaticRobots({"cidX": Robot("https://evil.example/robot/send?access_token=x")}))
    _enqueue(outbox_db, clock, "channel:cidX", ["hello"])
    assert drain(outbox_db, sender, clock, "w1").dead == 1


def test_dm_through_the_app_robot_with_a_cached_token_refreshed_when_rejected(fake_dt, outbox_db, clock):
    sender = DingTalkSender(DingTalkApi(APP_KEY, APP_SECRET, api_url=fake_dt.url))
    _enqueue(outbox_db, clock, "user:li", ["第一条", "第二条"])
    drain_until_done(outbox_db, sender, clock)
    assert len(fake_dt.calls("oauth2.accessToken")) == 1
    fake_dt.revoke_tokens()
    _enqueue(outbox_db, clock, "user:li", ["第三条"])
    drain_until_done(outbox_db, sender, clock)
    assert len(fake_dt.calls("oauth2.accessToken")) == 2
    sent = fake_dt.delivered("robot.oToMessages")
    assert [json.loads(c.json["msgParam"])["text"] for c in sent] == ["第一条", "第二条", "第三条"]
    assert all(c.json["userIds"] == ["li"] and c.json["robotCode"] == APP_KEY for c in sent)


def test_flow_controlled_user_is_rate_limited():
    from bot.dingtalk.sender import classify_app, classify_webhook
    from bot.kit.http_json import HttpAnswer

    assert classify_app(HttpAnswer(200, {"flowControlledStaffIdList": ["li"]}), "li").status == "rate_limited"
    assert classify_app(HttpAnswer(200, {"invalidStaffIdList": ["li"]}), "li").status == "permanent"
    assert classify_app(HttpAnswer(429, {"code": "Throttling"})).status == "rate_limited"
    assert classify_webhook(HttpAnswer(200, {"errcode": 410100, "errmsg": "too fast"})).retry_after == 60
    assert classify_webhook(HttpAnswer(200, {"errcode": 300001})).status == "permanent"


# --- rendering and mentions ----------------------------------------------------------------------------

def test_render_markdown_tables_mentions_and_bold():
    reply = Reply(parts=(Text("✅ 已把 <@li> 加入 *华东一组*。\n第二行"), Fields((("负责人", "<@wang|王伟>"),)),
                         Table(("成员", "角色"), (("<@li>", "销售代表"), ("<@chen>", "客户经理")))),
                  private=False, summary="已把 <@li> 加入")
    msg = render.render(reply, group=True)
    assert msg["msgtype"] == "markdown"
    text = msg["markdown"]["text"]
    assert "已把 @li 加入 **华东一组**。  \n第二行" in text
    assert "**负责人**：@wang" in text
    assert "**成员 | 角色**  \n@li | 销售代表  \n@chen | 客户经理" in text
    assert msg["at"]["atUserIds"] == ["li", "wang", "chen"]
    assert msg["markdown"]["title"] == "已把 @li 加入"


def test_render_action_card_buttons_carry_the_command():
    reply = Reply(parts=(Text("任务 #12"), Actions((Button("完成", "tb:done", "12", command="/task done 12"),
                                                    Button("推迟 1 天", "tb:snooze", "12", command="/task 推迟 12 1天"),
                                                    Button("no command", "tb:x", "1")))))
    msg = render.render(reply)
    btns = msg["actionCard"]["btns"]
    assert [render.command_from_url(b["actionURL"]) for b in btns] == ["/task done 12", "/task 推迟 12 1天"]
    assert btns[1]["actionURL"] == "dtmd://dingtalkclient/sendMessage?content=%2Ftask%20%E6%8E%A8%E8%BF%9F%2012%201%E5%A4%A9"
    assert "at" not in msg


def test_mentions_pair_with_at_users_in_order():
    assert pair_mentions("/team add @李雷 rep", ("li",)) == "/team add <@li|李雷> rep"
    assert pair_mentions("/task add @我 @李雷 x", ("li",)) == "/task add @我 <@li|李雷> x"
    assert pair_mentions("/task assign 3 @李雷 @陈静", ("li",)) == "/task assign 3 @李雷 @陈静"  # ambiguous: as typed
    assert strip_bot_mention("@teambot /team add @李雷 rep") == "/team add @李雷 rep"
    assert strip_bot_mention(" /progress hi") == "/progress hi"
    assert strip_bot_mention("@teambot") == ""
