"""The outbox sender: claim with a lease, send with pacing, retry, dead-letter.

Messages are written to `outbox_message` by the unit of work that causes them (storage.outbox_store).
`drain()` delivers them:

1. Claim (one short transaction): among the *head* of each destination's queue (its oldest pending or
   sending row), take those that are due (pending with not_before <= now, or sending with an expired
   lease: a sender that crashed) and whose destination is not paced (outbox_pace.next_at > now).
   PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent senders take disjoint rows; SQLite:
   BEGIN IMMEDIATE serialises claimers. Claimed rows become `sending` with lease_until/leased_by, and
   `attempts` goes up by one (so a message that crashes its sender every time ends dead, too).
2. Send, outside any transaction.
3. Record the result (one short transaction per message): `sent` (and the destination's next_at
   moves one pacing interval ahead, shared by every replica through the database); rate limited ->
   pending again after Retry-After, not counted as a failed attempt; transient -> pending again after
   an exponential backoff with jitter, capped, or `dead` after max_attempts; permanent -> `dead`
   at once. last_error keeps the platform's answer.

Windows: a message may carry the end of its window (`expires_at`, storage.outbox_store). A head
whose window has closed is not sent: it becomes `expired`, with the reason in last_error, and is
kept for the operator (`teambot outbox --expired`). So a reminder for a day gone by never arrives
late with stale text, and nothing is lost: every message ends sent, dead or expired.

Multi-step sends (the text, then a chart upload): a sender with `send_steps` gets the steps already
done (`Steps`), and each step it finishes is written to the row at once, so a retry, in this process
or after a restart, does only what is left and never posts the text twice.

Order per destination: only the head of a destination's queue is ever claimed, so a message is never
sent while an older one to the same place is pending (in backoff) or being sent. A dead message no
longer blocks its successors.

Duplicate window (at-least-once): if a sender crashes after the platform accepted a message but
before step 3 commits, the lease expires and another sender delivers it again. The window is the time
between the platform's answer and the commit of the `sent` mark (milliseconds), plus the case where a
send outlives its lease (keep lease_seconds well above the HTTP timeout). Nothing is ever lost: a
crash anywhere else leaves the row pending or sending, to be re-sent.
"""
from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from commands.core.clock import Clock
from storage import outbox_store
from storage.models import OutboxMessage, OutboxPace
from storage.types import UTCDateTime
from storage.uow import UowFactory

log = logging.getLogger("teambot.outbox")

PENDING, SENDING, SENT, DEAD, EXPIRED = "pending", "sending", "sent", "dead", "expired"
ACTIVE = (PENDING, SENDING)

#: Seconds between two messages to one destination: Slack ~1 message/s per channel; DingTalk and
#: WeCom group robots 20 per minute.
DEFAULT_PACE_SECONDS: dict[str, float] = {"slack": 1.0, "dingtalk": 3.0, "wecom": 3.0, "console": 0.0}


@dataclass(frozen=True)
class SendResult:
    """What a platform said about one message."""

    status: str  # "sent" | "rate_limited" | "transient" | "permanent"
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"

    @classmethod
    def sent(cls) -> SendResult:
        return cls("sent")

    @classmethod
    def rate_limited(cls, retry_after: float | None, error: str = "ratelimited") -> SendResult:
        """HTTP 429: try again after `retry_after` seconds (the Retry-After header)."""
        return cls("rate_limited", retry_after=retry_after, error=error)

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


