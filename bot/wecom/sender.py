"""The outbox's WeCom sender: neutral Reply payload -> a WeCom message.

Destinations (reminders.outbox / commands.core.reply.Outgoing):
  * "user:<userid>": an app message (`/cgi-bin/message/send`): markdown, or a button card
    (`button_interaction`) when the reply has buttons and fits one.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.wecom import render
from bot.wecom.api import TOKEN_ERRORS, HttpAnswer, NetworkError, TokenError, WeComApi
from commands.core.reply import reply_from_dict
from reminders.outbox import SendResult

log = logging.getLogger("teambot.wecom.sender")

PLATFORM = "wecom"
PACE_SECONDS = 3.0
TOO_FAST_WAIT = 60.0
FREQUENCY = frozenset({45009, 45033})
TRANSIENT_ERRCODES = frozenset({-1})


@dataclass(frozen=True)
class WeComRobot:
    """A group robot: its webhook URL (…/cgi-bin/webhook/send?key=…)."""
    webhook: str


#: chat id -> the team's group robot, or None to use the app group chat.
RobotLookup = Callable[[str], WeComRobot | None]


class StaticRobots:
    def __init__(self, robots: Mapping[str, WeComRobot] | None = None):
        self._robots = dict(robots or {})

    def __call__(self, chat_id: str) -> WeComRobot | None:
        return self._robots.get(chat_id)

    def set(self, chat_id: str, robot: WeComRobot) -> None:
        self._robots[chat_id] = robot


def classify(ans: HttpAnswer, user_id: str | None = None) -> SendResult:
    if ans.status == 429:
        return SendResult.rate_limited(TOO_FAST_WAIT, f"HTTP 429 {ans.text[:200]}")
    if ans.status >= 500:
        return SendResult.transient(f"HTTP {ans.status}")
    if ans.status != 200:
        return SendResult.permanent(f"HTTP {ans.status}: {ans.text[:200]}")
    code = ans.errcode
    if code is None:
        return SendResult.transient(f"unreadable answer: {ans.text[:200]!r}")
    error = f"errcode {code}: {ans.errmsg}"
    if code == 0:
        invalid = str((ans.data or {}).get("invaliduser") or "")
        if user_id and user_id in invalid.split("|"):
            return SendResult.permanent(f"invaliduser: {user_id}")
        return SendResult.sent()
    if code in FREQUENCY:
        return SendResult.rate_limited(TOO_FAST_WAIT, error)
    if code in TOKEN_ERRORS or code in TRANSIENT_ERRCODES:
        return SendResult.transient(error)
    return SendResult.permanent(error)


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
        kind, _, ident = destination.partition(":")
        if kind not in ("user", "channel") or not ident:
            return SendResult.permanent(f"bad destination {destination!r} (expected user:<id> or channel:<id>)")
        try:
            reply = reply_from_dict(payload)
            robot = self.robots(ident) if kind == "channel" else None
            if robot is not None:
                message = render.render_robot(reply)
            elif kind == "channel":
                message = render.render_markdown(reply)  # appchat has no button cards
            else:
                message = render.render_app(reply, task_id=self.task_ids())
        except Exception as e:  # an unrenderable payload never gets better
            log.exception("cannot render outbox payload for %s", destination)
            return SendResult.permanent(f"render failed: {type(e).__name__}: {e}")
        try:
            if robot is not None:
                if not self.api.webhook_allowed(robot.webhook):
                    return SendResult.permanent("robot webhook is not a WeCom URL "
                                                "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)")
                return classify(self.api.post_webhook(robot.webhook, message))
            if kind == "channel":
                return classify(self.api.send_to_chat(ident, message))
            return classify(self.api.send_to_user(ident, message), user_id=ident)
        except TokenError as e:
            if e.errcode in (40013, 40001, 40091):  # wrong corp id / secret: fixed by the operator
                log.error("WeCom refuses the app credentials: %s", e)
            return SendResult.transient(f"access token: {e}")
        except NetworkError as e:
            return SendResult.transient(f"network: {e}")
