"""Claiming: lease the heads of the destinations' queues that are due, and expire the stale ones.

A destination's head is its oldest pending or sending message; only heads are claimed, so a message
never goes out while an older one to the same place waits or is in flight. The heads are found
from the due messages (index (status, not_before), oldest first), each checked for an older active
message to its destination (index (platform, destination, status, id)), so a claim reads about as
many rows as it takes, however long the queue. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent
senders take disjoint rows; SQLite: BEGIN IMMEDIATE serialises claimers.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, bindparam, exists, select, update
from sqlalchemy.orm import aliased

from commands.core.clock import Clock
from reminders.outbox.policy import OutboxConfig
from reminders.outbox.results import ACTIVE, DEAD, EXPIRED, PENDING, SENDING
from storage.models import OutboxMessage, OutboxPace
from storage.types import UTCDateTime
from storage.uow import UowFactory

log = logging.getLogger("teambot.outbox")

#: outbox_pace's destination for a pause of a whole platform (a workspace-wide rate limit).
ALL = "*"


@dataclass(frozen=True)
class Claimed:
    id: int
    platform: str
    destination: str
    payload: dict
    attempts: int
    dedupe_key: str | None
    #: Steps of a multi-step send done by earlier attempts.
    steps: tuple[str, ...] = ()


@dataclass
class Claim:
    """What one claim did: the messages leased, grouped into jobs (one platform call each: a job of
    several is one message for several people), and how many stale heads it expired instead."""
    jobs: list[list[Claimed]] = field(default_factory=list)
    #: platform -> heads expired.
    expired_on: Counter = field(default_factory=Counter)

    @property
    def expired(self) -> int:
        return sum(self.expired_on.values())

    @property
    def messages(self) -> list[Claimed]:
        return [m for job in self.jobs for m in job]


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if dt else "-"


def expiry_reason(row, now: datetime) -> str:
    """Why a message is kept as expired: what it was due for, when it went stale, what happened."""
    text = (f"expired: due {_when(row.due_at or row.created_at)}, stale after {_when(row.expires_at)}; "
            f"not sent late (checked {_when(now)})")
    if row.status == SENDING:
        text += f"; a sender that stopped ({row.leased_by}) held it last, so it may have arrived"
    if row.last_error:
        text += f"; before that: {row.last_error}"
    return text[:2000]


# --- statements, built once per shape (building one costs more than running it) ---------------------


def _filters(O, now, pacing: bool) -> list:
    older = aliased(OutboxMessage, name="older")
    pause = aliased(OutboxPace, name="pause")
    out = [~exists().where(older.platform == O.platform, older.destination == O.destination,
                           older.status.in_(ACTIVE), older.id < O.id),
           ~exists().where(pause.platform == O.platform, pause.destination == ALL, pause.next_at > now)]
    if pacing:
        pace = aliased(OutboxPace, name="pace")
        out.append(~exists().where(pace.platform == O.platform, pace.destination == O.destination,
                                   pace.next_at > now))
    return out


@lru_cache(maxsize=16)
def _statements(pacing: bool, postgresql: bool):
    """(due pending heads, heads whose lease expired, pending heads like a given one)."""
    now = bindparam("now", type_=UTCDateTime())
    lim = bindparam("lim", type_=Integer())
    O = OutboxMessage
    due = (select(O).where(O.status == PENDING, O.not_before <= now, *_filters(O, now, pacing))
           .order_by(O.not_before, O.id).limit(lim))
    rescued = (select(O).where(O.status == SENDING, O.lease_until <= now, *_filters(O, now, pacing))
               .order_by(O.id).limit(lim))
    alike = (select(O).where(O.status == PENDING, O.not_before <= now, O.platform == bindparam("platform"),
                             O.payload == bindparam("payload"), O.destination.startswith("user:"),
                             O.id.not_in(bindparam("taken", expanding=True)), *_filters(O, now, pacing))
             .order_by(O.not_before, O.id).limit(lim))
    if postgresql:
        due, rescued, alike = (q.with_for_update(skip_locked=True, of=O) for q in (due, rescued, alike))
    return due, rescued, alike


_TAKE = (update(OutboxMessage).where(OutboxMessage.id.in_(bindparam("p_ids", expanding=True)))
         .values(status=SENDING, attempts=OutboxMessage.attempts + 1,
                 lease_until=bindparam("p_lease", type_=UTCDateTime()), leased_by=bindparam("p_worker")))
_DEAD = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"))
         .values(status=DEAD, lease_until=None, last_error=bindparam("p_error")))
_EXPIRE = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"), OutboxMessage.status.in_(ACTIVE))
           .values(status=EXPIRED, lease_until=None, last_error=bindparam("p_error")))


# --- claiming --------------------------------------------------------------------------------------


def claim(uow_factory: UowFactory, clock: Clock, worker_id: str, *, batch: int = 50,
          lease_seconds: float = 60.0, config: OutboxConfig | None = None) -> list[Claimed]:
    """Lease up to `batch` messages (at most one per destination: the head of its queue)."""
    return claim_heads(uow_factory, clock, worker_id, batch=batch, lease_seconds=lease_seconds,
                       config=config).messages


def claim_heads(uow_factory: UowFactory, clock: Clock, worker_id: str, *, batch: int = 50,
                lease_seconds: float = 60.0, config: OutboxConfig | None = None,
                batch_limit: Callable[[str], int] | None = None) -> Claim:
    """Lease up to `batch` jobs. A stale head is expired instead; a message that keeps killing its
    sender ends dead. With `batch_limit` (platform -> people per call), a due head for a `user:` is
    joined by other due heads with the same platform and payload, up to that many in one job."""
    config = config or OutboxConfig()
    now = clock.now()
    result = Claim()
    with uow_factory() as uow:
        conn = uow.connection
        due, rescued, alike = _statements(config.pacing, conn.dialect.name == "postgresql")
        rows = list(conn.execute(rescued, {"now": now, "lim": batch}).all())
        rows += conn.execute(due, {"now": now, "lim": batch - len(rows)}).all() if len(rows) < batch else []
        take: list[int] = []
        for row in rows:
            if row.id in take:  # already joined an earlier one's job
                continue
            msg = _check(conn, row, now, config, result)
            if msg is None:
                continue
            take.append(row.id)
            job = [msg]
            limit = batch_limit(row.platform) if batch_limit and row.destination.startswith("user:") else 1
            if limit > 1 and row.status == PENDING:
                for other in conn.execute(alike, {"now": now, "lim": limit - 1, "platform": row.platform,
                                                  "payload": row.payload, "taken": take}).all():
                    more = _check(conn, other, now, config, result)
                    if more is not None:
                        take.append(other.id)
                        job.append(more)
            result.jobs.append(job)
        if take:
            conn.execute(_TAKE, {"p_ids": take, "p_lease": now + timedelta(seconds=lease_seconds),
                                 "p_worker": worker_id})
    return result


def _check(conn, row, now: datetime, config: OutboxConfig, result: Claim) -> Claimed | None:
    """The row as a Claimed message, or None when it was expired or given up on instead."""
    if row.expires_at is not None and row.expires_at <= now:
        reason = expiry_reason(row, now)
        conn.execute(_EXPIRE, {"p_id": row.id, "p_error": reason})
        log.info("outbox %s to %s:%s %s", row.id, row.platform, row.destination, reason)
        result.expired_on[row.platform] += 1
        return None
    if row.status == SENDING:
        log.warning("outbox %s: lease of %s expired; taking it over", row.id, row.leased_by)
        if row.attempts >= config.max_attempts:
            # Only reachable through expired leases: the message keeps killing its sender.
            conn.execute(_DEAD, {"p_id": row.id, "p_error": (
                f"gave up after {row.attempts} attempts; last lease held by "
                f"{row.leased_by} expired (sender crashed?)"
                + (f"; before that: {row.last_error}" if row.last_error else ""))})
            return None
    return Claimed(row.id, row.platform, row.destination, json.loads(row.payload), row.attempts + 1,
                   row.dedupe_key, tuple(json.loads(row.steps or "[]")))


def _waiting_stale():
    now = bindparam("now", type_=UTCDateTime())
    O = OutboxMessage
    return select(O).where(O.status == PENDING, O.not_before > now, O.expires_at <= now).order_by(O.id).limit(500)


_WAITING_STALE = _waiting_stale()


def expire_waiting(uow_factory: UowFactory, clock: Clock) -> Counter:
    """Expire the messages whose window closed while they waited (for a retry, or for the end of
    quiet hours): they would go out stale, and the ones behind them would wait for nothing.
    platform -> how many."""
    now = clock.now()
    with uow_factory() as uow:
        conn = uow.connection
        stale = conn.execute(_WAITING_STALE, {"now": now}).all()
        for row in stale:
            reason = expiry_reason(row, now)
            conn.execute(_EXPIRE, {"p_id": row.id, "p_error": reason})
            log.info("outbox %s to %s:%s %s", row.id, row.platform, row.destination, reason)
    return Counter(row.platform for row in stale)
