"""DingTalk HTTP APIs the bot calls: app access token, robot messages to people and groups, group
custom-robot webhooks and sessionWebhooks. Blocking (stdlib urllib): call from worker threads only.

Base URLs: `https://api.dingtalk.com` (new API) and `https://oapi.dingtalk.com` (old API and robot
webhooks). `DINGTALK_API_URL` (settings.dingtalk.api_url) replaces both, for tests and proxies.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from bot.kit.http_json import DEFAULT_TIMEOUT, HttpAnswer, NetworkError, request_json
from bot.kit.http_pool import HttpPool
from bot.kit.platform_api import TokenCache, Webhooks

log = logging.getLogger("teambot.dingtalk.api")

API = "https://api.dingtalk.com"
OAPI = "https://oapi.dingtalk.com"
#: People one robot 1:1 call (oToMessages/batchSend) may carry.
ROBOT_BATCH = 20
#: Hosts a group's custom-robot webhook or a sessionWebhook may point at.
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
    """Thread-safe; the access token is cached (bot.kit.platform_api.TokenCache)."""

    def __init__(self, app_key: str | None, app_secret: str | None, *, api_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, monotonic: Callable[[], float] = time.monotonic):
        self.app_key = app_key or ""
        self.app_secret = app_secret or ""
        self.api_base = (api_url or API).rstrip("/")
        self.oapi_base = (api_url or OAPI).rstrip("/")
        self.timeout = timeout
        self.token = TokenCache(monotonic)
        #: Custom-robot webhooks and sessionWebhooks: DingTalk's hosts only.
        #: Keep-alive connections to DingTalk, shared by the sender threads.
        self.http = HttpPool(timeout=timeout)
        self.webhooks = Webhooks(WEBHOOK_HOSTS, api_url, timeout=timeout, http=self.http)

    @classmethod
    def from_settings(cls, settings) -> DingTalkApi:
        d = settings.dingtalk
        return cls(d.app_key, d.app_secret, api_url=d.api_url)

    # -- token -----------------------------------------------------------------------------------
    def access_token(self) -> str:
        return self.token.get(self._fetch_token)

    def _fetch_token(self) -> tuple[str, float]:
        if not (self.app_key and self.app_secret):
            raise TokenError("DINGTALK_APP_KEY / DINGTALK_APP_SECRET not set")
        try:
            ans = request_json("POST", f"{self.api_base}/v1.0/oauth2/accessToken",
                               {"appKey": self.app_key, "appSecret": self.app_secret}, timeout=self.timeout,
                               http=self.http)
        except NetworkError as e:
            raise TokenError(f"network: {e}") from None
        token = ans.get("accessToken")
        if ans.status != 200 or not token:
            raise TokenError(f"HTTP {ans.status}: {ans.get('code') or ''} {ans.get('message') or ans.text}")
        return token, float(ans.get("expireIn") or 7200)

    def _robot_api(self, path: str, body: dict) -> HttpAnswer:
        token = self.access_token()
        return request_json("POST", f"{self.api_base}{path}", body,
                            headers={"x-acs-dingtalk-access-token": token}, timeout=self.timeout,
                            http=self.http)

    # -- sending ---------------------------------------------------------------------------------
    def send_to_user(self, user_id: str, message: dict) -> HttpAnswer:
        """A 1:1 robot message (the app's robot; robotCode is the AppKey of an internal app)."""
        return self.send_to_users([user_id], message)

    def send_to_users(self, user_ids: list[str], message: dict) -> HttpAnswer:
        """One 1:1 robot message to each of up to ROBOT_BATCH people, in one call; the answer lists
        the ids that were invalid or flow-controlled."""
        if not 1 <= len(user_ids) <= ROBOT_BATCH:
            raise ValueError(f"{len(user_ids)} user ids: the robot takes 1 to {ROBOT_BATCH} a call")
        key, param = robot_msg_param(message)
        return self._robot_api("/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.app_key, "userIds": list(user_ids), "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False)})

    def send_to_group(self, open_conversation_id: str, message: dict) -> HttpAnswer:
        """A message from the app's robot into a group it was added to."""
        key, param = robot_msg_param(message)
        return self._robot_api("/v1.0/robot/groupMessages/send", {
            "robotCode": self.app_key, "openConversationId": open_conversation_id, "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False)})
