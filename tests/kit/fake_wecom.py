"""A fake WeCom server API: a real HTTP server on 127.0.0.1 recording every request, plus helpers that
build encrypted callbacks the way WeCom sends them (written independently of bot.wecom.crypto, so
the two check each other).

    with FakeWeCom(corp_id="wwcorp", secret="s3cret") as wc:
        wc.set_user("li", "李雷")
        wc.add_robot("key1")
        wc.script("webhook.send", errcode=45009, times=2)     # the robot's 20-a-minute limit
        ...
        assert [c.json["markdown"]["content"] for c in wc.delivered("message.send")] == [...]

What it serves (method names of recorded Calls in brackets)
  * `GET /cgi-bin/gettoken?corpid&corpsecret` [gettoken]: "wt-N"; a wrong corp id/secret -> 40001.
  * `POST /cgi-bin/message/send?access_token` [message.send], `POST /cgi-bin/appchat/send` [appchat.send]:
    the token must be one this fake issued and did not expire (42001 otherwise).
  * `POST /cgi-bin/webhook/send?key=K` [webhook.send]: a group robot; an unknown key -> 93000.
  * `GET /cgi-bin/user/get?access_token&userid` [user.get]: users from set_user(), else 60111.
Scripts (consumed in order, per method): `script("message.send", errcode=45009, times=1)`.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ERRMSG = {45009: "api freq out of limit", 42001: "access_token expired", 40014: "invalid access_token",
          93000: "invalid webhook url", 60111: "userid not found", 40001: "invalid credential", -1: "system busy"}


@dataclass(frozen=True)
class Call:
    method: str
    query: dict
    json: dict
    status: int
    answer: dict
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.answer.get("errcode", 0) == 0


@dataclass
class _Script:
    times: int | None
    status: int
    body: dict


class FakeWeCom:
    def __init__(self, *, corp_id: str = "wwcorp", secret: str = "s3cret"):
        self.corp_id = corp_id
        self.secret = secret
        self.users: dict[str, str] = {}
        self.robots: set[str] = set()
        self._calls: list[Call] = []
        self._scripts: dict[str, list[_Script]] = {}
        self._tokens: set[str] = set()
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeWeCom:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-wecom", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeWeCom is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- configuration -----------------------------------------------------------------------
    def set_user(self, user_id: str, name: str = "") -> None:
        with self._cond:
            self.users[user_id] = name or user_id

    def add_robot(self, key: str) -> str:
        """Register a group robot; returns its webhook URL."""
        with self._cond:
            self.robots.add(key)
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    def expire_tokens(self) -> None:
        with self._cond:
            self._tokens.clear()

    def script(self, method: str, *, errcode: int | None = None, status: int = 200, body: dict | None = None,
               times: int | None = 1) -> None:
        if body is None:
            body = {"errcode": errcode if errcode is not None else -1,
                    "errmsg": ERRMSG.get(errcode if errcode is not None else -1, "error")}
        with self._cond:
            self._scripts.setdefault(method, []).append(_Script(times, status, body))

    def reset(self) -> None:
        with self._cond:
            self._calls.clear()
            self._scripts.clear()

    # -- inspection --------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def delivered(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls(method) if c.ok]

    def messages(self) -> list[Call]:
        """Accepted message posts of any kind (app, appchat, robot), in order."""
        return [c for c in self.calls() if c.ok and c.method in ("message.send", "appchat.send", "webhook.send")]

    # -- answering -----------------------------------------------------------------------------
    def _scripted(self, method: str) -> _Script | None:
        with self._cond:
            queue = self._scripts.get(method) or []
            if not queue:
                return None
            s = queue[0]
            if s.times is not None:
                s.times -= 1
                if s.times <= 0:
                    queue.pop(0)
            return s

    def answer(self, method: str, query: dict, body: dict) -> tuple[int, dict]:
        if method == "gettoken":
            if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": ERRMSG[40001]}
            token = f"wt-{next(self._seq)}"
            with self._cond:
                self._tokens.add(token)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if method in ("message.send", "appchat.send", "user.get"):
            with self._cond:
                valid = query.get("access_token") in self._tokens
            if not valid:
                return 200, {"errcode": 42001, "errmsg": ERRMSG[42001]}
        if method == "webhook.send":
            with self._cond:
                known = query.get("key") in self.robots
            if not known:
                return 200, {"errcode": 93000, "errmsg": ERRMSG[93000]}
        scripted = self._scripted(method)
        if scripted is not None:
            return scripted.status, dict(scripted.body)
        if method == "user.get":
            with self._cond:
                name = self.users.get(query.get("userid", ""))
            if name is None:
                return 200, {"errcode": 60111, "errmsg": ERRMSG[60111]}
            return 200, {"errcode": 0, "errmsg": "ok", "userid": query["userid"], "name": name}
        if method == "message.send":
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"m{next(self._seq)}"}
        if method in ("appchat.send", "webhook.send"):
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": "not found"}


_PATHS = {"/cgi-bin/gettoken": "gettoken", "/cgi-bin/message/send": "message.send",
          "/cgi-bin/appchat/send": "appchat.send", "/cgi-bin/webhook/send": "webhook.send",
          "/cgi-bin/user/get": "user.get"}


def _handler_for(fake: FakeWeCom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet
            pass

        def _handle(self) -> None:
            split = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            body = body if isinstance(body, dict) else {}
            method = _PATHS.get(split.path, split.path)
            status, answer = fake.answer(method, query, body)
            with fake._cond:
                fake._calls.append(Call(method, query, body, status, answer, time.monotonic()))
                fake._cond.notify_all()
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle

    return Handler


# --- WeCom's side of a callback (independent of bot.wecom.crypto) -------------------------------

def wx_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def wx_encrypt(aes_key43: str, receive_id: str, plaintext: str, *, random16: bytes | None = None) -> str:
    key = base64.b64decode(aes_key43 + "=")
    msg = plaintext.encode()
    data = (random16 or os.urandom(16)) + struct.pack(">I", len(msg)) + msg + receive_id.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_xml(user: str, content: str, msg_id: str, *, chat_id: str | None = None, corp_id: str = "wwcorp",
             agent_id: str = "1000002", created: int = 1764122400) -> str:
    chat = f"<ChatId>{cdata(chat_id)}</ChatId>" if chat_id else ""
    return (f"<xml><ToUserName>{cdata(corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID>{chat}</xml>")


def card_click_xml(user: str, key: str, task_id: str, *, corp_id: str = "wwcorp", agent_id: str = "1000002") -> str:
    return (f"<xml><ToUserName>{cdata(corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
            f"<CreateTime>1764122400</CreateTime><MsgType>{cdata('event')}</MsgType>"
            f"<Event>{cdata('template_card_event')}</Event><EventKey>{cdata(key)}</EventKey>"
            f"<TaskId>{cdata(task_id)}</TaskId><CardType>{cdata('button_interaction')}</CardType>"
            f"<ResponseCode>{cdata('rc1')}</ResponseCode><AgentID>{agent_id}</AgentID></xml>")


def envelope(encrypted: str, *, corp_id: str = "wwcorp", agent_id: str = "1000002") -> str:
    return (f"<xml><ToUserName>{cdata(corp_id)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<AgentID>{cdata(agent_id)}</AgentID></xml>")


def encrypted_callback(token: str, aes_key43: str, corp_id: str, plaintext_xml: str, *,
                       timestamp: str = "1764122400", nonce: str = "1372623149") -> tuple[str, str]:
    """(query string, body) of a POST /wecom/callback carrying `plaintext_xml`."""
    encrypted = wx_encrypt(aes_key43, corp_id, plaintext_xml)
    query = urlencode({"msg_signature": wx_signature(token, timestamp, nonce, encrypted),
                       "timestamp": timestamp, "nonce": nonce})
    return query, envelope(encrypted, corp_id=corp_id)
