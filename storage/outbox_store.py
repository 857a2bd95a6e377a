"""Writing to the outbox from inside a unit of work. Sending lives in reminders/outbox.py."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import OutboxMessage


def enqueue(session: Session, *, platform: str, destination: str, payload: dict, now: datetime,
            dedupe_key: str | None = None, not_before: datetime | None = None) -> bool:
    """Queue one message. Returns False when a message with the same dedupe_key already exists."""
    values = dict(platform=platform, destination=destination,
                  payload=json.dumps(payload, ensure_ascii=False), dedupe_key=dedupe_key,
                  status="pending", attempts=0, not_before=not_before or now, created_at=now)
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(OutboxMessage).values(**values)
    if dedupe_key is not None:
        ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    # RETURNING, not rowcount: PostgreSQL reports -1 rows for an INSERT ... RETURNING.
    return session.connection().execute(ins.returning(OutboxMessage.id)).first() is not None


def pending_for(session: Session, destination: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.destination == destination)
                                .order_by(OutboxMessage.id)))
