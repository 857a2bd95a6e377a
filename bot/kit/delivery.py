"""What every outbox sender (bot/<platform>/sender.py) does the same way: read the destination,
render the neutral payload (a payload that cannot be rendered never gets better), and read an
HTTP-and-errcode answer (DingTalk webhooks, WeCom) as a SendResult."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from bot.kit.http_json import HttpAnswer
from commands.core.reply import Reply, reply_from_dict
from reminders.outbox import SendResult

log = logging.getLogger("teambot.delivery")
T = TypeVar("T")
#: How long to wait after "too fast" when the platform does not say: their limits are per minute.
TOO_FAST_WAIT = 60.0


class Undeliverable(Exception):
    """The message can never be sent as it is; `result` is the permanent SendResult saying why."""

    def __init__(self, result: SendResult):
        super().__init__(result.error)
        self.result = result


def destination(destination: str) -> tuple[str, str]:
    """"user:<id>" or "channel:<id>" -> (kind, id); Undeliverable for anything else."""
    kind, _, ident = destination.partition(":")
    if kind not in ("user", "channel") or not ident:
        raise Undeliverable(SendResult.permanent(
            f"bad destination {destination!r} (expected user:<id> or channel:<id>)"))
    return kind, ident


def rendered(payload: dict, destination: str, render: Callable[[Reply], T]) -> tuple[Reply, T]:
    """(the Reply, render(Reply)); Undeliverable when either step fails."""
    try:
        reply = reply_from_dict(payload)
        return reply, render(reply)
    except Exception as e:  # noqa: BLE001 - an unrenderable payload never gets better
        log.exception("cannot render outbox payload for %s", destination)
        raise Undeliverable(SendResult.permanent(f"render failed: {type(e).__name__}: {e}")) from None


def retry_after(ans: HttpAnswer, default: float = TOO_FAST_WAIT) -> float:
    """The Retry-After header in seconds (at least 1), else `default`."""
    try:
        return max(1.0, float(ans.headers.get("retry-after", default)))
    except ValueError:
        return default


def http_status(ans: HttpAnswer) -> SendResult | None:
    """The answer's HTTP status as a result (429 wait, 5xx again later, other non-200 never), or None
    for a 200, whose body says the rest."""
    if ans.status == 429:
        return SendResult.rate_limited(retry_after(ans), f"HTTP 429 {ans.text[:200]}")
    if ans.status >= 500:
        return SendResult.transient(f"HTTP {ans.status}")
    if ans.status != 200:
        return SendResult.permanent(f"HTTP {ans.status}: {ans.text[:200]}")
    return None


def errcode_result(ans: HttpAnswer, *, too_fast: frozenset[int], transient: frozenset[int]) -> SendResult:
    """An HTTP answer whose body carries `errcode` (0 = sent) as a SendResult: the HTTP status first,
    then the errcode: too fast -> wait a minute, transient -> again later, anything else never."""
    head = http_status(ans)
    if head is not None:
        return head
    code = ans.errcode
    if code is None:
        return SendResult.transient(f"unreadable answer: {ans.text[:200]!r}")
    if code == 0:
        return SendResult.sent()
    error = f"errcode {code}: {ans.errmsg}"
    if code in too_fast:
        return SendResult.rate_limited(TOO_FAST_WAIT, error)
    if code in transient:
        return SendResult.transient(error)
    return SendResult.permanent(error)