@dataclass(frozen=True)
class OutboxConfig:
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
    #: A drain() call claims and sends in rounds until nothing is claimable, at most this many.
    max_rounds: int = 100

    def pace_for(self, platform: str) -> float:
        return float(self.pace_seconds.get(platform, 0.0)) if self.pacing else 0.0


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
class DrainStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    expired: int = 0
    rounds: int = 0


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def backoff_seconds(attempts: int, config: OutboxConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    rng = rng or random
    delay = min(config.backoff_cap_seconds, config.backoff_base_seconds * (2 ** max(0, attempts - 1)))
    return delay / 2 + rng.random() * delay / 2


# --- enqueue ------------------------------------------------------------------------------------------


# Queuing lives in storage so that commands (below this layer) can queue in their own transaction.
enqueue = outbox_store.enqueue


# --- claim ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _claim_statement(pacing: bool, batch: int, postgresql: bool):
    """Built once per shape (building SQLAlchemy statements costs more than running this one)."""
    now = bindparam("now", type_=UTCDateTime())
    O = OutboxMessage
    heads = (select(func.min(O.id)).where(O.status.in_(ACTIVE))
             .group_by(O.platform, O.destination).scalar_subquery())
    q = select(O).where(O.id.in_(heads),
                        or_(and_(O.status == PENDING, O.not_before <= now),
                            and_(O.status == SENDING, O.lease_until <= now),
                            # Stale while waiting for a retry: expire it now, not when it is due.
                            and_(O.status == PENDING, O.expires_at <= now)))
    if pacing:
        P = OutboxPace
        q = q.where(~exists().where(P.platform == O.platform, P.destination == O.destination,
                                    P.next_at > now))
    q = q.order_by(O.not_before, O.id).limit(batch)
    if postgresql:
        q = q.with_for_update(skip_locked=True, of=O)
    return q


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


@dataclass
class Claim:
    """What one claim did: the messages leased, and how many heads it found stale and expired."""
    messages: list[Claimed] = field(default_factory=list)
    expired: int = 0


def claim(uow_factory: UowFactory, clock: Clock, worker_id: str, *, batch: int = 50,
          lease_seconds: float = 60.0, config: OutboxConfig | None = None) -> list[Claimed]:
    """Lease up to `batch` messages (at most one per destination: the head of its queue)."""
    return claim_heads(uow_factory, clock, worker_id, batch=batch, lease_seconds=lease_seconds,
                       config=config).messages


def claim_heads(uow_factory: UowFactory, clock: Clock, worker_id: str, *, batch: int = 50,
                lease_seconds: float = 60.0, config: OutboxConfig | None = None) -> Claim:
    """claim(), also telling how many stale heads it expired instead of leasing them."""
    config = config or OutboxConfig()
    now = clock.now()
    result = Claim()
    out = result.messages
    with uow_factory() as uow:
        s = uow.session
        conn = s.connection()
        q = _claim_statement(config.pacing, batch, _is_pg(s))
        # Core rows and one UPDATE for the whole batch: no ORM objects, no per-row flush.
        take: list[int] = []
        for row in conn.execute(q, {"now": now}).all():
            if row.expires_at is not None and row.expires_at <= now:
                reason = expiry_reason(row, now)
                conn.execute(_CLAIM_EXPIRED, {"p_id": row.id, "p_error": reason})
                log.info("outbox %s to %s:%s %s", row.id, row.platform, row.destination, reason)
                result.expired += 1
                continue
            if row.status == SENDING:
                log.warning("outbox %s: lease of %s expired; taking it over", row.id, row.leased_by)
            if row.attempts >= config.max_attempts:
                # Only reachable through expired leases: the message keeps killing its sender.
                conn.execute(_CLAIM_DEAD, {"p_id": row.id, "p_error": (
                    f"gave up after {row.attempts} attempts; last lease held by "
                    f"{row.leased_by} expired (sender crashed?)"
                    + (f"; before that: {row.last_error}" if row.last_error else ""))})
                continue
            take.append(row.id)
            out.append(Claimed(row.id, row.platform, row.destination, json.loads(row.payload),
                               row.attempts + 1, row.dedupe_key, tuple(json.loads(row.steps or "[]"))))
        if take:
            conn.execute(_CLAIM_TAKE, {"p_ids": take, "p_lease": now + timedelta(seconds=lease_seconds),
                                       "p_worker": worker_id})
    return result


_CLAIM_TAKE = (update(OutboxMessage).where(OutboxMessage.id.in_(bindparam("p_ids", expanding=True)))
               .values(status=SENDING, attempts=OutboxMessage.attempts + 1,
                       lease_until=bindparam("p_lease", type_=UTCDateTime()), leased_by=bindparam("p_worker")))
_CLAIM_DEAD = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"))
               .values(status=DEAD, lease_until=None, last_error=bindparam("p_error")))
