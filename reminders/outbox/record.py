"""Recording what a send did: each outcome in a short transaction right after the send, so only the
send in flight is ever exposed to a crash (the duplicate window)."""
from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from commands.core.clock import Clock
from reminders.outbox.claim import ALL, Claimed
from reminders.outbox.policy import OutboxConfig, backoff_seconds
from reminders.outbox.results import DEAD, PENDING, PLATFORM, SENDING, SENT, SendResult
from storage.models import OutboxMessage, OutboxPace
from storage.types import UTCDateTime
from storage.uow import UowFactory

log = logging.getLogger("teambot.outbox")

#: A delivered message (the hot path; built once).
_MARK_SENT = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"), OutboxMessage.status != SENT)
              .values(status=SENT, sent_at=bindparam("p_now", type_=UTCDateTime()), lease_until=None,
                      leased_by=bindparam("p_worker")))
#: A step of a multi-step send is done: only while the sender still holds the lease.
_MARK_STEPS = (update(OutboxMessage).where(OutboxMessage.id == bindparam("p_id"),
                                           OutboxMessage.status == SENDING,
                                           OutboxMessage.leased_by == bindparam("p_worker"))
               .values(steps=bindparam("p_steps")))


@lru_cache(maxsize=4)
def _pace_statement(dialect: str):
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(OutboxPace).values(
        platform=bindparam("p_platform"), destination=bindparam("p_destination"),
        next_at=bindparam("p_next", type_=UTCDateTime()))
    return ins.on_conflict_do_update(index_elements=["platform", "destination"],
                                     set_={"next_at": ins.excluded.next_at})


def _upsert_pace(conn, platform: str, destination: str, next_at: datetime) -> None:
    conn.execute(_pace_statement(conn.dialect.name),
                 {"p_platform": platform, "p_destination": destination, "p_next": next_at})


def record(uow_factory: UowFactory, clock: Clock, worker_id: str, msg: Claimed, result: SendResult, *,
           config: OutboxConfig | None = None, rng: random.Random | None = None) -> str:
    """Write one send's outcome; returns the message's new status."""
    return record_many(uow_factory, clock, worker_id, [(msg, result)], config=config, rng=rng)[0]


def record_many(uow_factory: UowFactory, clock: Clock, worker_id: str,
                outcomes: list[tuple[Claimed, SendResult]], *, config: OutboxConfig | None = None,
                rng: random.Random | None = None) -> list[str]:
    """Write the outcomes of one platform call (one message, or one message for several people) in
    one transaction; returns each message's new status."""
    config = config or OutboxConfig()
    now = clock.now()
    with uow_factory() as uow:
        conn = uow.connection
        return [_record(conn, now, worker_id, msg, result, config, rng) for msg, result in outcomes]


def _record(conn, now: datetime, worker_id: str, msg: Claimed, result: SendResult, config: OutboxConfig,
            rng: random.Random | None) -> str:
    O = OutboxMessage
    if result.ok:
        # Delivered is delivered, even if our lease ran out meanwhile: mark it so nobody resends.
        if not conn.execute(_MARK_SENT, {"p_id": msg.id, "p_now": now, "p_worker": worker_id}).rowcount:
            log.warning("outbox %s: already marked sent by another sender (duplicate delivery)", msg.id)
        pace = config.pace_for(msg.platform)
        if pace > 0:
            _upsert_pace(conn, msg.platform, msg.destination, now + timedelta(seconds=pace))
        return SENT
    ours = (O.id == msg.id, O.status == SENDING, O.leased_by == worker_id)
    error = (result.error or result.status)[:2000]
    if result.status == "rate_limited":
        wait = max(1.0, float(result.retry_after or 1.0))
        values = {"status": PENDING, "not_before": now + timedelta(seconds=wait), "lease_until": None,
                  "leased_by": None, "attempts": O.attempts - 1,
                  "last_error": f"rate limited, retry after {wait:g}s: {error}"}
        status = PENDING
        if result.scope == PLATFORM:  # a workspace-wide quota: every destination, every replica waits
            _upsert_pace(conn, msg.platform, ALL, now + timedelta(seconds=wait))
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
    if not conn.execute(update(O).where(*ours).values(**values)).rowcount:
        log.warning("outbox %s: lease lost before recording %s; the new holder decides", msg.id, result.status)
        return SENDING
    if status == DEAD:
        log.error("outbox %s to %s:%s is dead: %s", msg.id, msg.platform, msg.destination, error)
    return status


def save_steps(uow_factory: UowFactory, worker_id: str, msg: Claimed, steps: tuple[str, ...]) -> None:
    """Write the steps done so far to the message's row (its own short transaction), while we hold
    its lease. A sender that lost the lease writes nothing: the new holder's record counts."""
    with uow_factory() as uow:
        n = uow.connection.execute(_MARK_STEPS, {"p_id": msg.id, "p_worker": worker_id,
                                                 "p_steps": json.dumps(list(steps), ensure_ascii=False)}).rowcount
    if not n:
        log.warning("outbox %s: lease lost before step %s was recorded", msg.id, steps[-1] if steps else "-")
