"""The outbox sender: claim with a lease, send with pacing, retry, dead-letter, expire.

Messages are written to `outbox_message` by the unit of work that causes them (storage.outbox_store).
`drain()` delivers them:

1. Claim (one short transaction, claim.py): among the *head* of each destination's queue (its oldest
   pending or sending row), take those that are due (pending with not_before <= now, or sending with
   an expired lease: a sender that crashed) and whose destination is not paced (outbox_pace.next_at
   > now) nor its whole platform paused (a workspace-wide 429). PostgreSQL: `SELECT ... FOR UPDATE
   SKIP LOCKED`, so concurrent senders take disjoint rows; SQLite: BEGIN IMMEDIATE serialises
   claimers. Claimed rows become `sending` with lease_until/leased_by, and `attempts` goes up by one
   (so a message that crashes its sender every time ends dead, too). Where the platform takes one
   message for many people in one call, identical messages to `user:` heads are claimed together.
2. Send, outside any transaction (drain.py): `concurrency` platform calls at a time, each to other
   destinations, at most OutboxConfig.rates calls a second per platform.
3. Record the result (one short transaction per call, record.py): `sent` (and the destination's next_at
   moves one pacing interval ahead, shared by every replica through the database); rate limited ->
   pending again after Retry-After, not counted as a failed attempt (a workspace-wide one pauses the
   platform for every replica); transient -> pending again after
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
send outlives its lease (keep lease_seconds well above the HTTP timeout). Only messages in `sending`
can be in it: at most OutboxConfig.batch jobs per sender. Nothing is ever lost: a crash anywhere
else leaves the row pending or sending, to be re-sent.
"""
from __future__ import annotations

from reminders.outbox.admin import counts, depth, list_messages, prune_receipts, prune_sent, retry_dead
from reminders.outbox.claim import ALL, Claim, Claimed, claim, claim_heads, expire_waiting, expiry_reason
from reminders.outbox.drain import DrainStats, drain, send_job, send_one
from reminders.outbox.policy import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PACE_SECONDS,
    OutboxConfig,
    RateLimiter,
    backoff_seconds,
)
from reminders.outbox.record import record, record_many, save_steps
from reminders.outbox.results import (
    ACTIVE,
    DEAD,
    DESTINATION,
    EXPIRED,
    PENDING,
    PLATFORM,
    SENDING,
    SENT,
    BatchSender,
    Sender,
    SendResult,
    StepSender,
    Steps,
)
from storage import outbox_store

# Queuing lives in storage so that commands (below this layer) can queue in their own transaction.
enqueue = outbox_store.enqueue

__all__ = [
    "ACTIVE", "ALL", "DEAD", "DEFAULT_CONCURRENCY", "DEFAULT_PACE_SECONDS", "DESTINATION", "EXPIRED",
    "PENDING", "PLATFORM", "SENDING", "SENT", "BatchSender", "Claim", "Claimed", "DrainStats", "OutboxConfig",
    "RateLimiter", "SendResult", "Sender", "StepSender", "Steps", "backoff_seconds", "claim", "claim_heads",
    "counts", "depth", "drain", "enqueue", "expire_waiting", "expiry_reason", "list_messages", "prune_receipts",
    "prune_sent", "record", "record_many", "retry_dead", "save_steps", "send_job", "send_one",
]
