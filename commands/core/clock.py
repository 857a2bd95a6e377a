"""Time comes from an injected clock so that tests never sleep to wait for a schedule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(timezone.utc)

    def advance(self, delta: timedelta | None = None, **kw) -> datetime:
        self._now += delta if delta is not None else timedelta(**kw)
        return self._now
