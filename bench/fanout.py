"""Scheduler + outbox overhead per message when N reminders fall due at once.

N open tasks (teams x members x tasks each) are all due the next working day, so the 09:00
`deadline_reminders` occurrence produces N DMs in one tick. Measured, on a fresh SQLite file each:

  * baseline: tick (ledger claim + job + N outbox rows) + drain through tests/kit RecordingSender
    (no platform at all: the outbox's own claim/record cost);
  * slack:    the same tick + drain through bot/slack/sender.SlackSender (conversations.open once
    per person, then chat.postMessage per message) against a FakeSlack in another process.

Pacing is off (OutboxConfig(pacing=False)); everything else is the production code path.
Every message must end `sent`; anything else is an error.

    python bench/fanout.py --fake-url http://127.0.0.1:PORT/api/ [--n 10000]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select

from commands.core.clock import FixedClock
from reminders import outbox, schedule
from storage import migrate
from storage.db import make_engine
from storage.models import Member, OutboxMessage, Task, Team
from storage.uow import uow_factory

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Tuesday 2026-11-24 09:00 in Shanghai: a CN working day; the tasks are due Wednesday 18:00.
FIRE = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
DUE = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI).astimezone(UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def shape(n: int) -> tuple[int, int, int]:
    """(teams, members per team, tasks per member) with teams*members*tasks == n (n % 100 == 0)."""
    if n % 100:
        raise ValueError("n must be a multiple of 100")
    per_member = 10
    members = n // per_member
    teams = max(1, members // 100)
    return teams, members // teams, per_member


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    teams, members, tasks = shape(n)
    with engine.begin() as c:
        for t in range(teams):
            team_id = c.execute(insert(Team).values(
                platform="slack", channel_id=f"CFAN{t:03d}", name=f"Fan-out {t}", tz="Asia/Shanghai",
                calendar="CN", lang="zh", created_by="UMGR",
                created_at=FIRE - timedelta(hours=1)).returning(Team.id)).scalar_one()
            users = [f"UF{t:03d}{m:04d}" for m in range(members)]
            c.execute(insert(Member), [{"team_id": team_id, "user_id": u, "display_name": u, "role": "rep",
                                        "joined_at": EPOCH} for u in users])
            c.execute(insert(Task), [{"team_id": team_id, "assignee": u, "created_by": "UMGR",
                                      "title": f"拜访客户 {u}-{k}", "note": "带上报价单", "due_at": DUE,
                                      "status": "open", "created_at": EPOCH, "updated_at": EPOCH}
                                     for u in users for k in range(tasks)])
    engine.dispose()


def _count(engine, status: str | None = None) -> int:
    q = select(func.count()).select_from(OutboxMessage)
    if status is not None:
        q = q.where(OutboxMessage.status == status)
    with engine.connect() as c:
        return c.execute(q).scalar_one()


def run_once(url: str, sender, n: int, *, max_seconds: float = 600.0) -> dict:
    """tick + drain until every message is sent; seconds for each."""
    engine = make_engine(url)
    uow = uow_factory(engine)
    clock = FixedClock(FIRE)
    config = outbox.OutboxConfig(pacing=False)
    t0 = time.perf_counter()
    report = schedule.tick(uow, FIRE, worker_id="bench")
    t1 = time.perf_counter()
    if report.errors:
        raise RuntimeError(f"tick failed: {report.errors[:3]}")
    if report.messages != n:
        raise RuntimeError(f"tick queued {report.messages} messages, expected {n}")
    sent = rounds = 0
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        stats = outbox.drain(uow, sender, clock, "bench", config=config)
        sent += stats.sent
        rounds += stats.rounds
        if stats.claimed == 0:
            break
    t2 = time.perf_counter()
    done = _count(engine, outbox.SENT)
    total = _count(engine)
    engine.dispose()
    if done != n or total != n:
        raise RuntimeError(f"{done} of {total} messages sent, expected {n}")
    return {"n": n, "tick_s": t1 - t0, "drain_s": t2 - t1, "total_s": t2 - t0,
            "per_msg_ms": (t2 - t0) * 1000 / n, "tick_per_msg_ms": (t1 - t0) * 1000 / n,
            "drain_per_msg_ms": (t2 - t1) * 1000 / n, "claim_rounds": rounds}


def measure(fake_url: str, n: int = 10_000, folder: Path | None = None) -> dict:
    from bot.slack.sender import SlackSender
    from tests.kit.recording import RecordingSender

    with tempfile.TemporaryDirectory(prefix="teambot-fanout-", dir=folder) as tmp:
        base_url = f"sqlite:///{Path(tmp) / 'baseline.db'}"
        slack_url = f"sqlite:///{Path(tmp) / 'slack.db'}"
        seed(base_url, n)
        seed(slack_url, n)
        baseline = run_once(base_url, RecordingSender(), n)
        slack = run_once(slack_url, SlackSender("xoxb-bench", base_url=fake_url), n)
    teams, members, tasks = shape(n)
    return {"baseline": baseline, "slack": slack,
            "shape": f"{teams} teams x {members} members x {tasks} tasks"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fake-url", required=True, help="a FakeSlack Web API base URL on 127.0.0.1")
    p.add_argument("--n", type=int, default=10_000)
    args = p.parse_args(argv)
    if not 100 <= args.n <= 100_000:
        p.error("--n between 100 and 100000")
    print(json.dumps(measure(args.fake_url, args.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
