"""How the outbox behaves: leases, attempts, backoff, pacing, concurrency and rates."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: Seconds between two messages to one destination: Slack ~1 message/s per channel; DingTalk and
#: WeCom group robots 20 per minute.
DEFAULT_PACE_SECONDS: dict[str, float] = {"slack": 1.0, "dingtalk": 3.0, "wecom": 3.0, "console": 0.0}
#: Sends in flight at once, across destinations, for one replica: enough to keep a platform 100 ms
#: away busy at a few hundred messages a second, few enough for SQLite's single writer and a
#: PostgreSQL pool of 30 (each send holds a connection only for the milliseconds of its record).
DEFAULT_CONCURRENCY = 32


@dataclass(frozen=True)
class OutboxConfig:
    #: Claimed messages a sender holds at most (in flight or about to be): also the most a crash can
    #: leave in `sending` (the duplicate window). At least `concurrency`.
    batch: int = 50
    #: How long a claim is valid. Keep it well above the platform HTTP timeout.
    lease_seconds: float = 60.0
    #: Failed sends (and expired leases) before a message is dead.
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 600.0
    #: Pacing per destination on/off (off for benchmarks), and seconds between messages per platform.
    pacing: bool = True
    pace_seconds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PACE_SECONDS))
    #: A drain() call claims until nothing is claimable, at most this many times.
    max_rounds: int = 1000
    #: Sends in flight at once, each to another destination (one destination: one at a time, in order).
    concurrency: int = DEFAULT_CONCURRENCY
    #: Per platform, the most messages (platform calls) a second this process starts; absent or 0:
    #: no limit of ours, only the platform's 429s. With several replicas, share the quota among them.
    rates: Mapping[str, float] = field(default_factory=dict)

    def pace_for(self, platform: str) -> float:
        return float(self.pace_seconds.get(platform, 0.0)) if self.pacing else 0.0


def backoff_seconds(attempts: int, config: OutboxConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    rng = rng or random
    delay = min(config.backoff_cap_seconds, config.backoff_base_seconds * (2 ** max(0, attempts - 1)))
    return delay / 2 + rng.random() * delay / 2


class RateLimiter:
    """Spaces the calls this process starts per platform evenly at OutboxConfig.rates (no bursts:
    a platform quota counted per second or per minute is met the same way). Thread-safe."""

    def __init__(self, rates: Mapping[str, float] | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._rates = {k: float(v) for k, v in (rates or {}).items() if v and v > 0}
        self._next: dict[str, float] = {}
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, platform: str) -> float:
        """Wait for this platform's next slot; returns the seconds waited."""
        rate = self._rates.get(platform)
        if rate is None:
            return 0.0
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(platform, now))
            self._next[platform] = slot + 1.0 / rate
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait
