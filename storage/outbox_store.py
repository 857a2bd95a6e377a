"""Writing to the outbox from inside a unit of work. Sending lives in reminders/outbox.py."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import OutboxMessage

_TABLE = OutboxMessage.__table__


@lru_cache(maxsize=8)
def _insert(dialect: str, dedupe: bool):
    """INSERT ... [ON CONFLICT (dedupe_key) DO NOTHING] RETURNING id, built once per shape (building a
    statement costs more than running it); the values come as parameters."""
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(_TABLE)
    if dedupe:
        ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return ins.returning(_TABLE.c.id)


def _row(platform: str, destination: str, payload: dict, now: datetime, dedupe_key: str | None,
         not_before: datetime | None) -> dict:
    return {"platform": platform, "destination": destination,
            "payload": json.dumps(payload, ensure_ascii=False), "dedupe_key": dedupe_key,
            "status": "pending", "attempts": 0, "not_before": not_before or now, "created_at": now}


def enqueue(session: Session, *, platform: str, destination: str, payload: dict, now: datetime,
            dedupe_key: str | None = None, not_before: datetime | None = None) -> bool:
    """Queue one message. Returns False when a message with the same dedupe_key already exists."""
    conn = session.connection()
    ins = _insert(conn.dialect.name, dedupe_key is not None)
    # RETURNING, not rowcount: PostgreSQL reports -1 rows for an INSERT ... RETURNING.
    return conn.execute(ins, _row(platform, destination, payload, now, dedupe_key, not_before)
                        ).first() is not None


def enqueue_many(session: Session, messages: Iterable[tuple[str, str, dict, str | None]], *, now: datetime,
                 not_before: datetime | None = None) -> int:
    """Queue (platform, destination, payload, dedupe_key) messages in order, in one multi-row insert.
    Returns how many were queued; the others had a dedupe_key that already exists (each message is
    queued as enqueue() would, one after the other: ids follow the given order)."""
    rows = [_row(platform, destination, payload, now, dedupe_key, not_before)
            for platform, destination, payload, dedupe_key in messages]
    if not rows:
        return 0
    conn = session.connection()
    # ON CONFLICT (dedupe_key) DO NOTHING never skips a NULL key: those rows behave as without it.
    result = conn.execute(_insert(conn.dialect.name, True), rows)
    return len(result.all())


def pending_for(session: Session, destination: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.destination == destination)
                                .order_by(OutboxMessage.id)))
