"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that records every request.

Point the bot at it with SLACK_API_URL=fake.url (or SlackSettings(api_url=fake.url)); the real
slack_sdk WebClient then talks to it over HTTP, exactly as it would to slack.com.

    with FakeSlack() as slack:
        slack.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", real_name="王伟")
        ...  # run the bot against slack.url
        post = slack.wait_for("chat.postMessage")[0]
        assert post.params["channel"] == "D1"

What it serves
  * `POST|GET /api/<method>`: form-encoded, JSON or query-string parameters, token from the
    `Authorization: Bearer` header or a `token` parameter. Canned answers for auth.test, api.test,
    users.info (per-user profiles, see set_user), chat.postMessage, chat.postEphemeral,
    chat.update, chat.delete, chat.getPermalink, conversations.open (user U2 -> channel "DU2"),
    views.open/update/publish/push, files.getUploadURLExternal + the upload URL it hands out +
    files.completeUploadExternal (the files.uploadV2 flow), oauth.v2.access (codes registered with
    add_install). Any other method answers {"ok": false, "error": "unknown_method"}.
  * `POST /response/<token>`: a response_url; `.response_url(token)` builds one, `.responses(token)`
    returns what was posted to it.
  * `POST /upload/<file_id>`: the upload URL of files.getUploadURLExternal; the bytes are kept in
    `.uploads[file_id]`.

Every request becomes a `Call` in a thread-safe list: `.calls(method)`, `.wait_for(method, count)`.

Scripting trouble (consumed in order, per method):
  * `fail("chat.postMessage", status=429, headers={"Retry-After": "1"})`: HTTP error answers;
  * `error("chat.postMessage", "channel_not_found", times=None)`: `{"ok": false, ...}` bodies
    (`times=None` means for ever);
  * `slow("users.info", 2.0)` or `set_user(..., delay=2.0)`: answer late.
`reset()` forgets calls and scripts.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit

RESPONSE_URL = "response_url"  # the `method` of a Call recording a post to a response_url
UPLOAD = "upload"  # the `method` of a Call recording a file upload