_CLAIM_EXPIRED = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"))
                  .values(status=EXPIRED, lease_until=None, last_error=bindparam("p_error")))
#: A step of a multi-step send is done: only while the sender still holds the lease.
_MARK_STEPS = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"),
                                           OutboxMessage.status == SENDING,
                                           OutboxMessage.leased_by == bindparam("p_worker"))
               .values(steps=bindparam("p_steps")))
#: The hot path of record(): a delivered message (built once; see _claim_statement).
_MARK_SENT = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"), OutboxMessage.status != SENT)
              .values(status=SENT, sent_at=bindparam("p_now", type_=UTCDateTime()), lease_until=None,
                      leased_by=bindparam("p_worker")))


# --- record results -------------------------------------------------------------------------------------


def _upsert_pace(session: Session, platform: str, destination: str, next_at: datetime) -> None:
    ins = (pg_insert if _is_pg(session) else sqlite_insert)(OutboxPace).values(
        platform=platform, destination=destination, next_at=next_at)
    session.execute(ins.on_conflict_do_update(index_elements=["platform", "destination"],
                                              set_={"next_at": ins.excluded.next_at}))


def record(uow_factory: UowFactory, clock: Clock, worker_id: str, msg: Claimed, result: SendResult, *,
           config: OutboxConfig | None = None, rng: random.Random | None = None) -> str:
    """Write one send's outcome; returns the message's new status."""
    config = config or OutboxConfig()
    now = clock.now()
    O = OutboxMessage
    with uow_factory() as uow:
        s = uow.session
        if result.ok:
            # Delivered is delivered, even if our lease ran out meanwhile: mark it so nobody resends.
            n = s.connection().execute(_MARK_SENT, {"p_id": msg.id, "p_now": now,
                                                    "p_worker": worker_id}).rowcount
            if not n:
                log.warning("outbox %s: already marked sent by another sender (duplicate delivery)", msg.id)
            pace = config.pace_for(msg.platform)
            if pace > 0:
                _upsert_pace(s, msg.platform, msg.destination, now + timedelta(seconds=pace))
            return SENT
        ours = (O.id == msg.id, O.status == SENDING, O.leased_by == worker_id)
        error = (result.error or result.status)[:2000]
        if result.status == "rate_limited":
            wait = max(1.0, float(result.retry_after or 1.0))
            values = {"status": PENDING, "not_before": now + timedelta(seconds=wait), "lease_until": None,
                      "leased_by": None, "attempts": O.attempts - 1,
                      "last_error": f"rate limited, retry after {wait:g}s: {error}"}
            status = PENDING
        elif result.status == "permanent" or msg.attempts >= config.max_attempts:
            values = {"status": DEAD, "lease_until": None, "leased_by": None,
                      "last_error": error if result.status == "permanent"
                      else f"gave up after {msg.attempts} attempts: {error}"}
            status = DEAD
        else:
            wait = backoff_seconds(msg.attempts, config, rng)
            values = {"status": PENDING, "not_before": now + timedelta(seconds=wait), "lease_until": None,
                      "leased_by": None, "last_error": error}
            status = PENDING
        if not s.connection().execute(update(O).where(*ours).values(**values)).rowcount:
            log.warning("outbox %s: lease lost before recording %s; the new holder decides", msg.id,
                        result.status)
            return SENDING
        if status == DEAD:
            log.error("outbox %s to %s:%s is dead: %s", msg.id, msg.platform, msg.destination, error)
        return status


# --- drain ----------------------------------------------------------------------------------------------


