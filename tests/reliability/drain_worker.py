"""The bot's delivery loop as its own process, for test_kill9_fanout.py: drain the outbox through
bot/slack/sender.SlackSender against a FakeSlack until nothing is pending or sending, then exit 0.

    python -m tests.reliability.drain_worker DB_URL SLACK_API_URL WORKER_ID [--lease S] [--batch N]
        [--concurrency N]

Real time (SystemClock), pacing off, short leases so that a successor takes over a killed
worker's claims quickly. Bounded by --max-seconds (exit 3 when it runs out).
"""
from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import func, select

from bot.slack.sender import SlackSender
from commands.core.clock import SystemClock
from reminders import outbox
from storage.db import make_engine
from storage.models import OutboxMessage
from storage.uow import uow_factory


def unfinished(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.status.in_(outbox.ACTIVE))).scalar_one()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("api_url")
    p.add_argument("worker")
    p.add_argument("--lease", type=float, default=3.0)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--max-seconds", type=float, default=90.0)
    args = p.parse_args(argv)
    engine = make_engine(args.url)
    uow = uow_factory(engine)
    sender = SlackSender("xoxb-test-token", base_url=args.api_url, timeout=30)
    config = outbox.OutboxConfig(pacing=False, lease_seconds=args.lease, batch=args.batch, max_rounds=1,
                                 concurrency=args.concurrency)
    clock = SystemClock()
    print(f"{args.worker} started", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        stats = outbox.drain(uow, sender, clock, args.worker, config=config)
        if stats.claimed == 0:
            if unfinished(engine) == 0:
                engine.dispose()
                return 0
            time.sleep(0.1)  # waiting for a dead worker's leases to expire
    return 3


if __name__ == "__main__":
    sys.exit(main())