@dataclass(frozen=True)
class Call:
    """One request the fake received."""
    method: str  # "chat.postMessage", or RESPONSE_URL / UPLOAD
    params: dict  # decoded body (JSON, or form fields) merged over the query string
    headers: dict  # header names lower-cased
    path: str = ""
    raw: bytes = b""
    at: float = 0.0  # time.monotonic() on arrival

    @property
    def token(self) -> str | None:
        """The bearer token the caller authenticated with (header, else `token` parameter)."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return self.params.get("token")

    def json(self, key: str):
        """A parameter that Slack accepts as a JSON string in forms (blocks, view, files)."""
        value = self.params.get(key)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class _Script:
    times: int | None  # None: for ever
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    delay: float = 0.0
    when: Callable[[dict], bool] | None = None


@dataclass
class FakeUser:
    id: str
    locale: str = "en-US"
    tz: str = "America/Los_Angeles"
    real_name: str = ""
    display_name: str = ""
    delay: float = 0.0  # seconds users.info waits before answering for this user
    is_bot: bool = False

    def to_api(self, include_locale: bool) -> dict:
        name = self.display_name or self.real_name or self.id.lower()
        user = {
            "id": self.id, "team_id": "T1", "name": name.lower().replace(" ", "."),
            "deleted": False, "real_name": self.real_name or name, "tz": self.tz,
            "tz_label": self.tz, "tz_offset": 0, "is_bot": self.is_bot,
            "profile": {"real_name": self.real_name or name, "display_name": self.display_name},
        }
        if include_locale:
            user["locale"] = self.locale
        return user


class FakeSlack:
    def __init__(self, *, team_id: str = "T1", bot_user_id: str = "UBOT", bot_id: str = "BBOT",
                 default_locale: str = "en-US", default_tz: str = "America/Los_Angeles"):
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.default_locale = default_locale
        self.default_tz = default_tz
        self.users: dict[str, FakeUser] = {}
        self.uploads: dict[str, bytes] = {}
        #: OAuth code -> what oauth.v2.access answers for it (add_install).
        self.installs: dict[str, dict] = {}
        self._calls: list[Call] = []
        self._scripts: dict[str, list[_Script]] = {}
        self._cond = threading.Condition()
        self._seq = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Web API base URL, for SLACK_API_URL / WebClient(base_url=...)."""
        return f"{self.base}/api/"

    def response_url(self, token: str = "r1") -> str:
        return f"{self.base}/response/{token}"

    # -- configuration -----------------------------------------------------------------------
    def set_user(self, user_id: str, *, locale: str | None = None, tz: str | None = None,
                 real_name: str = "", display_name: str = "", delay: float = 0.0,
                 is_bot: bool = False) -> FakeUser:
        user = FakeUser(user_id, locale or self.default_locale, tz or self.default_tz, real_name,
                        display_name, delay, is_bot)
        with self._cond:
            self.users[user_id] = user
        return user

    def add_install(self, code: str, *, team_id: str = "T9", team_name: str = "Other Co",
                    token: str = "xoxb-installed", bot_user_id: str = "UBOT9", user_id: str = "U900",
                    scopes: str = "commands,chat:write") -> None:
        """Make oauth.v2.access exchange `code` for a bot installation in workspace `team_id`."""
        with self._cond:
            self.installs[code] = {
                "ok": True, "app_id": "A1", "access_token": token, "token_type": "bot", "scope": scopes,
                "bot_user_id": bot_user_id, "team": {"id": team_id, "name": team_name}, "enterprise": None,
                "is_enterprise_install": False, "authed_user": {"id": user_id},
            }

    def fail(self, method: str, status: int = 500, headers: dict | None = None, times: int | None = 1,
             body: dict | None = None, when: Callable[[dict], bool] | None = None) -> None:
        """The next `times` calls of `method` get HTTP `status` (e.g. 429 with Retry-After)."""
        if body is None:
            body = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
        self._add(method, _Script(times, status, dict(headers or {}), body, 0.0, when))

    def error(self, method: str, error: str, times: int | None = 1,
              when: Callable[[dict], bool] | None = None, **extra) -> None:
        """The next `times` calls of `method` get HTTP 200 `{"ok": false, "error": error}`."""
        self._add(method, _Script(times, 200, {}, {"ok": False, "error": error, **extra}, 0.0, when))

    def slow(self, method: str, seconds: float, times: int | None = None,
             when: Callable[[dict], bool] | None = None) -> None:
        """Calls of `method` (matching `when(params)`) answer normally after `seconds`."""
        self._add(method, _Script(times, 0, {}, None, seconds, when))

    def reset(self) -> None:
        with self._cond:
            self._calls.clear()
            self._scripts.clear()
            self.uploads.clear()

    def _add(self, method: str, script: _Script) -> None:
        with self._cond:
            self._scripts.setdefault(method, []).append(script)

    # -- inspection --------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self, token: str | None = None) -> list[Call]:
        """Posts to response_url(token) (any token when None); `.params` is the JSON posted."""
        return [c for c in self.calls(RESPONSE_URL)
                if token is None or c.path.rstrip("/").endswith("/" + token)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least `count` calls of `method` arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self._calls})
                    raise AssertionError(f"waited {timeout}s for {count} x {method}, got {len(found)}; "
                                         f"methods seen: {seen}")
                self._cond.wait(left)

    # -- request handling (called from server threads) -------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _script_for(self, method: str, params: dict) -> _Script | None:
        with self._cond:
            for s in self._scripts.get(method, []):
                if s.when is not None and not s.when(params):
                    continue
                if s.times is not None:
                    s.times -= 1
                    if s.times <= 0:
                        self._scripts[method].remove(s)
                return s
        return None

    def _next_ts(self) -> str:
        with self._cond:
            self._seq += 1
            return f"{int(time.time())}.{self._seq:06d}"

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def answer(self, method: str, params: dict) -> tuple[int, dict, dict]:
        """(status, headers, body) for one API call."""
        script = self._script_for(method, params)
        if script is not None:
            self._sleep(script.delay)
            if script.body is not None:
                return script.status, script.headers, script.body
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(params)

    # -- canned answers ------------------------------------------------------------------------
    def _api_api_test(self, p: dict) -> dict:
        return {"ok": True, "args": p}

    def _api_auth_test(self, p: dict) -> dict:
        return {"ok": True, "url": "https://teambot-test.slack.com/", "team": "Test Team",
                "user": "teambot", "team_id": self.team_id, "user_id": self.bot_user_id,
                "bot_id": self.bot_id, "is_enterprise_install": False}

    def _api_users_info(self, p: dict) -> dict:
        uid = p.get("user") or ""
        with self._cond:
            user = self.users.get(uid)
        if user is None:
            if not uid:
                return {"ok": False, "error": "user_not_found"}
            user = FakeUser(uid, self.default_locale, self.default_tz)
        self._sleep(user.delay)
        include = str(p.get("include_locale", "")).lower() in ("1", "true")
        return {"ok": True, "user": user.to_api(include)}

    def _message(self, p: dict, ts: str) -> dict:
        msg = {"type": "message", "text": p.get("text", ""), "user": self.bot_user_id,
               "bot_id": self.bot_id, "ts": ts}
        if p.get("blocks") is not None:
            msg["blocks"] = json.loads(p["blocks"]) if isinstance(p["blocks"], str) else p["blocks"]
        return msg

    def _api_chat_postMessage(self, p: dict) -> dict:
        ts = self._next_ts()
        return {"ok": True, "channel": p.get("channel"), "ts": ts, "message": self._message(p, ts)}

    def _api_chat_postEphemeral(self, p: dict) -> dict:
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_update(self, p: dict) -> dict:
        return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts"), "text": p.get("text", ""),
                "message": self._message(p, p.get("ts") or "")}

    def _api_chat_delete(self, p: dict) -> dict:
        return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}

    def _api_chat_getPermalink(self, p: dict) -> dict:
        channel, ts = p.get("channel") or "", str(p.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel,
                "permalink": f"https://teambot-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"}

    def _api_oauth_v2_access(self, p: dict) -> dict:
        with self._cond:
            found = self.installs.get(p.get("code") or "")
        return found or {"ok": False, "error": "invalid_code"}

    def _api_conversations_open(self, p: dict) -> dict:
        users = str(p.get("users") or "")
        first = users.split(",")[0].strip()
        if not first:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + first, "is_im": True, "user": first}}

    def _view(self, p: dict) -> dict:
        view = p.get("view")
        view = json.loads(view) if isinstance(view, str) else (view or {})
        with self._cond:
            self._seq += 1
            vid = f"V{self._seq:06d}"
        return {"ok": True, "view": {"id": p.get("view_id") or vid, **view}}

    _api_views_open = _api_views_update = _api_views_publish = _api_views_push = _view

    def _api_files_getUploadURLExternal(self, p: dict) -> dict:
        with self._cond:
            self._seq += 1
            fid = f"F{self._seq:06d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{fid}", "file_id": fid}

    def _api_files_completeUploadExternal(self, p: dict) -> dict:
        files = p.get("files")
        files = json.loads(files) if isinstance(files, str) else (files or [])
        out = []
        for f in files:
            fid = f.get("id")
            with self._cond:
                uploaded = fid in self.uploads
            if not uploaded:
                return {"ok": False, "error": "file_not_found"}
            out.append({"id": fid, "title": f.get("title") or fid, "size": len(self.uploads[fid])})
        return {"ok": True, "files": out}


