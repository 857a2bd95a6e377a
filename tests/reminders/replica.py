"""One scheduler replica for test_replicas.py: its own process, engine and clock.

All replicas step through the same simulated instants in lock-step (a multiprocessing Barrier),
so at every step they race for the same occurrences and the same outbox rows."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from commands.core.clock import FixedClock
from reminders import outbox, schedule
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.recording import RecordingSender


def replica_main(url: str, worker: str, start: str, end: str, step_seconds: int, barrier, out_path: str) -> None:
    engine = make_engine(url)
    uow = uow_factory(engine)
    now, stop = datetime.fromisoformat(start), datetime.fromisoformat(end)
    clock = FixedClock(now)
    sender = RecordingSender(clock)
    delivered: list[dict] = []
    fired = lost = 0

    def on_result(msg, result):
        if result.ok:
            delivered.append({"id": msg.id, "destination": msg.destination, "key": msg.dedupe_key,
                              "at": clock.now().isoformat(), "by": worker})

    try:
        while now <= stop:
            clock.set(now)
            barrier.wait(timeout=120)
            report = schedule.tick(uow, now, worker_id=worker)
            assert not report.errors, report.errors
            fired += len(report.fired)
            lost += report.lost
            outbox.drain(uow, sender, clock, worker, on_result=on_result)
            now += timedelta(seconds=step_seconds)
        for k in range(1, 120):  # let paced messages out
            clock.set(stop + timedelta(seconds=k))
            outbox.drain(uow, sender, clock, worker, on_result=on_result)
    finally:
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump({"worker": worker, "fired": fired, "lost": lost, "delivered": delivered}, f)
        engine.dispose()
