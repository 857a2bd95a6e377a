"""drain(): claim what is due and send it, `concurrency` platform calls at a time, until nothing is
claimable.

Each job (one message, or one message for several people) is sent and its outcome recorded by a
worker thread. Different destinations go out side by side; one destination's messages never do, since
only its head is ever claimed and the next becomes the head only once the first is recorded. The
claimer tops the workers up as they finish, so a slow platform call holds up nobody else; it never
holds more than OutboxConfig.batch claimed messages (jobs), which bounds what a crash leaves in
`sending`.
"""
from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from commands.core.clock import Clock
from reminders.outbox.claim import Claimed, claim_heads, expire_waiting
from reminders.outbox.policy import OutboxConfig, RateLimiter
from reminders.outbox.record import record_many, save_steps
from reminders.outbox.results import DEAD, PLATFORM, SENT, Sender, SendResult, Steps
from storage.sealed import SealedValueError
from storage.uow import UowFactory

log = logging.getLogger("teambot.outbox")


@dataclass
class DrainStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    expired: int = 0
    #: Claims that found something.
    rounds: int = 0
    #: Platform calls that carried several messages (one text for several people).
    batched_calls: int = 0
    #: (platform, "sent" | "retried" | "dead" | "expired") -> messages, for /metrics.
    by_platform: Counter = field(default_factory=Counter)

    def count(self, outcomes: list[tuple[str, str]]) -> None:
        """(platform, status recorded) of each message sent."""
        for platform, status in outcomes:
            if status == SENT:
                self.sent += 1
            elif status == DEAD:
                self.dead += 1
            else:
                self.retried += 1
                status = "retried"
            self.by_platform[(platform, status)] += 1

    def count_expired(self, platforms: Counter) -> None:
        self.expired += sum(platforms.values())
        for platform, n in platforms.items():
            self.by_platform[(platform, "expired")] += n


def send_one(uow_factory: UowFactory, sender: Sender, worker_id: str, msg: Claimed) -> SendResult:
    """One send, never raising: a sender bug must not lose the message."""
    try:
        if hasattr(sender, "send_steps"):
            steps = Steps(msg.steps, lambda done: save_steps(uow_factory, worker_id, msg, done))
            return sender.send_steps(msg.platform, msg.destination, msg.payload, steps)
        return sender.send(msg.platform, msg.destination, msg.payload)
    except SealedValueError as e:
        return _key_missing(e, f"{msg.id}")
    except Exception as e:
        log.exception("outbox %s: sender raised", msg.id)
        return SendResult.transient(f"{type(e).__name__}: {e}")


def _key_missing(e: SealedValueError, ids: str) -> SendResult:
    """A group robot whose stored secret the configured key cannot open: an operator's matter, said
    in one line (no traceback at every retry); the message waits for the key, then dies with the reason."""
    log.warning("outbox %s: %s; add that key to TEAMBOT_SECRET_KEY or set the robot again", ids, e)
    return SendResult.transient(f"robot secret unreadable: {e}")


def send_job(uow_factory: UowFactory, sender: Sender, worker_id: str, job: list[Claimed]) -> list[SendResult]:
    """A result for each message of the job: one call, whether the job has one message or several."""
    if len(job) == 1:
        return [send_one(uow_factory, sender, worker_id, job[0])]
    first = job[0]
    try:
        results = list(sender.send_many(first.platform, [m.destination for m in job], first.payload))
        if len(results) != len(job):
            raise ValueError(f"{len(results)} results for {len(job)} destinations")
        return results
    except SealedValueError as e:
        return [_key_missing(e, f"{first.id}..{job[-1].id}")] * len(job)
    except Exception as e:
        log.exception("outbox %s..%s: sender raised", first.id, job[-1].id)
        return [SendResult.transient(f"{type(e).__name__}: {e}")] * len(job)


def batch_limits(sender: Sender) -> Callable[[str], int] | None:
    """platform -> how many people one call of this sender may carry, when it can batch at all."""
    if not hasattr(sender, "send_many") or not hasattr(sender, "batch_limit"):
        return None
    return lambda platform: max(1, int(sender.batch_limit(platform)))


class _Inline:
    """An executor that runs each job at once, in the caller's thread (concurrency 1)."""

    def submit(self, fn, *args) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the caller through the future
            f.set_exception(e)
        return f

    def shutdown(self, wait: bool = True) -> None:
        pass


def drain(uow_factory: UowFactory, sender: Sender, clock: Clock, worker_id: str, *,
          batch: int | None = None, lease_seconds: float | None = None,
          config: OutboxConfig | None = None, rng: random.Random | None = None,
          on_result: Callable[[Claimed, SendResult], None] | None = None,
          limiter: RateLimiter | None = None) -> DrainStats:
    """Deliver what is due until nothing is claimable (or config.max_rounds claims). `on_result`
    is called from the worker threads."""
    config = config or OutboxConfig()
    workers = max(1, config.concurrency)
    cap = max(batch or config.batch, workers)
    lease = lease_seconds if lease_seconds is not None else config.lease_seconds
    limiter = limiter or RateLimiter(config.rates)
    limits = batch_limits(sender)
    stats = DrainStats()
    stats.count_expired(expire_waiting(uow_factory, clock))
    #: platform -> when its workspace-wide 429 ends: what this drain already claimed waits too.
    paused: dict[str, datetime] = {}

    def deliver(job: list[Claimed]) -> list[tuple[str, str]]:
        platform = job[0].platform
        until = paused.get(platform)
        left = (until - clock.now()).total_seconds() if until else 0.0
        if left > 0:
            results = [SendResult.rate_limited(left, "the platform asked us to wait (429)", scope=PLATFORM)] * len(job)
        else:
            limiter.acquire(platform)
            results = send_job(uow_factory, sender, worker_id, job)
            for r in results:
                if r.status == "rate_limited" and r.scope == PLATFORM:
                    paused[platform] = clock.now() + timedelta(seconds=max(1.0, float(r.retry_after or 1.0)))
        statuses = record_many(uow_factory, clock, worker_id, list(zip(job, results)), config=config, rng=rng)
        if on_result is not None:
            for msg, result in zip(job, results):
                on_result(msg, result)
        return [(msg.platform, status) for msg, status in zip(job, statuses)]

    pool = _Inline() if workers == 1 else ThreadPoolExecutor(workers, thread_name_prefix="outbox")
    in_flight: set[Future] = set()
    refill = max(1, cap // 4)  # claim in chunks: each claim is a transaction of its own
    claims = 0
    try:
        while True:
            if claims < config.max_rounds and cap - len(in_flight) >= min(refill, cap):
                got = claim_heads(uow_factory, clock, worker_id, batch=cap - len(in_flight), lease_seconds=lease,
                                  config=config, batch_limit=limits)
                stats.count_expired(got.expired_on)
                if got.jobs:
                    claims += 1
                    stats.rounds += 1
                    stats.claimed += len(got.messages)
                    stats.batched_calls += sum(len(job) > 1 for job in got.jobs)
                    in_flight.update(pool.submit(deliver, job) for job in got.jobs)
                elif not got.expired and not in_flight:
                    break
                elif got.expired and not in_flight:
                    continue  # the ones behind the expired heads may be due
            if not in_flight:
                if claims >= config.max_rounds:
                    break
                continue
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for f in done:
                stats.count(f.result())
    finally:
        for f in in_flight:  # only after a claim failed: let what is in flight finish and be recorded
            try:
                stats.count(f.result())
            except Exception:  # noqa: BLE001 - the claim's error is the one that propagates
                log.exception("outbox: a send failed while draining stopped")
        pool.shutdown(wait=True)
    return stats
