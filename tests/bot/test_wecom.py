"""The WeCom adapter end to end: encrypted callbacks into the real Starlette routes and the real
dispatcher on SQLite, answers through a fake WeCom API (a real local HTTP server); the callback crypto
against WeCom's official sample vectors; the outbox sender against a group robot that answers 45009.
"""
from __future__ import annotations

import base64
import re
import warnings
from datetime import timedelta
from itertools import pairwise
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bot.config import Settings, WeComSettings
from bot.kit.robots import Robot, StaticRobots
from bot.wecom import render
from bot.wecom.api import WeComApi
from bot.wecom.crypto import WeComCrypto, WeComCryptoError
from bot.wecom.http import build_asgi
from bot.wecom.inbound import BadXml, parse_xml
from bot.wecom.sender import WeComSender
from commands.core.dispatch import Dispatcher
from commands.core.reply import Actions, Button, Reply, Table, Text, reply_to_dict
from reminders.outbox import DEFAULT_PACE_SECONDS, OutboxConfig, drain
from storage import outbox_store
from storage.db import make_engine
from storage.models import OutboxMessage, ProgressEntry, Team
from storage.uow import uow_factory
from tests.kit.fake_wecom import (
    FakeWeCom,
    card_click_xml,
    encrypted_callback,
    envelope,
    text_xml,
    wx_encrypt,
    wx_signature,
)

CORP_ID = "wwcorp"
SECRET = "s3cret"
TOKEN = "teambotToken"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
NAMES = {"wang": "王伟", "li": "李雷", "chen": "陈静", "zhao": "赵强", "amy": "Amy", "bob": "Bob", "carol": "Carol"}

# --- WeCom's official callback sample vectors -----------------------------------------------------
# workweixin/weworkapi_cplusplus, Sample.cpp (Tencent's WXBizMsgCrypt sample, also in the C#, PHP and
# Java samples and in the developer docs, path/90968):
OFFICIAL_TOKEN = "QDG6eK"
OFFICIAL_CORP_ID = "wx5823bf96d3bd56c7"
OFFICIAL_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
          "nonce": "263014780",
          "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
VERIFY_ECHO = "1616140317555161061"
MESSAGE = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
           "nonce": "1372623149"}
MESSAGE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYY"
    "vuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+Lt"
    "wGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8"
    "V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1p"
    "tDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")
# sbzhu/weworkapi_python, callback/Sample.py (the Python sample linked from WeCom's docs):
PY_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
PY_AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
PY_CORP_ID = "ww1436e0e65a779aee"
PY_VERIFY = ("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
             "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==")
PY_MESSAGE = ("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914",
              ("Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLN"
              "shw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9G"
              "Sh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iEL"
              "cDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"))


def normalize(s: str) -> str:
    return re.sub(r"<@([^<>|]+)(?:\|[^<>]*)?>", r"@\1", s).replace("*", "").replace("`", "")


class WeComHarness:
    def __init__(self, fake: FakeWeCom, db_url: str, clock, *, token: str = TOKEN, aes_key: str = AES_KEY,
                 corp_id: str = CORP_ID, robots=None):
        self.fake = fake
        self.clock = clock
        self.token, self.aes_key, self.corp_id = token, aes_key, corp_id
        self.engine = make_engine(db_url)
        self.uow = uow_factory(self.engine)
        self.dispatcher = Dispatcher(self.uow, clock)
        self.settings = Settings(platform="wecom", database_url=db_url, wecom=WeComSettings(
            corp_id=corp_id, agent_id="1000002", secret=SECRET, token=token, encoding_aes_key=aes_key,
            api_url=fake.url))
        self.client = TestClient(build_asgi(self.settings, self.dispatcher, clock, robots=robots),
                                 raise_server_exceptions=False)
        self._msg = 0

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()

    def post(self, query: str, body: str | bytes):
        data = body.encode() if isinstance(body, str) else body
        return self.client.post(f"/wecom/callback?{query}", content=data,
                                headers={"Content-Type": "text/xml; charset=utf-8"})

    def send_xml(self, plaintext_xml: str):
        """POST an encrypted callback; returns (response, messages the bot sent meanwhile)."""
        before = len(self.fake.calls())
        query, body = encrypted_callback(self.token, self.aes_key, self.corp_id, plaintext_xml)
        r = self.post(query, body)
        sent = [c for c in self.fake.calls()[before:] if c.method in ("message.send", "appchat.send", "webhook.send")]
        return r, sent

    def say(self, user: str, text: str, *, chat: str | None = "wrGroup1", msg_id: str | None = None):
        self._msg += 1
        r, sent = self.send_xml(text_xml(user, text, msg_id or f"7{self._msg:018d}", chat_id=chat,
                                         corp_id=self.corp_id))
        assert r.status_code == 200 and r.text == "", r.text
        return sent

    def text(self, user: str, text: str, **kw) -> str:
        return "\n".join(render.message_text(c.json) for c in self.say(user, text, **kw))

    def count(self, model) -> int:
        with self.uow() as u:
            return u.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def fake_wc():
    with FakeWeCom(corp_id=CORP_ID, secret=SECRET) as fake:
        for uid, name in NAMES.items():
            fake.set_user(uid, name)
        yield fake


