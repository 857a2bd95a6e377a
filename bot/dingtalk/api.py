"""DingTalk HTTP APIs the bot calls: app access token, robot messages to people and groups, group
custom-robot webhooks and sessionWebhooks. Blocking (stdlib urllib): call from worker threads only.

Base URLs: `https://api.dingtalk.com` (new API) and `https://oapi.dingtalk.com` (old API and robot
webhooks). `DINGTALK_API_URL` (settings.dingtalk.api_url) replaces both, for tests and proxies.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.http_json import DEFAULT_TIMEOUT, HttpAnswer, NetworkError, request_json

log = logging.getLogger("teambot.dingtalk.api")

API = "https://api.dingtalk.com"
OAPI = "https://oapi.dingtalk.com"
#: Hosts a group's custom-robot webhook may point at (besides the API_URL override's host).
WEBHOOK_HOSTS = frozenset({"oapi.dingtalk.com"})


class TokenError(Exception):
    """The app access token could not be obtained."""


def robot_msg_param(message: dict) -> tuple[str, dict]:
    """A rendered webhook-style message -> (msgKey, msgParam) of the robot message APIs
    (https://open.dingtalk.com/document/orgapp/message-types-and-data-format)."""
    kind = message.get("msgtype")
    if kind == "actionCard":
        card = message["actionCard"]
        btns = card.get("btns") or []
        if len(btns) == 1:
            return "sampleActionCard", {"title": card["title"], "text": card["text"],
                                        "singleTitle": btns[0]["title"], "singleURL": btns[0]["actionURL"]}
        if btns:
            btns = btns[:5]
            param = {"title": card["title"], "text": card["text"]}
            for i, b in enumerate(btns, 1):
                param[f"actionTitle{i}"] = b["title"]
                param[f"actionURL{i}"] = b["actionURL"]
            return f"sampleActionCard{len(btns)}", param
        return "sampleMarkdown", {"title": card["title"], "text": card["text"]}
    if kind == "markdown":
        return "sampleMarkdown", {"title": message["markdown"]["title"], "text": message["markdown"]["text"]}
    if kind == "text":
        return "sampleText", {"content": message["text"]["content"]}
    raise ValueError(f"cannot send msgtype {kind!r} through the robot API")


class DingTalkApi:
    """Thread-safe; the access token is cached until five minutes before it expires."""

    def __init__(self, app_key: str | None, app_secret: str | None, *, api_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, monotonic: Callable[[], float] = time.monotonic):
        self.app_key = app_key or ""
        self.app_secret = app_secret or ""
        self.api_base = (api_url or API).rstrip("/")
        self.oapi_base = (api_url or OAPI).rstrip("/")
        self.timeout = timeout
        self._monotonic = monotonic
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        override = urlsplit(api_url).hostname if api_url else None
        self.webhook_hosts = WEBHOOK_HOSTS | ({override} if override else set())
        self._override_host = override

    @classmethod
    def from_settings(cls, settings) -> DingTalkApi:
        d = settings.dingtalk
        return cls(d.app_key, d.app_secret, api_url=d.api_url)

    # -- token -----------------------------------------------------------------------------------
    def access_token(self) -> str:
        with self._lock:
            if self._token and self._monotonic() < self._token[1]:
                return self._token[0]
        if not (self.app_key and self.app_secret):
            raise TokenError("DINGTALK_APP_KEY / DINGTALK_APP_SECRET not set")
        try:
            ans = request_json("POST", f"{self.api_base}/v1.0/oauth2/accessToken",
                               {"appKey": self.app_key, "appSecret": self.app_secret}, timeout=self.timeout)
        except NetworkError as e:
            raise TokenError(f"network: {e}") from None
        token = ans.get("accessToken")
        if ans.status != 200 or not token:
            raise TokenError(f"HTTP {ans.status}: {ans.get('code') or ''} {ans.get('message') or ans.text}")
        expires = float(ans.get("expireIn") or 7200)
        with self._lock:
            self._token = (token, self._monotonic() + max(60.0, expires - 300))
        return token

    def invalidate_token(self) -> None:
        with self._lock:
            self._token = None

    def _robot_api(self, path: str, body: dict) -> HttpAnswer:
        token = self.access_token()
        return request_json("POST", f"{self.api_base}{path}", body,
                            headers={"x-acs-dingtalk-access-token": token}, timeout=self.timeout)

    # -- sending ---------------------------------------------------------------------------------
    def send_to_user(self, user_id: str, message: dict) -> HttpAnswer:
        """A 1:1 robot message (the app's robot; robotCode is the AppKey of an internal app)."""
        key, param = robot_msg_param(message)
        return self._robot_api("/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.app_key, "userIds": [user_id], "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False)})

    def send_to_group(self, open_conversation_id: str, message: dict) -> HttpAnswer:
        """A message from the app's robot into a group it was added to."""
        key, param = robot_msg_param(message)
        return self._robot_api("/v1.0/robot/groupMessages/send", {
            "robotCode": self.app_key, "openConversationId": open_conversation_id, "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False)})

    def webhook_allowed(self, url: str) -> bool:
        """Only DingTalk's own hosts (https), or the API_URL override's host, may receive posts:
        a webhook typed by a user must never make the bot call an arbitrary server."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        host = parts.hostname or ""
        if host == self._override_host and parts.scheme in ("http", "https"):
            return True
        return parts.scheme == "https" and host in self.webhook_hosts

    def post_webhook(self, url: str, message: dict) -> HttpAnswer:
        """POST a message to a custom-robot webhook or a sessionWebhook (URL already signed)."""
        if not self.webhook_allowed(url):
            raise ValueError(f"webhook host not allowed: {urlsplit(url).hostname!r}")
        return request_json("POST", url, message, timeout=self.timeout)
