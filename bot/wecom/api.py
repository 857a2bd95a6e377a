"""WeCom server APIs the bot calls (https://developer.work.weixin.qq.com/document/path/90664):
access token (`/cgi-bin/gettoken`, cached), app messages to people (`/cgi-bin/message/send`) and to
app group chats (`/cgi-bin/appchat/send`), group robot webhooks (`/cgi-bin/webhook/send?key=`), and
member names (`/cgi-bin/user/get`). Blocking (stdlib urllib): call from worker threads only.

Base URL `https://qyapi.weixin.qq.com`; `WECOM_API_URL` (settings.wecom.api_url) replaces it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from bot.kit.http_json import DEFAULT_TIMEOUT, HttpAnswer, NetworkError, request_json
from bot.kit.http_pool import HttpPool
from bot.kit.platform_api import TokenCache, Webhooks

log = logging.getLogger("teambot.wecom.api")

API = "https://qyapi.weixin.qq.com"
WEBHOOK_HOSTS = frozenset({"qyapi.weixin.qq.com"})
#: Members one app message (message/send `touser`, "a|b|c") may go to.
APP_MESSAGE_BATCH = 1000
#: errcodes meaning the access token is invalid or expired: fetch a new one.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class TokenError(Exception):
    """The access token could not be obtained. `errcode` is WeCom's, when it answered."""

    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode


class WeComApi:
    """Thread-safe; the access token is cached (bot.kit.platform_api.TokenCache), and so are names."""

    def __init__(self, corp_id: str | None, secret: str | None, agent_id: str | int | None, *,
                 api_url: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 monotonic: Callable[[], float] = time.monotonic, name_cache_seconds: float = 3600.0):
        self.corp_id = corp_id or ""
        self.secret = secret or ""
        self.agent_id = agent_id
        self.base = (api_url or API).rstrip("/")
        self.timeout = timeout
        self._monotonic = monotonic
        self.token = TokenCache(monotonic)
        #: Group robot webhooks: WeCom's host only.
        #: Keep-alive connections to WeCom, shared by the sender threads.
        self.http = HttpPool(timeout=timeout)
        self.webhooks = Webhooks(WEBHOOK_HOSTS, api_url, timeout=timeout, http=self.http)
        self._lock = threading.Lock()
        self._names: dict[str, tuple[str | None, float]] = {}
        self._name_ttl = name_cache_seconds

    @classmethod
    def from_settings(cls, settings) -> WeComApi:
        w = settings.wecom
        return cls(w.corp_id, w.secret, w.agent_id, api_url=w.api_url)

    @property
    def agent_id_value(self):
        try:
            return int(self.agent_id)  # the API wants a number
        except (TypeError, ValueError):
            return self.agent_id

    # -- token -----------------------------------------------------------------------------------
    def access_token(self) -> str:
        return self.token.get(self._fetch_token)

    def _fetch_token(self) -> tuple[str, float]:
        if not (self.corp_id and self.secret):
            raise TokenError("WECOM_CORP_ID / WECOM_SECRET not set")
        url = f"{self.base}/cgi-bin/gettoken?corpid={quote(self.corp_id)}&corpsecret={quote(self.secret)}"
        try:
            ans = request_json("GET", url, timeout=self.timeout, http=self.http)
        except NetworkError as e:
            raise TokenError(f"network: {e}") from None
        token = (ans.data or {}).get("access_token")
        if ans.status != 200 or ans.errcode not in (0, None) or not token:
            raise TokenError(f"gettoken: HTTP {ans.status} errcode {ans.errcode}: {ans.errmsg or ans.text[:200]}",
                             ans.errcode)
        return token, float((ans.data or {}).get("expires_in") or 7200)

    def _call(self, method: str, path: str, body: dict | None = None, query: str = "") -> HttpAnswer:
        token = self.access_token()
        url = f"{self.base}{path}?access_token={quote(token)}" + (f"&{query}" if query else "")
        ans = request_json(method, url, body, timeout=self.timeout, http=self.http)
        if ans.errcode in TOKEN_ERRORS:
            self.token.invalidate()
        return ans

    # -- messages --------------------------------------------------------------------------------
    def send_to_user(self, user_id: str, message: dict) -> HttpAnswer:
        """An app message (`message` is {"msgtype": ..., <msgtype>: {...}}) to one member."""
        return self.send_to_users([user_id], message)

    def send_to_users(self, user_ids: list[str], message: dict) -> HttpAnswer:
        """One app message to each of up to APP_MESSAGE_BATCH members, in one call; the answer's
        `invaliduser` names the ones it could not reach."""
        if not 1 <= len(user_ids) <= APP_MESSAGE_BATCH:
            raise ValueError(f"{len(user_ids)} user ids: an app message takes 1 to {APP_MESSAGE_BATCH}")
        return self._call("POST", "/cgi-bin/message/send",
                          {"touser": "|".join(user_ids), "agentid": self.agent_id_value, **message})

    def send_to_chat(self, chat_id: str, message: dict) -> HttpAnswer:
        """An app message into a group chat the app created (appchat)."""
        return self._call("POST", "/cgi-bin/appchat/send", {"chatid": chat_id, **message})

    # -- people ----------------------------------------------------------------------------------
    def user_name(self, user_id: str) -> str | None:
        """The member's name (the userid itself when WeCom withholds names from the app), or None
        when WeCom does not know the userid or cannot be asked. Answers are cached (the unknown ones
        too) for name_cache_seconds."""
        now = self._monotonic()
        with self._lock:
            hit = self._names.get(user_id)
            if hit and hit[1] > now:
                return hit[0]
        try:
            ans = self._call("GET", "/cgi-bin/user/get", query=f"userid={quote(user_id)}")
        except (NetworkError, TokenError) as e:
            log.warning("user/get %s failed: %s", user_id, e)
            return None  # not cached: try again next time
        if ans.errcode not in (0, 60111, 46004, 40031):  # 60111/46004: no such user; 40031 bad id
            return None
        # Apps created since mid-2022 get no name from user/get: the userid stands in for it.
        name = (str((ans.data or {}).get("name") or "") or user_id) if ans.errcode == 0 else None
        with self._lock:
            self._names[user_id] = (name or None, now + self._name_ttl)
        return name or None