def save_steps(uow_factory: UowFactory, worker_id: str, msg: Claimed, steps: tuple[str, ...]) -> None:
    """Write the steps done so far to the message's row (its own short transaction), while we hold
    its lease. A sender that lost the lease writes nothing: the new holder's record counts."""
    with uow_factory() as uow:
        n = uow.connection.execute(_MARK_STEPS, {"p_id": msg.id, "p_worker": worker_id,
                                                 "p_steps": json.dumps(list(steps), ensure_ascii=False)}).rowcount
    if not n:
        log.warning("outbox %s: lease lost before step %s was recorded", msg.id, steps[-1] if steps else "-")


def send_one(uow_factory: UowFactory, sender: Sender, worker_id: str, msg: Claimed) -> SendResult:
    """One send, never raising: a sender bug must not lose the message."""
    try:
        if hasattr(sender, "send_steps"):
            steps = Steps(msg.steps, lambda done: save_steps(uow_factory, worker_id, msg, done))
            return sender.send_steps(msg.platform, msg.destination, msg.payload, steps)
        return sender.send(msg.platform, msg.destination, msg.payload)
    except Exception as e:
        log.exception("outbox %s: sender raised", msg.id)
        return SendResult.transient(f"{type(e).__name__}: {e}")


def drain(uow_factory: UowFactory, sender: Sender, clock: Clock, worker_id: str, *,
          batch: int | None = None, lease_seconds: float | None = None,
          config: OutboxConfig | None = None, rng: random.Random | None = None,
          on_result: Callable[[Claimed, SendResult], None] | None = None) -> DrainStats:
    """Deliver what is due, in rounds, until nothing is claimable (or config.max_rounds)."""
    config = config or OutboxConfig()
    batch = batch or config.batch
    lease = lease_seconds if lease_seconds is not None else config.lease_seconds
    stats = DrainStats()
    for _ in range(config.max_rounds):
        got = claim_heads(uow_factory, clock, worker_id, batch=batch, lease_seconds=lease, config=config)
        stats.expired += got.expired
        claimed = got.messages
        if not claimed and not got.expired:
            break
        stats.rounds += 1
        stats.claimed += len(claimed)
        for msg in claimed:
            result = send_one(uow_factory, sender, worker_id, msg)
            status = record(uow_factory, clock, worker_id, msg, result, config=config, rng=rng)
            if status == SENT:
                stats.sent += 1
            elif status == DEAD:
                stats.dead += 1
            else:
                stats.retried += 1
            if on_result is not None:
                on_result(msg, result)
    return stats


# --- operator helpers -----------------------------------------------------------------------------------


def list_messages(session: Session, status: str | Iterable[str] | None = None, *,
                  limit: int = 200, newest_first: bool = False) -> list[OutboxMessage]:
    """Messages with the given status(es), oldest first (all when status is None)."""
    order = OutboxMessage.id.desc() if newest_first else OutboxMessage.id
    q = select(OutboxMessage).order_by(order).limit(limit)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        q = q.where(OutboxMessage.status.in_(statuses))
    return list(session.scalars(q))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {s: n for s, n in rows}


def retry_dead(session: Session, message_id: int, *, now: datetime | None = None) -> bool:
    """Put a dead or expired message back in the queue (attempts reset, last_error and the steps
    already done kept). False if it is neither. An expired one goes out although it is late: the
    operator decided so, and its window no longer applies. It goes out after anything older to the
    same destination that is still queued."""
    now = now or datetime.now(UTC)
    O = OutboxMessage
    n = session.connection().execute(update(O).where(O.id == message_id, O.status.in_((DEAD, EXPIRED)))
                                     .values(status=PENDING, attempts=0, not_before=now, lease_until=None,
                                             leased_by=None, expires_at=None)).rowcount
    return bool(n)


def prune_sent(session: Session, before: datetime) -> int:
    """Delete sent messages older than `before`, and expired ones created before it (their dedupe
    keys go too: keep a few days). Dead ones stay until the operator has seen them."""
    O = OutboxMessage
    return session.connection().execute(delete(O).where(or_(
        and_(O.status == SENT, O.sent_at < before),
        and_(O.status == EXPIRED, O.created_at < before)))).rowcount