@pytest.fixture
def wc(fake_wc, sqlite_url, clock):
    h = WeComHarness(fake_wc, sqlite_url, clock)
    yield h
    h.close()


def run_dialog(h: WeComHarness, table: list[tuple], **kw) -> None:
    for row in table:
        user, message, expected = row[0], row[1], row[2]
        absent = row[3] if len(row) > 3 else []
        ok = row[4] if len(row) > 4 else True
        sent = h.say(user, message, **kw)
        assert sent, f"{user}: {message!r} got no answer"
        text = normalize("\n".join(render.message_text(c.json) for c in sent))
        for frag in expected:
            assert normalize(frag) in text, f"{user}: {message!r}\n  expected {frag!r} in:\n{text}"
        for frag in absent:
            assert normalize(frag) not in text, f"{user}: {message!r}\n  did not expect {frag!r} in:\n{text}"
        if not ok:
            assert "⚠️" in text or "🚫" in text, f"{user}: {message!r} should be refused:\n{text}"
            # A refusal is private: it goes to the person's chat with the app, not to the group.
            assert all(c.method == "message.send" and c.json["touser"] == user for c in sent)


# --- (1) the dialog tables through the adapter ------------------------------------------------------

def test_team_dialog_zh(wc):
    run_dialog(wc, [
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
    # Public answers went to the group chat.
    assert any(c.method == "appchat.send" and c.json["chatid"] == "wrGroup1" for c in wc.fake.messages())


def test_team_dialog_en(wc):
    run_dialog(wc, [
        ("amy", "/team setup Bay Area calendar=none lang=en", ["Team *Bay Area* is set up"]),
        ("amy", "/team add @bob rep", ["Added <@bob> to *Bay Area* as Sales rep"]),
        ("bob", "/team remove @amy", ["Only the sales manager can do that."], [], False),
        ("amy", "/team add @bob sales manager", ["<@bob> is now Sales manager"]),
        ("amy", "/team add @carol wizard", ["Unknown role “wizard”", "Example:"], [], False),
        ("bob", "/team", ["Bay Area", "2 members", "Mainly talks to"]),
        ("amy", "/team setup Other tz=Europe/Berlin", ["already belongs to team"], [], False),
    ], chat="wrBay")


def _team(wc: WeComHarness) -> None:
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"),
                       ("wang", "/team add @amy rep"), ("amy", "/teambot lang en")]:
        assert "⚠️" not in wc.text(user, text)


def test_progress_dialogs_zh_and_en(wc):
    _team(wc)
    run_dialog(wc, [
        ("li", "/progress 签约ACME年框 销售额=50万 新客户=1", ["已记录进展：签约ACME年框", "销售额 ¥500,000", "新客户 1"]),
        ("amy", "/progress signed ACME annual deal sales=1.2m customers=2 csat=92.5%",
         ["Progress logged: signed ACME annual deal", "Sales ¥1,200,000", "New customers 2", "92.5%"]),
        ("li", "/progress 阻塞: 客户法务审核合同超过两周", ["已记录阻塞问题", "问题讨论"]),
        ("amy", "/progress blocker: legal review is stuck", ["Blocker logged", "Problems"]),
        ("amy", "/progress blocker:", ["Describe the blocker"], [], False),
    ])
    before = wc.count(ProgressEntry)
    assert before == 4
    run_dialog(wc, [
        ("li", "/progress 签约 利润=5万", ["不认识指标“利润”", "sales / 销售额", "visits / 拜访", "正确示例"], [], False),
        ("amy", "/progress deal profit=5k", ["Unknown metric “profit”", "Example:"], [], False),
        ("amy", "/progress deal sales=lots", ["lots"], [], False),
        ("amy", "/progress deal sales=10%", ["not a percentage"], [], False),
        ("amy", "/progress survey csat=120", ["from 0 to 100"], [], False),
        ("amy", "/progress deal sales=1 销售额=2", ["given twice"], [], False),
        ("amy", "/progress", ["Say what you did"], [], False),
    ])
    assert wc.count(ProgressEntry) == before


def test_progress_in_the_app_chat_and_list_by_week(wc):
    _team(wc)
    wc.clock.advance(days=-7)
    wc.say("li", "/progress 上周拜访 visits=3", chat=None)  # 1:1 with the app: the person's only team
    wc.clock.advance(days=7)
    wc.say("li", "/progress 本周签约 sales=10万", chat=None)
    wc.say("amy", "/progress demo for Globex visits=1")
    this_week = wc.text("wang", "/progress list")
    assert "本周签约" in this_week and "demo for Globex" in this_week and "上周拜访" not in this_week
    assert "上周拜访" in wc.text("wang", "/进展 list 上周")
    amy_only = wc.text("amy", "/progress list @amy this week")
    assert "demo for Globex" in amy_only and "本周签约" not in amy_only


def test_undo_button_card_click_runs_the_typed_command(wc):
    _team(wc)
    sent = wc.say("li", "/progress 拜访 visits=1")
    card = sent[0].json
    assert sent[0].method == "message.send" and card["touser"] == "li"
    assert card["msgtype"] == "template_card"
    tc = card["template_card"]
    assert tc["card_type"] == "button_interaction" and tc["task_id"]
    key = tc["button_list"][0]["key"]
    assert render.command_from_key(key) == "/progress undo"
    r, answer = wc.send_xml(card_click_xml("li", key, tc["task_id"]))
    assert r.status_code == 200
    assert "已撤销" in render.message_text(answer[0].json)
    assert wc.count(ProgressEntry) == 0
    # The same click delivered again does nothing more.
    r, again = wc.send_xml(card_click_xml("li", key, tc["task_id"]))
    assert r.status_code == 200 and again == []


def test_mentions_resolve_through_the_directory(wc):
    _team(wc)
    assert "@li" in wc.text("wang", "/team add @li marketing")
    text = wc.text("wang", "/team add @nobody rep")
    assert "⚠️" in text or "🚫" in text
    assert len(wc.fake.calls("user.get")) == len({c.query["userid"] for c in wc.fake.calls("user.get")})  # cached


def test_other_messages_and_events(wc):
    r, sent = wc.send_xml(text_xml("li", "", "9001").replace("<![CDATA[text]]>", "<![CDATA[image]]>"))
    assert r.status_code == 200 and "text commands" in render.message_text(sent[0].json)
    enter = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>li</FromUserName><CreateTime>1</CreateTime>"
             "<MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>1000002</AgentID></xml>")
    r, sent = wc.send_xml(enter)
    assert r.status_code == 200 and sent == []


