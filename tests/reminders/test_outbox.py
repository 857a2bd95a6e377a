"""The outbox sender: leases, crashes, retries with Retry-After and backoff, order per destination,
pacing, dead letters and the operator's `teambot outbox`."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.outbox_cli import outbox_command
from commands.core.clock import FixedClock
from commands.core.reply import Reply, reply_to_dict
from reminders import outbox
from reminders.outbox import OutboxConfig, SendResult
from storage.models import OutboxMessage
from tests.kit.recording import RecordingSender

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _queue(uow, items, *, platform="slack", now=T0):
    """items: [(destination, text)] -> ids, in order."""
    ids = []
    with uow() as u:
        for dest, text in items:
            outbox.enqueue(u.session, platform=platform, destination=dest, now=now,
                           payload=reply_to_dict(Reply.text(text, private=False)))
        u.session.flush()
        ids = [m.id for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    return ids


def _rows(uow):
    with uow() as u:
        return {m.id: m for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))}


def _run_until_done(uow, sender, clock, *, step=timedelta(seconds=1), limit=timedelta(hours=2),
                    config=None, worker="w1"):
    end = clock.now() + limit
    while clock.now() < end:
        outbox.drain(uow, sender, clock, worker, config=config)
        if not any(m.status in ("pending", "sending") for m in _rows(uow).values()):
            return
        clock.advance(step)
    raise AssertionError("outbox did not settle")


def test_429_with_retry_after_then_500s_every_message_delivered_in_order(uow):
    """A fake platform that rate-limits, then fails with 500s: nothing is lost, nothing is sent
    twice, each channel's messages arrive in the order they were queued."""
    items = [(f"channel:C{c}", f"C{c} message {i}") for i in range(6) for c in range(1, 4)]
    _queue(uow, items)
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    sender.script(SendResult.rate_limited(7, "ratelimited"), SendResult.transient("HTTP 500"),
                  SendResult.transient("HTTP 500"), SendResult.transient("HTTP 503"), destination="channel:C1")
    sender.script(SendResult.transient("HTTP 500"), SendResult.transient("HTTP 502"), destination="channel:C2")
    sender.script(SendResult.rate_limited(3), destination="channel:C3")
    _run_until_done(uow, sender, clock)

    for c in range(1, 4):
        got = [d.summary for d in sender.to(f"channel:C{c}")]
        assert got == [f"C{c} message {i}" for i in range(6)]
    assert len(sender.delivered) == len(items)
    rows = _rows(uow)
    assert all(m.status == "sent" for m in rows.values())
    # Retry-After honoured: the second try on C1 came no earlier than 7 s after the 429.
    c1 = [d for d in sender.calls if d.destination == "channel:C1"]
    assert c1[0].result.status == "rate_limited" and (c1[1].at - c1[0].at) >= timedelta(seconds=7)
    # Backoff grows: the gaps between C1's 500s are increasing.
    gaps = [(c1[i + 1].at - c1[i].at).total_seconds() for i in range(1, 4)]
    assert gaps[0] >= 1 and gaps[1] >= 2 and gaps[2] >= 4
    # The first C1 message took 4 failed tries + 1; a 429 is not counted against it.
    first_c1 = min(i for i, m in rows.items() if m.destination == "channel:C1")
    assert rows[first_c1].attempts == 4 and "503" in rows[first_c1].last_error
    # While C1's first message was retried, nothing else went to C1 (order), but C2/C3 went on.
    assert [d.summary for d in sender.calls if d.destination == "channel:C1"][:5] == ["C1 message 0"] * 5


