"""The outbox sends to many destinations at once: each message once, each destination's messages one
at a time and in order, pacing and a workspace-wide pause shared through the database, identical
messages to many people in one call where the platform allows it. SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

from commands.core.clock import FixedClock
from commands.core.reply import Reply, reply_to_dict
from reminders import outbox
from reminders.outbox import OutboxConfig, RateLimiter, SendResult
from storage.outbox_store import Message, enqueue_many
from tests.kit.recording import BatchingRecordingSender, RecordingSender

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _queue(uow, items, *, platform="slack", now=T0):
    """items: [(destination, text)], queued in this order."""
    with uow() as u:
        enqueue_many(u.session, [Message(platform, d, reply_to_dict(Reply.text(t, private=False)))
                                 for d, t in items], now=now)


class Overlapping(RecordingSender):
    """Holds each send until `wave` sends are in flight at once (or a few seconds pass), and
    records whether one destination ever had two sends in flight."""

    def __init__(self, clock, wave: int):
        super().__init__(clock)
        self.wave = wave
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most = 0
        self.overlap_per_destination = False
        self.full = threading.Event()
        self.cv = threading.Lock()

    def send(self, platform, destination, payload):
        with self.cv:
            self.in_flight[destination] += 1
            self.overlap_per_destination |= self.in_flight[destination] > 1
            now = sum(self.in_flight.values())
            self.most = max(self.most, now)
            if now >= self.wave:
                self.full.set()
        self.full.wait(5)
        try:
            return super().send(platform, destination, payload)
        finally:
            with self.cv:
                self.in_flight[destination] -= 1


def test_sends_to_different_destinations_go_out_at_once_each_destination_in_order(uow):
    items = [(f"user:U{d}", f"U{d}-{k}") for k in range(5) for d in range(8)]
    _queue(uow, items)
    clock = FixedClock(T0)
    sender = Overlapping(clock, wave=8)
    stats = outbox.drain(uow, sender, clock, "w1", config=OutboxConfig(pacing=False, concurrency=8, batch=8))
    assert stats.sent == 40 and sender.most == 8  # eight in flight together: they did not queue
    assert not sender.overlap_per_destination
    for d in range(8):
        assert [x.summary for x in sender.to(f"user:U{d}")] == [f"U{d}-{k}" for k in range(5)]


def test_two_concurrent_replicas_deliver_each_message_once_in_order(uow):
    """Two replicas (threads, each with four sends in flight) against one database, with failures
    sprinkled in: every message exactly once, never two at once to one destination, order kept."""
    items = [(f"channel:C{i % 20}", f"C{i % 20}-{i // 20}") for i in range(200)]
    _queue(uow, items)
    clock = FixedClock(T0)
    sender = Overlapping(clock, wave=1)
    sender.script(*[SendResult.transient("HTTP 503")] * 15)
    config = OutboxConfig(pacing=False, concurrency=4, batch=6, backoff_base_seconds=0.001, backoff_cap_seconds=0.001)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def replica(name):
        try:
            barrier.wait()
            for _ in range(400):
                outbox.drain(uow, sender, clock, name, config=config)
                clock.advance(seconds=0.01)
                with uow() as u:
                    if not outbox.counts(u.session).keys() & {"pending", "sending"}:
                        return
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=replica, args=(f"r{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(sender.delivered) == 200 and len({d.summary for d in sender.delivered}) == 200
    assert not sender.overlap_per_destination
    for c in range(20):
        assert [d.summary for d in sender.to(f"channel:C{c}")] == [f"C{c}-{k}" for k in range(10)]


def test_a_workspace_wide_429_pauses_the_platform_for_every_replica(uow):
    _queue(uow, [(f"user:U{i}", f"m{i}") for i in range(6)])
    _queue(uow, [("channel:R1", "robot")], platform="dingtalk")
    clock = FixedClock(T0)
    sender = RecordingSender(clock)
    sender.script(SendResult.rate_limited(5, "ratelimited", scope=outbox.PLATFORM))
    config = OutboxConfig(concurrency=1)
    first = outbox.drain(uow, sender, clock, "w1", config=config)
    # The 429 came with the first; the five claimed with it wait without a call; DingTalk goes on.
    assert first.sent == 1 and first.retried == 6 and len(sender.calls) == 2
    assert [d.destination for d in sender.delivered] == ["channel:R1"]
    clock.advance(seconds=2)
    assert outbox.drain(uow, sender, clock, "w2", config=config).claimed == 0  # another replica waits too
    clock.advance(seconds=3)
    assert outbox.drain(uow, sender, clock, "w2", config=config).sent == 6


def test_identical_messages_to_many_people_go_out_in_calls_of_the_platforms_size(uow):
    """The Friday nudge for 45 people, on a platform taking 20 a call: three calls. A different
    message waits behind the nudge of the one person it is for, and goes out on its own."""
    nudge = "📝 这周还没有记录进展"
    _queue(uow, [(f"user:U{i:02d}", nudge) for i in range(45)] + [("user:U03", "另一条"), ("channel:C1", nudge)],
           platform="wecom")
    clock = FixedClock(T0)
    sender = BatchingRecordingSender(clock, limit=20)
    stats = outbox.drain(uow, sender, clock, "w1", config=OutboxConfig(pacing=False, concurrency=4))
    assert stats.sent == 47 and stats.batched_calls == 3
    assert sorted(len(b) for b in sender.batches) == [5, 20, 20]
    assert sorted(d for b in sender.batches for d in b) == [f"user:U{i:02d}" for i in range(45)]
    assert [d.summary for d in sender.to("user:U03")] == [nudge, "另一条"]
    assert [d.summary for d in sender.to("channel:C1")] == [nudge]  # channels are never batched


def test_a_batch_call_reports_each_person_on_their_own(uow):
    _queue(uow, [(f"user:U{i}", "同一条") for i in range(4)], platform="dingtalk")
    clock = FixedClock(T0)
    sender = BatchingRecordingSender(clock, limit=20)
    sender.fail_always("user:U2", SendResult.permanent("invalid staff id: U2"))
    stats = outbox.drain(uow, sender, clock, "w1", config=OutboxConfig(concurrency=2))
    assert stats.sent == 3 and stats.dead == 1 and len(sender.batches) == 1
    with uow() as u:
        dead = outbox.list_messages(u.session, "dead")
    assert [(m.destination, m.last_error) for m in dead] == [("user:U2", "invalid staff id: U2")]


def test_the_rate_limiter_spaces_each_platforms_calls():
    t = [0.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        t[0] += s

    limiter = RateLimiter({"slack": 4.0, "wecom": 0}, monotonic=lambda: t[0], sleep=sleep)
    waits = [limiter.acquire("slack") for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25] and t[0] == 1.0
    assert limiter.acquire("wecom") == 0.0 and limiter.acquire("dingtalk") == 0.0  # no limit set
    t[0] += 10  # idle: no burst saved up
    assert [limiter.acquire("slack") for _ in range(2)] == [0.0, 0.25]


def test_a_claim_reads_only_what_it_takes(sqlite_engine):
    """The claim walks the due messages oldest first and stops when it has enough: SQLite's plan
    searches the (status, not_before) index, and finds older messages and pacing by index too,
    instead of scanning the queue (which holds a fan-out's 10,000 rows and a month of sent ones)."""
    from sqlalchemy import event

    from storage.uow import uow_factory

    seen: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM outbox_message" in statement and "older" in statement:
            seen.append((statement, parameters))

    event.listen(sqlite_engine, "before_cursor_execute", capture)
    outbox.claim(uow_factory(sqlite_engine), FixedClock(T0), "w1")
    event.remove(sqlite_engine, "before_cursor_execute", capture)
    assert seen
    raw = sqlite_engine.raw_connection()
    try:
        for statement, parameters in seen:
            plan = [r[-1] for r in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not any(p.startswith("SCAN") for p in plan), plan
        assert any("USING INDEX ix_outbox_status_due" in p for p in plan), plan
    finally:
        raw.close()
