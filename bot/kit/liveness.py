"""Whether a long-lived connection (Slack Socket Mode, DingTalk Stream) is up, and for how long it
has been down: the adapters tell, /healthz reads (bot/ops.py). Times are monotonic seconds."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ConnectionWatch:
    """Down from the start until the first connection is up. Thread-safe."""

    def __init__(self, name: str, *, monotonic: Callable[[], float] = time.monotonic):
        self.name = name
        self._now = monotonic
        self._lock = threading.Lock()
        self._up = False
        self._since = monotonic()
        self._heard = self._since
        self.reason = "not connected yet"
        #: Connections made so far (a reconnect adds one).
        self.connects = 0

    def up(self) -> None:
        with self._lock:
            now = self._now()
            self._heard = now
            if not self._up:
                self._up, self._since, self.reason = True, now, ""
                self.connects += 1

    def down(self, reason: str) -> None:
        with self._lock:
            if self._up:
                self._up, self._since = False, self._now()
            self.reason = reason

    def heard(self) -> None:
        """Something arrived on the connection (a ping, a message)."""
        self._heard = self._now()

    @property
    def is_up(self) -> bool:
        return self._up

    def down_for(self) -> float:
        """Seconds the connection has been down (0 while it is up)."""
        with self._lock:
            return 0.0 if self._up else max(0.0, self._now() - self._since)

    def silent_for(self) -> float:
        """Seconds since anything arrived on the connection (or it came up)."""
        return max(0.0, self._now() - self._heard)
