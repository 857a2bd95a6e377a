"""What a platform said about a send, and what a platform sender offers the outbox."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

PENDING, SENDING, SENT, DEAD, EXPIRED = "pending", "sending", "sent", "dead", "expired"
ACTIVE = (PENDING, SENDING)
#: rate_limited scopes: this destination only (a channel's or a robot's own limit), or the whole
#: platform (a workspace-wide quota: every destination waits).
DESTINATION, PLATFORM = "destination", "platform"


@dataclass(frozen=True)
class SendResult:
    """What a platform said about one message."""

    status: str  # "sent" | "rate_limited" | "transient" | "permanent"
    retry_after: float | None = None
    error: str | None = None
    scope: str = DESTINATION

    @property
    def ok(self) -> bool:
        return self.status == "sent"

    @classmethod
    def sent(cls) -> SendResult:
        return cls("sent")

    @classmethod
    def rate_limited(cls, retry_after: float | None, error: str = "ratelimited",
                     scope: str = DESTINATION) -> SendResult:
        """HTTP 429: try again after `retry_after` seconds (the Retry-After header). With
        scope=PLATFORM nothing more goes to that platform before then, from any replica."""
        return cls("rate_limited", retry_after=retry_after, error=error, scope=scope)

    @classmethod
    def transient(cls, error: str) -> SendResult:
        """5xx, timeouts, network errors: try again later with backoff."""
        return cls("transient", error=error)

    @classmethod
    def permanent(cls, error: str) -> SendResult:
        """channel_not_found, user_not_found, not_in_channel, is_archived, invalid_auth...: never retried."""
        return cls("permanent", error=error)


class Sender(Protocol):
    def send(self, platform: str, destination: str, payload: dict) -> SendResult: ...


class Steps:
    """The steps of one multi-step send that are done: `"text" in steps`, `steps.done("text")`.
    The outbox writes each step to the message's row as it is done (on_done), so it survives a
    restart; a sender used on its own gets one that lives in memory."""

    def __init__(self, done: Iterable[str] = (), on_done: Callable[[tuple[str, ...]], None] | None = None):
        self._done = list(dict.fromkeys(done))
        self._on_done = on_done

    def __contains__(self, step: object) -> bool:
        return step in self._done

    def __iter__(self):
        return iter(tuple(self._done))

    def done(self, step: str) -> None:
        if step in self._done:
            return
        self._done.append(step)
        if self._on_done is not None:
            self._on_done(tuple(self._done))


class StepSender(Sender, Protocol):
    """A sender whose messages can take several calls (the text, then each chart)."""

    def send_steps(self, platform: str, destination: str, payload: dict, steps: Steps) -> SendResult: ...


class BatchSender(Sender, Protocol):
    """A sender whose platform takes one message for many people in one call (DingTalk's robot,
    WeCom app messages). The outbox gives it identical messages to `user:` destinations together."""

    def batch_limit(self, platform: str) -> int:
        """How many `user:` destinations one call may carry (1: no batching)."""

    def send_many(self, platform: str, destinations: list[str], payload: dict) -> list[SendResult]:
        """One call for all of `destinations`; a result for each, in order."""
