"""A fake DingTalk: a real HTTP server on 127.0.0.1 that records every request, plus helpers that
build signed outgoing-robot callbacks the way DingTalk sends them.

Point the bot at it with DINGTALK_API_URL=fake.url (DingTalkSettings(api_url=fake.url)); both the new
API (`/v1.0/...`) and the old host's paths (`/robot/send`, `/robot/sendBySession`) are served here.

    with FakeDingTalk() as dt:
        hook = dt.add_robot("tok1", secret="SECabc")          # a group's custom robot
        dt.script("robot.send", errcode=130101, times=2)      # "send too fast", twice
        ...                                                   # send through hook.webhook
        assert [c.json["markdown"]["text"] for c in dt.calls("robot.send") if c.ok] == [...]

What it serves (method names of recorded Calls in brackets)
  * `POST /robot/send?access_token=T[&timestamp=..&sign=..]` [robot.send]: a custom robot. A robot
    added with a secret checks the signature exactly as DingTalk does (HmacSHA256 of
    "timestamp\\nsecret", timestamp within an hour of real time) and answers errcode 310000 otherwise;
    an unknown access_token answers 300001.
  * `POST /robot/sendBySession?session=S` [session]: a conversation's sessionWebhook.
  * `POST /v1.0/oauth2/accessToken` [oauth2.accessToken]: a fresh token "at-N" per call.
  * `POST /v1.0/robot/oToMessages/batchSend` [robot.oToMessages] and
    `POST /v1.0/robot/groupMessages/send` [robot.groupMessages]: the app robot's APIs; the
    `x-acs-dingtalk-access-token` header must be a token this fake issued and did not revoke (401).

Scripts (consumed in order, per method): `script("robot.send", errcode=130101, times=2)` answers
HTTP 200 `{"errcode": 130101, ...}`; `script(m, status=503)` an HTTP error; `times=None` for ever.
`Call.ok` tells whether the fake accepted the message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit

ERRMSG = {
    130101: "send too fast, exceed 20 times per minute",
    310000: "sign not match",
    300001: "token is not exist",
    -1: "system busy",
}


@dataclass(frozen=True)
class Call:
    method: str
    query: dict
    headers: dict
    json: dict
    path: str
    status: int
    answer: dict
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.answer.get("errcode", 0) == 0 and "code" not in self.answer


@dataclass
class _Script:
    times: int | None
    status: int = 200
    body: dict | None = None


@dataclass
class Robot:
    token: str
    secret: str | None
    base: str

    @property
    def webhook(self) -> str:
        return f"{self.base}/robot/send?access_token={self.token}"


@dataclass
class FakeDingTalk:
    robots: dict[str, Robot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._calls: list[Call] = []
        self._scripts: dict[str, list[_Script]] = {}
        self._tokens: set[str] = set()
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeDingTalk:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-dingtalk", daemon=True).start()
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
        assert self._server is not None, "FakeDingTalk is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- configuration -----------------------------------------------------------------------
    def add_robot(self, token: str, secret: str | None = None) -> Robot:
        robot = Robot(token, secret, self.url)
        with self._cond:
            self.robots[token] = robot
        return robot

    def session_url(self, session: str = "s1") -> str:
        return f"{self.url}/robot/sendBySession?session={session}"

    def script(self, method: str, *, errcode: int | None = None, status: int = 200, body: dict | None = None,
               times: int | None = 1) -> None:
        if body is None and errcode is not None:
            body = {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}
        if body is None:
            body = {"code": "ServiceUnavailable", "message": "busy"} if status >= 400 else {"errcode": 0}
        with self._cond:
            self._scripts.setdefault(method, []).append(_Script(times, status, body))

    def revoke_tokens(self) -> None:
        with self._cond:
            self._tokens.clear()

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

    # -- answering (server threads) ------------------------------------------------------------
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

    def answer(self, method: str, query: dict, headers: dict, body: dict) -> tuple[int, dict]:
        if method == "oauth2.accessToken":
            if not body.get("appKey") or not body.get("appSecret"):
                return 400, {"code": "InvalidParameter", "message": "appKey and appSecret are required"}
            token = f"at-{next(self._seq)}"
            with self._cond:
                self._tokens.add(token)
            return 200, {"accessToken": token, "expireIn": 7200}
        if method.startswith(("robot.o", "robot.g")):
            with self._cond:
                known = headers.get("x-acs-dingtalk-access-token") in self._tokens
            if not known:
                return 401, {"code": "InvalidAuthentication", "message": "token is invalid"}
        if method == "robot.send":
            with self._cond:
                robot = self.robots.get(query.get("access_token", ""))
            if robot is None:
                return 200, {"errcode": 300001, "errmsg": ERRMSG[300001]}
            if robot.secret and not _sign_ok(query, robot.secret):
                return 200, {"errcode": 310000, "errmsg": ERRMSG[310000]}
        scripted = self._scripted(method)
        if scripted is not None:
            return scripted.status, dict(scripted.body or {})
        if method in ("robot.send", "session"):
            return 200, {"errcode": 0, "errmsg": "ok"}
        if method == "robot.oToMessages":
            return 200, {"processQueryKey": f"pq{next(self._seq)}", "invalidStaffIdList": [],
                         "flowControlledStaffIdList": []}
        if method == "robot.groupMessages":
            return 200, {"processQueryKey": f"pq{next(self._seq)}"}
        return 404, {"code": "NotFound", "message": method}


def _sign_ok(query: dict, secret: str) -> bool:
    ts, sign = query.get("timestamp", ""), query.get("sign", "")
    if not ts.isdigit() or abs(int(time.time() * 1000) - int(ts)) > 3600_000:
        return False
    return hmac.compare_digest(sign_value(ts, secret), sign)


_PATHS = {
    "/robot/send": "robot.send",
    "/robot/sendBySession": "session",
    "/v1.0/oauth2/accessToken": "oauth2.accessToken",
    "/v1.0/robot/oToMessages/batchSend": "robot.oToMessages",
    "/v1.0/robot/groupMessages/send": "robot.groupMessages",
}


def _handler_for(fake: FakeDingTalk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet
            pass

        def do_POST(self) -> None:
            split = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            method = _PATHS.get(split.path, split.path)
            status, answer = fake.answer(method, query, headers, body if isinstance(body, dict) else {})
            with fake._cond:
                fake._calls.append(Call(method, query, headers, body, split.path, status, answer, time.monotonic()))
                fake._cond.notify_all()
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


# --- building DingTalk's side of an outgoing-robot callback ---------------------------------------

def sign_value(timestamp: str | int, secret: str) -> str:
    """DingTalk's signature, written independently of bot.dingtalk.signing."""
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def signed_headers(secret: str, timestamp_ms: int) -> dict:
    return {"timestamp": str(timestamp_ms), "sign": sign_value(timestamp_ms, secret),
            "Content-Type": "application/json; charset=utf-8"}