# --- (2) crypto with the official vectors --------------------------------------------------------------

def test_official_vectors_verify_url_and_decrypt():
    crypto = WeComCrypto(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    assert crypto.verify_url(**{k: VERIFY[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}) == VERIFY_ECHO
    xml = crypto.decrypt(MESSAGE["msg_signature"], MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE_ENCRYPT)
    msg = parse_xml(xml)
    assert (msg["FromUserName"], msg["Content"], msg["MsgId"], msg["MsgType"]) == (
        "mycreate", "hello", "4561255354251345929", "text")
    assert crypto.signature(MESSAGE["timestamp"], MESSAGE["nonce"], MESSAGE_ENCRYPT) == MESSAGE["msg_signature"]


def test_official_python_sample_vectors():
    crypto = WeComCrypto(PY_TOKEN, PY_AES_KEY, PY_CORP_ID)
    assert crypto.verify_url(*PY_VERIFY) == "1288432023552776189"
    msg = parse_xml(crypto.decrypt(*PY_MESSAGE))
    assert (msg["FromUserName"], msg["Content"], msg["MsgId"]) == ("ChenJiaShun", "你好", "1456453720")


def test_encrypt_round_trip_and_independent_implementation_agree():
    crypto = WeComCrypto(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    plain = "<xml><Content><![CDATA[测试一下中文，消息长度按字节算]]></Content></xml>"
    rnd = b"0123456789abcdef"
    ours = crypto.encrypt(plain, random16=rnd)
    assert ours == wx_encrypt(OFFICIAL_AES_KEY, OFFICIAL_CORP_ID, plain, random16=rnd)
    sig = wx_signature(OFFICIAL_TOKEN, "1409659813", "1372623149", ours)
    assert crypto.decrypt(sig, "1409659813", "1372623149", ours) == plain
    reply = parse_xml(crypto.encrypt_reply("<xml><Content>ok</Content></xml>", "nonce1", "1409659813"))
    assert crypto.decrypt(reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]) == \
        "<xml><Content>ok</Content></xml>"
    # Padding is to 32 bytes: every ciphertext is a multiple of 32.
    for n in range(70):
        assert len(base64.b64decode(crypto.encrypt("x" * n))) % 32 == 0


def _flip_last_block(encrypted: str) -> str:
    raw = bytearray(base64.b64decode(encrypted))
    for i in range(len(raw) - 16, len(raw)):
        raw[i] ^= 0x5A
    return base64.b64encode(bytes(raw)).decode()


def test_crypto_refusals_all_raise_one_error_type():
    crypto = WeComCrypto(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    ts, nonce = MESSAGE["timestamp"], MESSAGE["nonce"]
    corrupted = _flip_last_block(MESSAGE_ENCRYPT)
    cases = {
        "forged": (MESSAGE["msg_signature"][:-1] + "0", ts, nonce, MESSAGE_ENCRYPT),
        "corrupted": (wx_signature(OFFICIAL_TOKEN, ts, nonce, corrupted), ts, nonce, corrupted),
        "not base64": (wx_signature(OFFICIAL_TOKEN, ts, nonce, "%%%%"), ts, nonce, "%%%%"),
        "short": (wx_signature(OFFICIAL_TOKEN, ts, nonce, "AAAA"), ts, nonce, "AAAA"),
        "missing": (None, ts, nonce, MESSAGE_ENCRYPT),
    }
    for name, args in cases.items():
        with pytest.raises(WeComCryptoError):
            crypto.decrypt(*args)
            pytest.fail(f"{name} was accepted")
    other = WeComCrypto(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, "wwsomeoneelse")
    with pytest.raises(WeComCryptoError, match="receive id"):
        other.decrypt(MESSAGE["msg_signature"], ts, nonce, MESSAGE_ENCRYPT)
    with pytest.raises(WeComCryptoError):
        WeComCrypto("t", "tooshort", "c")


def test_bad_padding_values_are_refused():
    crypto = WeComCrypto(OFFICIAL_TOKEN, OFFICIAL_AES_KEY, OFFICIAL_CORP_ID)
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = crypto.key
    for pad in (bytes([0]) * 32, bytes([33]) * 32, b"\x05" * 27 + b"\x04\x05\x05\x05\x05"):
        body = b"r" * 16 + (4).to_bytes(4, "big") + b"abcd" + OFFICIAL_CORP_ID.encode()
        body = body[: 64 - 32] + pad if len(body) > 32 else body + pad
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        ct = base64.b64encode(enc.update(body[:64]) + enc.finalize()).decode()
        with pytest.raises(WeComCryptoError):
            crypto.decrypt(wx_signature(OFFICIAL_TOKEN, "1", "2", ct), "1", "2", ct)


@pytest.fixture
def official(fake_wc, sqlite_url, clock):
    fake_wc.corp_id = OFFICIAL_CORP_ID
    h = WeComHarness(fake_wc, sqlite_url, clock, token=OFFICIAL_TOKEN, aes_key=OFFICIAL_AES_KEY,
                     corp_id=OFFICIAL_CORP_ID)
    yield h
    h.close()


def test_official_vectors_through_the_http_routes(official):
    r = official.client.get("/wecom/callback?" + urlencode(VERIFY))
    assert r.status_code == 200 and r.text == VERIFY_ECHO
    r = official.post(urlencode(MESSAGE), envelope(MESSAGE_ENCRYPT, corp_id=OFFICIAL_CORP_ID, agent_id="218"))
    assert r.status_code == 200 and r.text == ""
    sent = official.fake.delivered("message.send")
    assert sent[0].json["touser"] == "mycreate"
    assert "hello" in render.message_text(sent[0].json)  # "hello" is no command: the usage answer


def test_refused_callbacks_are_400_without_detail_or_traceback(wc):
    xml = text_xml("li", "/team setup 偷偷建的团队", "1234", chat_id="wrEvil")
    enc = wx_encrypt(AES_KEY, CORP_ID, xml)
    ts, nonce = "1764122400", "99"
    good_sig = wx_signature(TOKEN, ts, nonce, enc)
    corrupted = _flip_last_block(enc)
    wrong_rid = wx_encrypt(AES_KEY, "wwsomeoneelse", xml)
    bad_b64 = "!!notbase64!!"

    def q(sig, t=ts, n=nonce):
        return urlencode({"msg_signature": sig, "timestamp": t, "nonce": n})

    cases = {
        "forged signature": (q("0" * 40), envelope(enc)),
        "signature of another body": (q(good_sig, n="100"), envelope(enc)),
        "wrong receive id": (q(wx_signature(TOKEN, ts, nonce, wrong_rid)), envelope(wrong_rid)),
        "corrupted last block": (q(wx_signature(TOKEN, ts, nonce, corrupted)), envelope(corrupted)),
        "not base64": (q(wx_signature(TOKEN, ts, nonce, bad_b64)), envelope(bad_b64)),
        "no signature": ("timestamp=1&nonce=2", envelope(enc)),
        "doctype": (q(good_sig), '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'),
        "not xml": (q(good_sig), "hello"),
    }
    bodies = set()
    for name, (query, body) in cases.items():
        r = wc.post(query, body)
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert "Traceback" not in r.text
        bodies.add(r.text)
    assert bodies == {"bad request"}  # one answer for every failure: nothing to learn from it
    assert wc.count(Team) == 0 and wc.fake.messages() == []
    r = wc.client.get("/wecom/callback?" + urlencode({**VERIFY}))  # right format, wrong token/key
    assert r.status_code == 400 and r.text == "bad request"
    r = wc.post(q(good_sig), envelope(enc))  # the untampered one is fine
    assert r.status_code == 200 and wc.count(Team) == 1


def test_billion_laughs_inside_the_ciphertext_is_refused(wc):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            "<xml><FromUserName>li</FromUserName><MsgType>text</MsgType><Content>&lol2;</Content>"
            "<MsgId>1</MsgId></xml>")
    r, sent = wc.send_xml(bomb)
    assert r.status_code == 400 and sent == []
    with pytest.raises(BadXml):
        parse_xml("<xml>" + "a" * 300_000 + "</xml>")


# --- (3) redelivery -----------------------------------------------------------------------------------

def test_a_redelivered_message_runs_and_answers_once(wc):
    _team(wc)
    first = wc.say("li", "/progress 签约ACME 销售额=50万", msg_id="4561255354251345929")
    again = wc.say("li", "/progress 签约ACME 销售额=50万", msg_id="4561255354251345929")
    assert len(first) == 1 and again == []
    assert wc.count(ProgressEntry) == 1


def test_a_redelivered_refusal_is_answered_once(wc):
    _team(wc)
    first = wc.say("li", "/team add @zhao rep", msg_id="4561255354251345930")  # only the manager may
    again = wc.say("li", "/team add @zhao rep", msg_id="4561255354251345930")
    assert len(first) == 1 and again == []


def test_an_answer_that_cannot_be_sent_goes_through_the_outbox(wc):
    _team(wc)
    wc.fake.script("message.send", errcode=45009, times=1)
    wc.say("li", "/progress 限流时记录 visits=1", msg_id="5550001")
    with wc.uow() as u:
        row = u.session.scalars(select(OutboxMessage)).one()
    assert (row.destination, row.dedupe_key) == ("user:li", "wecom-reply:5550001")
    sender = WeComSender(WeComApi(CORP_ID, SECRET, "1000002", api_url=wc.fake.url))
    assert drain(wc.uow, sender, wc.clock, "w1").sent == 1
    assert "限流时记录" in render.message_text(wc.fake.delivered("message.send")[-1].json)


# --- (4) the outbox against a group robot that says "too fast" -----------------------------------------

@pytest.fixture
def outbox_db(sqlite_url):
    engine = make_engine(sqlite_url)
    yield uow_factory(engine)
    engine.dispose()


def _enqueue(uow, clock, destination: str, texts: list[str]) -> None:
    with uow() as u:
        for text in texts:
            outbox_store.enqueue(u.session, platform="wecom", destination=destination,
                                 payload=reply_to_dict(Reply.text(text, private=False)), now=clock.now())


def drain_until_done(uow, sender, clock, *, limit_seconds: int = 600):
    events: list[tuple] = []
    for _ in range(limit_seconds):
        drain(uow, sender, clock, "w1", on_result=lambda m, r: events.append((clock.now(), m.id, r.status)))
        with uow() as u:
            if not u.session.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))).first():
                return events
        clock.advance(seconds=1)
    raise AssertionError(f"outbox not drained after {limit_seconds}s: {events}")