def test_permanent_failure_is_dead_with_its_error_and_can_be_retried(uow, db_url):
    ids = _queue(uow, [("channel:GONE", "lost cause"), ("channel:OK", "fine"), ("channel:GONE", "after")])
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    sender.script(SendResult.permanent("channel_not_found"), destination="channel:GONE")
    outbox.drain(uow, sender, clock, "w1")
    clock.advance(seconds=2)
    outbox.drain(uow, sender, clock, "w1")
    rows = _rows(uow)
    assert rows[ids[0]].status == "dead" and rows[ids[0]].last_error == "channel_not_found"
    assert rows[ids[0]].attempts == 1  # never retried
    assert rows[ids[1]].status == "sent"
    assert rows[ids[2]].status == "sent"  # a dead message does not block the ones after it

    with uow() as u:
        dead = outbox.list_messages(u.session, status="dead")
    assert [m.id for m in dead] == [ids[0]]

    out = io.StringIO()
    assert outbox_command(["--dead"], Settings(database_url=db_url), out=out) == 0
    text = out.getvalue()
    assert "channel_not_found" in text and "channel:GONE" in text and str(ids[0]) in text
    out = io.StringIO()
    assert outbox_command([], Settings(database_url=db_url), out=out) == 0
    assert "no pending messages" in out.getvalue()

    out = io.StringIO()
    assert outbox_command(["retry", str(ids[0])], Settings(database_url=db_url), out=out) == 0
    assert "queued again" in out.getvalue()
    rows = _rows(uow)
    assert rows[ids[0]].status == "pending" and rows[ids[0]].attempts == 0
    assert rows[ids[0]].last_error == "channel_not_found"  # history kept until it succeeds
    out = io.StringIO()
    assert outbox_command(["--pending"], Settings(database_url=db_url), out=out) == 0
    assert "lost cause" in out.getvalue()
    # Retrying a message that is not dead is refused.
    out = io.StringIO()
    assert outbox_command(["retry", str(ids[1])], Settings(database_url=db_url), out=out) == 1
    assert outbox_command(["retry", "x"], Settings(database_url=db_url), out=io.StringIO()) == 2
    assert outbox_command(["--bogus"], Settings(database_url=db_url), out=io.StringIO()) == 2

    clock.set(datetime.now(UTC) + timedelta(seconds=5))  # the CLI queues it for "now", wall clock
    outbox.drain(uow, sender, clock, "w1")
    assert _rows(uow)[ids[0]].status == "sent"
    assert [d.summary for d in sender.to("channel:GONE")] == ["after", "lost cause"]


def test_transient_errors_end_dead_after_max_attempts(uow):
    (mid,) = _queue(uow, [("channel:FLAKY", "never")])
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    sender.fail_always("channel:FLAKY", SendResult.transient("HTTP 500"))
    config = OutboxConfig(max_attempts=4, backoff_base_seconds=1, backoff_cap_seconds=5)
    for _ in range(60):
        outbox.drain(uow, sender, clock, "w1", config=config)
        clock.advance(seconds=1)
    row = _rows(uow)[mid]
    assert row.status == "dead" and row.attempts == 4
    assert row.last_error.startswith("gave up after 4 attempts") and "HTTP 500" in row.last_error
    assert len(sender.calls) == 4


CRASHER = textwrap.dedent("""
    import os, sys
    from datetime import datetime
    from commands.core.clock import FixedClock
    from reminders import outbox
    from storage.db import make_engine
    from storage.uow import uow_factory

    url, at = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    claimed = outbox.claim(uow_factory(make_engine(url)), FixedClock(at), "doomed", lease_seconds=30)
    print(",".join(str(c.id) for c in claimed), flush=True)
    os._exit(9)  # killed between claim and send: no mark, no cleanup
""")


