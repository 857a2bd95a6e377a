"""RecordingSender: a fake chat platform for the outbox (reminders.outbox.Sender).

Every message it accepts is kept in order, with the time it arrived (from the clock you give it).
Failures are scriptable, globally or per destination:

    sender = RecordingSender(clock)
    sender.script(SendResult.rate_limited(3), SendResult.transient("500"), destination="channel:C1")
    sender.fail_always("channel:GONE", SendResult.permanent("channel_not_found"))
    drain(uow, sender, clock, "w1")
    assert [d.text for d in sender.to("user:U1")] == [...]

`calls` keeps every attempt (accepted or not); `delivered` only the accepted ones.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from commands.core.clock import Clock
from commands.core.reply import Reply, reply_from_dict
from reminders.outbox import SendResult


@dataclass(frozen=True)
class Delivery:
    platform: str
    destination: str
    payload: dict
    at: datetime | None
    result: SendResult

    @property
    def reply(self) -> Reply:
        return reply_from_dict(self.payload)

    @property
    def text(self) -> str:
        return self.reply.plain()

    @property
    def summary(self) -> str:
        return self.payload.get("summary", "")


class RecordingSender:
    def __init__(self, clock: Clock | None = None):
        self.clock = clock
        self.calls: list[Delivery] = []
        self.delivered: list[Delivery] = []
        self._scripts: dict[str | None, deque[SendResult]] = {}
        self._always: dict[str, SendResult] = {}
        self._lock = threading.Lock()

    # -- scripting ------------------------------------------------------------------------------
    def script(self, *results: SendResult, destination: str | None = None) -> None:
        """The next sends (to `destination`, or to anywhere when None) answer these, in order."""
        with self._lock:
            self._scripts.setdefault(destination, deque()).extend(results)

    def fail_next(self, n: int = 1, result: SendResult | None = None, destination: str | None = None) -> None:
        self.script(*([result or SendResult.transient("HTTP 500")] * n), destination=destination)

    def fail_always(self, destination: str, result: SendResult) -> None:
        with self._lock:
            self._always[destination] = result

    # -- the Sender protocol --------------------------------------------------------------------
    def send(self, platform: str, destination: str, payload: dict) -> SendResult:
        with self._lock:
            result = self._always.get(destination)
            if result is None:
                for key in (destination, None):
                    queue = self._scripts.get(key)
                    if queue:
                        result = queue.popleft()
                        break
            result = result or SendResult.sent()
            d = Delivery(platform, destination, payload, self.clock.now() if self.clock else None, result)
            self.calls.append(d)
            if result.ok:
                self.delivered.append(d)
        return result

    # -- reading --------------------------------------------------------------------------------
    def to(self, destination: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.delivered if d.destination == destination]

    def texts(self, destination: str | None = None) -> list[str]:
        with self._lock:
            return [d.text for d in self.delivered if destination is None or d.destination == destination]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.delivered.clear()


class BatchingRecordingSender(RecordingSender):
    """A RecordingSender whose platform takes one message for up to `limit` people in one call
    (reminders.outbox.BatchSender); `batches` keeps the destinations of every such call."""

    def __init__(self, clock: Clock | None = None, limit: int = 20):
        super().__init__(clock)
        self.limit = limit
        self.batches: list[list[str]] = []

    def batch_limit(self, platform: str) -> int:
        return self.limit

    def send_many(self, platform: str, destinations: list[str], payload: dict) -> list[SendResult]:
        assert len(destinations) <= self.limit
        with self._lock:
            self.batches.append(list(destinations))
        return [self.send(platform, d, payload) for d in destinations]