def test_45009_slows_the_outbox_down_and_everything_arrives_once_in_order(fake_wc, outbox_db, clock):
    webhook = fake_wc.add_robot("robotkey1")
    sender = WeComSender(WeComApi(CORP_ID, SECRET, "1000002", api_url=fake_wc.url),
                         robots=StaticRobots({"wrGroup1": Robot(webhook)}))
    texts = [f"第{i}条周报" for i in range(1, 6)]
    _enqueue(outbox_db, clock, "channel:wrGroup1", texts)
    fake_wc.script("webhook.send", errcode=45009, times=2)

    events = drain_until_done(outbox_db, sender, clock)

    assert [c.json["markdown"]["content"] for c in fake_wc.delivered("webhook.send")] == texts
    limited = [t for t, _, s in events if s == "rate_limited"]
    sent = [t for t, _, s in events if s == "sent"]
    assert len(limited) == 2 and len(sent) == 5
    assert limited[1] - limited[0] >= timedelta(seconds=60) and sent[0] - limited[1] >= timedelta(seconds=60)
    assert all(b - a >= timedelta(seconds=DEFAULT_PACE_SECONDS["wecom"]) for a, b in pairwise(sent))
    with outbox_db() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * 5
    assert OutboxConfig().pace_for("wecom") >= 60 / 20


