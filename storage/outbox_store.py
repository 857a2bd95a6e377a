"""Writing to the outbox from inside a unit of work. Sending lives in reminders/outbox.py.

Every message may carry the moment it belongs to (`due_at`) and the end of its window
(`expires_at`): a message still undelivered then is kept as `expired` and never sent, so nothing
arrives late with stale text. DeliveryWindows says how long each kind of message stays good."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import OutboxMessage

_TABLE = OutboxMessage.__table__


@dataclass(frozen=True)
class DeliveryWindows:
    """How long after the moment it belongs to a message may still go out ([outbox] in the config).

    Scheduled reminders and posts use the scheduler's grace instead (reminders/schedule.py), counted
    from when they were due, and a weekly agenda never outlives the start of its meeting."""

    #: The answer to a command that could not be given in the conversation itself (a private
    #: answer to a group message, a reply the platform refused at first): the person has moved on.
    reply: timedelta = timedelta(hours=1)
    #: A message a command causes for someone else (a task assigned to them, a request to
    #: approve): after a day the scheduled reminders and nudges have taken over.
    notice: timedelta = timedelta(hours=24)


class Message(NamedTuple):
    """One message for enqueue_many."""
    platform: str
    destination: str
    payload: dict
    dedupe_key: str | None = None
    not_before: datetime | None = None
    due_at: datetime | None = None
    expires_at: datetime | None = None


@lru_cache(maxsize=8)
def _insert(dialect: str, dedupe: bool):
    """INSERT ... [ON CONFLICT (dedupe_key) DO NOTHING] RETURNING id, built once per shape (building a
    statement costs more than running it); the values come as parameters."""
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(_TABLE)
    if dedupe:
        ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return ins.returning(_TABLE.c.id)


def _row(m: Message, now: datetime) -> dict:
    return {"platform": m.platform, "destination": m.destination,
            "payload": json.dumps(m.payload, ensure_ascii=False), "dedupe_key": m.dedupe_key,
            "status": "pending", "attempts": 0, "not_before": m.not_before or now, "created_at": now,
            "due_at": m.due_at, "expires_at": m.expires_at}


def enqueue(session: Session, *, platform: str, destination: str, payload: dict, now: datetime,
            dedupe_key: str | None = None, not_before: datetime | None = None,
            due_at: datetime | None = None, expires_at: datetime | None = None) -> bool:
    """Queue one message. Returns False when a message with the same dedupe_key already exists."""
    conn = session.connection()
    ins = _insert(conn.dialect.name, dedupe_key is not None)
    row = _row(Message(platform, destination, payload, dedupe_key, not_before, due_at, expires_at), now)
    # RETURNING, not rowcount: PostgreSQL reports -1 rows for an INSERT ... RETURNING.
    return conn.execute(ins, row).first() is not None


def enqueue_many(session: Session, messages: Iterable[Message], *, now: datetime) -> int:
    """Queue messages in order, in one multi-row insert. Returns how many were queued; the others
    had a dedupe_key that already exists (each message is queued as enqueue() would, one after
    the other: ids follow the given order)."""
    rows = [_row(Message(*m), now) for m in messages]
    if not rows:
        return 0
    conn = session.connection()
    # ON CONFLICT (dedupe_key) DO NOTHING never skips a NULL key: those rows behave as without it.
    result = conn.execute(_insert(conn.dialect.name, True), rows)
    return len(result.all())