_msg_ids = itertools.count(1)


def robot_message(text: str, *, sender: str, nick: str = "", conversation: str = "cidG1", group: bool = True,
                  at_staff_ids: list[str] | tuple[str, ...] = (), msg_id: str | None = None,
                  session_webhook: str = "https://oapi.dingtalk.com/robot/sendBySession?session=x",
                  created_ms: int | None = None, bot_id: str = "$:LWCP_v1:$bot") -> dict:
    """The JSON DingTalk posts for a message to the robot (the robot's own @ already removed from
    text.content, leaving the leading space DingTalk leaves)."""
    at_users = [{"dingtalkId": bot_id}] if group else []
    at_users += [{"dingtalkId": f"$:LWCP_v1:${s}", "staffId": s} for s in at_staff_ids]
    created = created_ms or int(time.time() * 1000)
    return {
        "conversationId": conversation, "atUsers": at_users, "chatbotCorpId": "dingcorp",
        "chatbotUserId": bot_id, "msgId": msg_id or f"msg{next(_msg_ids):06d}", "senderNick": nick or sender,
        "isAdmin": False, "senderStaffId": sender, "sessionWebhookExpiredTime": created + 5400_000,
        "createAt": created, "senderCorpId": "dingcorp", "conversationType": "2" if group else "1",
        "senderId": f"$:LWCP_v1:${sender}", "conversationTitle": "华东销售一组" if group else "",
        "isInAtList": True, "sessionWebhook": session_webhook, "text": {"content": " " + text},
        "robotCode": "dingrobot", "msgtype": "text",
    }