def test_expired_token_is_refreshed_and_the_message_delivered(fake_wc, outbox_db, clock):
    sender = WeComSender(WeComApi(CORP_ID, SECRET, "1000002", api_url=fake_wc.url))
    _enqueue(outbox_db, clock, "user:li", ["一"])
    drain_until_done(outbox_db, sender, clock)
    fake_wc.expire_tokens()
    _enqueue(outbox_db, clock, "user:li", ["二"])
    drain_until_done(outbox_db, sender, clock)
    assert [c.answer["errcode"] for c in fake_wc.calls("message.send")] == [0, 42001, 0]
    assert len(fake_wc.calls("gettoken")) == 2
    assert [c.json["markdown"]["content"] for c in fake_wc.delivered("message.send")] == ["一", "二"]


def test_invalid_webhook_is_dead_with_its_error(fake_wc, outbox_db, clock):
    sender = WeComSender(WeComApi(CORP_ID, SECRET, "1000002", api_url=fake_wc.url),
                         robots=StaticRobots({"wrGone": Robot(f"{fake_wc.url}/cgi-bin/webhook/send?key=gone"),
                                              "wrEvil": Robot("https://evil.example/cgi-bin/webhook/send?key=x")}))
    _enqueue(outbox_db, clock, "channel:wrGone", ["x"])
    _enqueue(outbox_db, clock, "channel:wrEvil", ["y"])
    assert drain(outbox_db, sender, clock, "w1").dead == 2
    with outbox_db() as u:
        errors = sorted(r.last_error for r in u.session.scalars(select(OutboxMessage)))
    assert "93000" in errors[0] and "not a WeCom URL" in errors[1]


