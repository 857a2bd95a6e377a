"""What the operator sees and does (`teambot outbox`), and housekeeping."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlmodel import Session

from reminders.outbox.results import DEAD, EXPIRED, PENDING, SENDING, SENT
from storage.models import InboundReceipt, OutboxMessage


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


#: The statuses /metrics counts. Sent rows (most of the table) are left out: the counters say how
#: many went out; so the count reads only what the status index finds for these.
DEPTH_STATUSES = (PENDING, SENDING, DEAD, EXPIRED)


def depth(session: Session) -> list[tuple[str, str, int, datetime | None]]:
    """(platform, status, messages, the earliest moment one of them was due) for every platform and
    status of DEPTH_STATUSES that has messages: one grouped query, for /metrics."""
    O = OutboxMessage
    due = func.min(func.coalesce(O.due_at, O.created_at))
    rows = session.connection().execute(select(O.platform, O.status, func.count(), due)
                                        .where(O.status.in_(DEPTH_STATUSES)).group_by(O.platform, O.status))
    return [(platform, status, n, _aware(oldest)) for platform, status, n, oldest in rows]


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


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


def prune_receipts(session: Session, before: datetime) -> int:
    """Delete the receipts of deliveries received before `before`: platforms redeliver within
    minutes (Slack) or hours (DingTalk, WeCom), so a receipt older than a few days answers nothing.
    received_at has no index (every command writes a receipt): this scans the table, every 6 hours."""
    R = InboundReceipt
    return session.connection().execute(delete(R).where(R.received_at < before)).rowcount
