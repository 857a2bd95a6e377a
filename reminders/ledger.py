"""Fire ledger: each (team, kind, occurrence) is claimed by exactly one process.

The claim is a single INSERT ... ON CONFLICT DO NOTHING on the UNIQUE(team_id, kind, occurrence) key,
on SQLite and PostgreSQL alike; never "look, then write". On PostgreSQL a second replica's insert
waits for the first one's transaction: if that commits, the second gets "already claimed"; if it
rolls back (the job crashed), the second claims it. So the claim and the messages the job queues
commit together or not at all.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import FireLedger

FIRED = "fired"
SKIPPED = "skipped"


def _insert(session: Session, **values) -> bool:
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(FireLedger).values(**values)
    # Ask for the id back: with RETURNING a conflict yields no row on both engines (SQLAlchemy adds
    # RETURNING on PostgreSQL anyway, after which rowcount is -1 whether it inserted or not).
    stmt = ins.on_conflict_do_nothing(index_elements=["team_id", "kind", "occurrence"]).returning(FireLedger.id)
    return session.connection().execute(stmt).first() is not None


def claim(session: Session, *, team_id: int, kind: str, occurrence: datetime, fire_at: datetime,
          worker_id: str, now: datetime) -> bool:
    """True when this transaction now owns the occurrence (commit to keep it); False when another
    process already fired or skipped it."""
    return _insert(session, team_id=team_id, kind=kind, occurrence=occurrence, fire_at=fire_at,
                   status=FIRED, claimed_by=worker_id, claimed_at=now, detail="")


def record_skipped(session: Session, *, team_id: int, kind: str, occurrence: datetime, fire_at: datetime,
                   worker_id: str, now: datetime, reason: str) -> bool:
    """Mark an occurrence as never to be fired (missed beyond the grace). False when already recorded."""
    return _insert(session, team_id=team_id, kind=kind, occurrence=occurrence, fire_at=fire_at,
                   status=SKIPPED, claimed_by=worker_id, claimed_at=now, detail=reason[:2000])


def set_detail(session: Session, *, team_id: int, kind: str, occurrence: datetime, detail: str) -> None:
    row = session.scalars(select(FireLedger).where(FireLedger.team_id == team_id, FireLedger.kind == kind,
                                                   FireLedger.occurrence == occurrence)).first()
    if row is not None:
        row.detail = detail[:2000]
        session.add(row)


def known(session: Session, since: datetime) -> set[tuple[int, str, datetime]]:
    """Keys of every occurrence at or after `since` that was fired or skipped (a read-only shortcut
    that spares most claim attempts; the claim itself is still the guard)."""
    rows = session.execute(select(FireLedger.team_id, FireLedger.kind, FireLedger.occurrence)
                           .where(FireLedger.occurrence >= since))
    return {(t, k, o) for t, k, o in rows}


def entries(session: Session, *, team_id: int | None = None, kind: str | None = None) -> list[FireLedger]:
    q = select(FireLedger).order_by(FireLedger.occurrence, FireLedger.id)
    if team_id is not None:
        q = q.where(FireLedger.team_id == team_id)
    if kind is not None:
        q = q.where(FireLedger.kind == kind)
    return list(session.scalars(q))


def prune(session: Session, before: datetime) -> int:
    """Delete ledger rows for occurrences before `before` (keep at least grace + max holiday shift)."""
    return session.connection().execute(delete(FireLedger).where(FireLedger.occurrence < before)).rowcount