def _decode(raw: bytes, content_type: str) -> dict:
    text = raw.decode("utf-8", errors="replace")
    if not text:
        return {}
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            return data if isinstance(data, dict) else {"_json": data}
        except ValueError:
            return {"_raw": text}
    return dict(parse_qsl(text, keep_blank_values=True))


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlack/1.0"
        protocol_version = "HTTP/1.1"  # keep-alive, as slack.com: the outbox's pooled client reuses connections

        def log_message(self, format, *args):  # quiet
            pass

        def _reply(self, status: int, body: dict | str, headers: dict | None = None) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(body, str)
                             else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            params.update(_decode(raw, headers.get("content-type", "")))
            now = time.monotonic()
            path = split.path
            if path.startswith("/api/"):
                method = path[len("/api/"):].strip("/")
                fake._record(Call(method, params, headers, path, raw, now))
                status, extra, body = fake.answer(method, params)
                self._reply(status, body, extra)
            elif path.startswith("/response/"):
                fake._record(Call(RESPONSE_URL, params, headers, path, raw, now))
                script = fake._script_for(RESPONSE_URL, params)
                if script is not None and script.body is not None:
                    self._reply(script.status, script.body, script.headers)
                else:
                    self._reply(200, "ok")
            elif path.startswith("/upload/"):
                fid = path[len("/upload/"):].strip("/")
                with fake._cond:
                    fake.uploads[fid] = raw
                fake._record(Call(UPLOAD, {"file_id": fid, "size": len(raw)}, headers, path, raw, now))
                self._reply(200, f"OK - {len(raw)}")
            else:
                self._reply(404, {"ok": False, "error": "not_found"})

        do_POST = _handle
        do_GET = _handle

    return Handler