# --- rendering ----------------------------------------------------------------------------------------

def test_render_markdown_and_cards():
    reply = Reply(parts=(Text("✅ 已把 <@li> 加入 *华东一组*"), Table(("成员", "角色"), (("<@li|李雷>", "销售代表"),))),
                  private=False)
    app = render.render_app(reply, task_id="t1")
    assert app["msgtype"] == "markdown"
    assert app["markdown"]["content"] == "✅ 已把 @li 加入 **华东一组**\n\n**成员 | 角色**\n@李雷 | 销售代表"
    assert render.render_robot(reply)["markdown"]["content"].startswith("✅ 已把 <@li> 加入")
    card = render.render_app(Reply(parts=(Text("任务 #12 *拜访客户*"), Actions((
        Button("完成", "tb:done", "12", command="/task done 12", style="primary"),)))), task_id="t2")
    tc = card["template_card"]
    assert tc["main_title"]["title"] == "任务 #12 拜访客户" and tc["task_id"] == "t2"
    assert tc["button_list"] == [{"text": "完成", "style": 1, "key": "tb:/task done 12"}]
    long = Reply(parts=(Text("x" * 400), Actions((Button("撤销", "tb:u", "1", command="/progress undo"),))))
    md = render.render_app(long, task_id="t3")
    assert md["msgtype"] == "markdown" and "`/progress undo`" in md["markdown"]["content"]
    huge = render.render_markdown(Reply.text("汉" * 5000))
    assert len(huge["markdown"]["content"].encode()) <= render.APP_MARKDOWN_BYTES
