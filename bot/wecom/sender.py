"""The outbox's WeCom sender: neutral Reply payload -> a WeCom message.

Destinations (reminders.outbox / commands.core.reply.Outgoing):
  * "user:<userid>": an app message (`/cgi-bin/message/send`): markdown, or a button card
    (`button_interaction`) when the reply has buttons and fits one. Identical messages to several
    members (the Friday nudge) go out as one app message to up to 1,000 (`touser` "a|b|c",
    `send_many`: the outbox groups them); a member named in `invaliduser` is dead, the others sent.
  * "channel:<chatid>": the team's group. When the team has a group robot (its webhook URL, set with
    `/team robot` or config), the post goes to `/cgi-bin/webhook/send?key=...` as markdown (mentions
    `<@userid>` work there); otherwise to the app group chat (`/cgi-bin/appchat/send`), which exists
    only for chats the app created.

Outcomes, from the body's `errcode` (WeCom answers HTTP 200 for its errors):
  * 0                                         -> sent (an `invaliduser` naming the recipient: permanent)
  * 45009 (API / robot frequency: a robot takes 20 a minute), 45033 (too many concurrent calls),
    HTTP 429                                  -> rate_limited(60 s): not counted as a failed attempt
  * 40014 / 42001 / 40001 (access token invalid or expired)
                                              -> token dropped, fetched again next time; transient
  * -1 (system busy), HTTP 5xx, network       -> transient (backoff, dead after max_attempts)
  * 93000 (invalid webhook URL), 81013 (no such user), any other errcode
                                              -> permanent: dead at once, errcode kept for the operator

Pacing: the outbox keeps 3 s between messages to one destination (DEFAULT_PACE_SECONDS["wecom"]),
i.e. 20 a minute per group robot, shared by replicas through the database.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial

from bot.kit import delivery
from bot.kit.delivery import Undeliverable
from bot.kit.robots import RobotLookup, StaticRobots
from bot.wecom import render
from bot.wecom.api import APP_MESSAGE_BATCH, TOKEN_ERRORS, HttpAnswer, NetworkError, TokenError, WeComApi
from reminders.outbox import SendResult

log = logging.getLogger("teambot.wecom.sender")

PLATFORM = "wecom"
PACE_SECONDS = 3.0
FREQUENCY = frozenset({45009, 45033})
TRANSIENT_ERRCODES = frozenset({-1})
#: The app's credentials are wrong: the operator must fix them, so the log says so at ERROR.
BAD_CREDENTIALS = frozenset({40013, 40001, 40091})


def classify(ans: HttpAnswer, user_id: str | None = None) -> SendResult:
    if ans.status == 200 and ans.errcode == 0 and user_id:
        # WeCom names the members it could not reach in lower case.
        invalid = str((ans.data or {}).get("invaliduser") or "").lower()
        if user_id.lower() in invalid.split("|"):
            return SendResult.permanent(f"invaliduser: {user_id}")
    return delivery.errcode_result(ans, too_fast=FREQUENCY, transient=TOKEN_ERRORS | TRANSIENT_ERRCODES)


def _token_failed(e: TokenError) -> SendResult:
    if e.errcode in BAD_CREDENTIALS:
        log.error("WeCom refuses the app credentials: %s", e)
    return SendResult.transient(f"access token: {e}")


def new_task_id() -> str:
    """A template card's task_id: unique per app, letters/digits/_-@, at most 128 bytes."""
    return "tb" + uuid.uuid4().hex


class WeComSender:
    """reminders.outbox.Sender for WeCom. Blocking; the outbox calls it from its own thread."""

    platform = PLATFORM

    def __init__(self, api: WeComApi, *, robots: RobotLookup | None = None,
                 task_ids: Callable[[], str] = new_task_id):
        self.api = api
        self.robots = robots or StaticRobots()
        self.task_ids = task_ids

    @classmethod
    def from_settings(cls, settings, *, robots: RobotLookup | None = None) -> WeComSender:
        return cls(WeComApi.from_settings(settings), robots=robots)

    def send(self, platform: str, destination: str, payload: dict) -> SendResult:
        try:
            kind, ident = delivery.destination(destination)
            robot = self.robots(ident) if kind == "channel" else None
            if robot is not None:
                how = render.render_robot
            elif kind == "channel":
                how = render.render_markdown  # appchat has no button cards
            else:
                how = partial(render.render_app, task_id=self.task_ids())
            _, message = delivery.rendered(payload, destination, how)
        except Undeliverable as e:
            return e.result
        try:
            if robot is not None:
                if not self.api.webhooks.allowed(robot.webhook):
                    return SendResult.permanent("robot webhook is not a WeCom URL "
                                                "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)")
                return classify(self.api.webhooks.post(robot.webhook, message))
            if kind == "channel":
                return classify(self.api.send_to_chat(ident, message))
            return classify(self.api.send_to_user(ident, message), user_id=ident)
        except TokenError as e:
            return _token_failed(e)
        except NetworkError as e:
            return SendResult.transient(f"network: {e}")

    def batch_limit(self, platform: str) -> int:
        """An app message goes to up to 1,000 members a call (`touser` "a|b|c")."""
        return APP_MESSAGE_BATCH

    def send_many(self, platform: str, destinations: list[str], payload: dict) -> list[SendResult]:
        """One app message for identical messages to several members; each member's result from the
        answer's `invaliduser`."""
        try:
            ids = []
            for d in destinations:
                kind, ident = delivery.destination(d)
                if kind != "user":
                    raise Undeliverable(SendResult.permanent(f"{d}: only people's messages go out together"))
                ids.append(ident)
            _, message = delivery.rendered(payload, destinations[0],
                                           partial(render.render_app, task_id=self.task_ids()))
        except Undeliverable as e:
            return [e.result] * len(destinations)
        try:
            ans = self.api.send_to_users(ids, message)
        except TokenError as e:
            return [_token_failed(e)] * len(ids)
        except NetworkError as e:
            return [SendResult.transient(f"network: {e}")] * len(ids)
        return [classify(ans, user_id=user_id) for user_id in ids]
