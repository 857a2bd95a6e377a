"""The outbox's DingTalk sender: neutral Reply payload -> a DingTalk message.

Destinations (reminders.outbox / commands.core.reply.Outgoing):
  * "channel:<conversationId>": the team's group. When the team has a custom robot (webhook URL and
    `SEC...` signing secret, set with `/team robot` or config), the post goes to that webhook, signed
    with `&timestamp=..&sign=..`; otherwise through the app's robot (`/v1.0/robot/groupMessages/send`,
    the group's openConversationId), which works in every group the app's robot was added to.
  * "user:<staffId>": a 1:1 message from the app's robot (`/v1.0/robot/oToMessages/batchSend`).
    Identical messages to several people (the Friday nudge) go out together, up to 20 a call
    (`send_many`: the outbox groups them); each person's outcome comes from the answer's
    invalidStaffIdList (permanent) and flowControlledStaffIdList (rate limited, that person only).
    The robot's 1:1 chat is where people answer the bot, so it is preferred to work notices (which
    take 100 a call, but land in the one-way 工作通知 conversation, need an agent id and report
    each person's outcome only asynchronously).

Outcomes (the body's `errcode` is what counts: the webhook answers HTTP 200 for its errors):
  * errcode 0                                   -> sent
  * 130101 "send too fast" / 410100 (20 a minute per robot exceeded)
                                                -> rate_limited(60 s): the outbox waits, then retries,
                                                   without counting a failed attempt
  * HTTP 429, API throttling (the app's rate)    -> rate_limited(Retry-After), the whole platform
  * HTTP 5xx, network errors, errcode -1 (busy)  -> transient (backoff, dead after max_attempts)
  * 401 / InvalidAuthentication (app token)      -> token dropped and fetched again; transient
  * 310000 (signature, keyword or IP allow-list), 300001 (bad token), 400013 (group gone), any other
    errcode, other 4xx                          -> permanent: dead at once, the errcode kept for the
                                                   operator (`teambot outbox --dead`)

Pacing: 20 messages a minute per robot is the outbox's per-destination pacing
(reminders.outbox.DEFAULT_PACE_SECONDS["dingtalk"] == 3.0 s, shared by every replica through the
database). One team has one robot, so per destination is per robot.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.dingtalk import render
from bot.dingtalk.api import ROBOT_BATCH, DingTalkApi, HttpAnswer, NetworkError, TokenError
from bot.dingtalk.signing import signed_webhook_url
from bot.kit import delivery
from bot.kit.delivery import TOO_FAST_WAIT, Undeliverable
from bot.kit.robots import Robot, RobotLookup, StaticRobots
from reminders.outbox import PLATFORM as WHOLE_PLATFORM
from reminders.outbox import SendResult

log = logging.getLogger("teambot.dingtalk.sender")

PLATFORM = "dingtalk"
#: What the outbox should keep between two messages to one robot (20 a minute).
PACE_SECONDS = 3.0
TOO_FAST = frozenset({130101, 410100})
TRANSIENT_ERRCODES = frozenset({-1})
THROTTLED_CODES = ("Throttling", "QpsLimit", "FlowControl", "RateLimit")


def classify_webhook(ans: HttpAnswer) -> SendResult:
    """A custom-robot webhook / sessionWebhook answer -> SendResult."""
    return delivery.errcode_result(ans, too_fast=TOO_FAST, transient=TRANSIENT_ERRCODES)


def classify_app(ans: HttpAnswer, user_id: str | None = None) -> SendResult:
    """A robot message API answer (api.dingtalk.com/v1.0/robot/...) -> SendResult."""
    code = str(ans.get("code") or "")
    error = f"HTTP {ans.status} {code}: {ans.get('message') or ans.text[:200]}".strip()
    if ans.status == 200:
        if user_id and user_id in (ans.get("flowControlledStaffIdList") or []):
            return SendResult.rate_limited(TOO_FAST_WAIT, f"flow controlled: {user_id}")
        if user_id and user_id in (ans.get("invalidStaffIdList") or []):
            return SendResult.permanent(f"invalid staff id: {user_id}")
        return SendResult.sent()
    if ans.status == 429 or any(t.lower() in code.lower() for t in THROTTLED_CODES):
        # The API's own rate for the app, not one person's: every destination waits.
        return SendResult.rate_limited(delivery.retry_after(ans), error, scope=WHOLE_PLATFORM)
    if ans.status >= 500:
        return SendResult.transient(error)
    return SendResult.permanent(error)


def _user(destination: str) -> str:
    """The id of a `user:` destination (Undeliverable otherwise: only people go out together)."""
    kind, ident = delivery.destination(destination)
    if kind != "user":
        raise Undeliverable(SendResult.permanent(f"{destination}: only people's messages go out together"))
    return ident


def _auth_failed(ans: HttpAnswer) -> bool:
    code = str(ans.get("code") or "")
    return ans.status == 401 or "InvalidAuthentication" in code or "token" in code.lower()


class DingTalkSender:
    """reminders.outbox.Sender for DingTalk. Blocking; the outbox calls it from its own thread."""

    platform = PLATFORM

    def __init__(self, api: DingTalkApi, *, robots: RobotLookup | None = None,
                 now_ms: Callable[[], int] | None = None):
        self.api = api
        self.robots = robots or StaticRobots()
        # Webhook signatures are checked against DingTalk's real clock, never a test clock.
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))

    @classmethod
    def from_settings(cls, settings, *, robots: RobotLookup | None = None) -> DingTalkSender:
        return cls(DingTalkApi.from_settings(settings), robots=robots)

    def send(self, platform: str, destination: str, payload: dict) -> SendResult:
        try:
            kind, ident = delivery.destination(destination)
            _, message = delivery.rendered(payload, destination,
                                           lambda reply: render.render(reply, group=kind == "channel"))
        except Undeliverable as e:
            return e.result
        try:
            if kind == "channel":
                robot = self.robots(ident)
                if robot is not None:
                    return self.post_robot(robot, message)
                return self._app(lambda: self.api.send_to_group(ident, message))
            return self._app(lambda: self.api.send_to_user(ident, message), user_id=ident)
        except NetworkError as e:
            return SendResult.transient(f"network: {e}")

    def batch_limit(self, platform: str) -> int:
        """The app robot's 1:1 messages go to up to 20 people a call (oToMessages/batchSend)."""
        return ROBOT_BATCH

    def send_many(self, platform: str, destinations: list[str], payload: dict) -> list[SendResult]:
        """One robot call for identical 1:1 messages; each person's result from the answer's
        invalidStaffIdList and flowControlledStaffIdList."""
        try:
            ids = [_user(d) for d in destinations]
            _, message = delivery.rendered(payload, destinations[0], lambda reply: render.render(reply, group=False))
        except Undeliverable as e:
            return [e.result] * len(destinations)
        try:
            ans = self.api.send_to_users(ids, message)
        except TokenError as e:
            return [SendResult.transient(f"access token: {e}")] * len(ids)
        except NetworkError as e:
            return [SendResult.transient(f"network: {e}")] * len(ids)
        if _auth_failed(ans):
            self.api.token.invalidate()
            return [SendResult.transient(f"access token rejected, fetching a new one: HTTP {ans.status}")] * len(ids)
        return [classify_app(ans, user_id) for user_id in ids]

    def post_robot(self, robot: Robot, message: dict) -> SendResult:
        """POST to a group's custom robot, signed when it has a secret."""
        if not self.api.webhooks.allowed(robot.webhook):
            return SendResult.permanent("robot webhook is not a DingTalk URL (https://oapi.dingtalk.com/robot/send?...)")
        url = signed_webhook_url(robot.webhook, robot.secret, self._now_ms())
        return classify_webhook(self.api.webhooks.post(url, message))

    def _app(self, call: Callable[[], HttpAnswer], user_id: str | None = None) -> SendResult:
        try:
            ans = call()
        except TokenError as e:
            return SendResult.transient(f"access token: {e}")
        if _auth_failed(ans):
            self.api.token.invalidate()
            return SendResult.transient(f"access token rejected, fetching a new one: HTTP {ans.status} "
                                        f"{ans.get('code') or ''}")
        return classify_app(ans, user_id)