def test_sender_killed_between_claim_and_send_is_resent_once_after_the_lease(uow, db_url):
    """A sender process claims and dies before sending. Until its lease expires nobody else touches
    the message; afterwards another sender delivers it, once.

    The remaining duplicate window: a sender that dies AFTER the platform accepted the message but
    BEFORE its `sent` mark commits (milliseconds), or whose send outlives its lease, causes one
    duplicate delivery when the lease expires. That is the price of never losing a message
    (at-least-once); the marks are written immediately after each send to keep it small."""
    ids = _queue(uow, [("user:U1", "first"), ("user:U1", "second"), ("channel:C9", "other")])
    proc = subprocess.run([sys.executable, "-c", CRASHER, db_url, T0.isoformat()], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 9, proc.stderr
    assert sorted(int(x) for x in proc.stdout.strip().split(",")) == [ids[0], ids[2]]  # heads only
    rows = _rows(uow)
    assert rows[ids[0]].status == "sending" and rows[ids[0]].leased_by == "doomed"

    clock = FixedClock(T0 + timedelta(seconds=10))
    sender = RecordingSender(clock)
    outbox.drain(uow, sender, clock, "rescuer")
    assert sender.calls == []  # leases still valid: nothing sent, "second" waits behind "first"

    clock.set(T0 + timedelta(seconds=31))
    _run_until_done(uow, sender, clock, worker="rescuer")
    assert [d.summary for d in sender.to("user:U1")] == ["first", "second"]
    assert [d.summary for d in sender.to("channel:C9")] == ["other"]
    assert len(sender.calls) == 3
    rows = _rows(uow)
    assert rows[ids[0]].attempts == 2 and rows[ids[0]].leased_by == "rescuer"


def test_a_message_that_keeps_killing_its_sender_ends_dead(uow):
    (mid,) = _queue(uow, [("channel:C1", "poison")])
    clock = FixedClock(T0)
    config = OutboxConfig(max_attempts=3)
    for _ in range(3):
        assert [c.id for c in outbox.claim(uow, clock, "crashy", lease_seconds=10, config=config)] == [mid]
        clock.advance(seconds=11)  # ... and the process died
    assert outbox.claim(uow, clock, "crashy", lease_seconds=10, config=config) == []
    row = _rows(uow)[mid]
    assert row.status == "dead" and "lease" in row.last_error


def test_a_late_result_from_a_sender_that_lost_its_lease_does_not_clobber(uow):
    (mid,) = _queue(uow, [("channel:C1", "slow one")])
    clock = FixedClock(T0)
    (slow,) = outbox.claim(uow, clock, "slow", lease_seconds=5)
    clock.advance(seconds=6)
    (fast,) = outbox.claim(uow, clock, "fast", lease_seconds=5)
    assert outbox.record(uow, clock, "slow", slow, SendResult.transient("timeout")) == "sending"
    assert _rows(uow)[mid].leased_by == "fast"
    assert outbox.record(uow, clock, "fast", fast, SendResult.sent()) == "sent"
    assert _rows(uow)[mid].status == "sent"


def test_pacing_per_destination_is_shared_through_the_database(uow):
    _queue(uow, [("channel:C1", "a1"), ("channel:C1", "a2"), ("channel:C1", "a3"), ("channel:C2", "b1")])
    _queue(uow, [("channel:R1", "r1"), ("channel:R1", "r2")], platform="dingtalk")
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    # Two "replicas" (different worker ids, same database) share the pacing.
    outbox.drain(uow, sender, clock, "w1")
    outbox.drain(uow, sender, clock, "w2")
    assert sorted(d.summary for d in sender.delivered) == ["a1", "b1", "r1"]
    clock.advance(seconds=0.5)
    outbox.drain(uow, sender, clock, "w2")
    assert len(sender.delivered) == 3
    clock.advance(seconds=0.5)
    outbox.drain(uow, sender, clock, "w1")
    assert [d.summary for d in sender.delivered][3:] == ["a2"]
    clock.advance(seconds=2)  # slack: 1 s per channel; dingtalk robots: 20/min = 3 s
    outbox.drain(uow, sender, clock, "w2")
    assert [d.summary for d in sender.delivered][4:] == ["a3", "r2"]
    times = defaultdict(list)
    for d in sender.delivered:
        times[d.destination].append(d.at)
    assert all(b - a >= timedelta(seconds=1) for a, b in zip(times["channel:C1"], times["channel:C1"][1:]))


def test_pacing_off_drains_everything_at_once(uow):
    _queue(uow, [("channel:C1", f"m{i}") for i in range(20)])
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    stats = outbox.drain(uow, sender, clock, "bench", config=OutboxConfig(pacing=False))
    assert stats.sent == 20 and [d.summary for d in sender.delivered] == [f"m{i}" for i in range(20)]


def test_concurrent_senders_deliver_each_message_once_in_order(uow):
    """Four sender threads, each its own sessions, against one database (SKIP LOCKED on
    PostgreSQL, the write lock on SQLite): every message exactly once, order per destination kept."""
    items = [(f"user:U{i % 7}", f"U{i % 7}-{i // 7}") for i in range(140)]
    _queue(uow, items)
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    sender.script(*[SendResult.transient("HTTP 500")] * 10)  # some trouble for whoever gets it
    config = OutboxConfig(pacing=False, backoff_base_seconds=0.001, backoff_cap_seconds=0.001, batch=5)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(n):
        try:
            barrier.wait()
            for _ in range(200):
                outbox.drain(uow, sender, clock, f"t{n}", config=config)
                clock.advance(seconds=0.01)
                if not any(m.status in ("pending", "sending") for m in _rows(uow).values()):
                    return
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(sender.delivered) == len(items)
    for u in range(7):
        got = [d.summary for d in sender.to(f"user:U{u}")]
        assert got == [f"U{u}-{k}" for k in range(20)], got


def test_enqueue_dedupe_answers_correctly_on_every_engine(uow):
    with uow() as u:
        kw = {"platform": "slack", "destination": "user:U1", "payload": {"parts": []}, "now": T0,
              "dedupe_key": "k1"}
        assert outbox.enqueue(u.session, **kw) is True
        assert outbox.enqueue(u.session, **kw) is False
    with uow() as u:
        assert outbox.enqueue(u.session, **kw) is False
        assert len(outbox.list_messages(u.session)) == 1
        assert outbox.counts(u.session) == {"pending": 1}
