"""The bot's scheduler and outbox as their own process, for bench/fanout_latency.py: one tick (the
09:00 occurrence falls due), then drains until nothing is pending or sending, and exits 0 printing
its DrainStats as JSON.

    python bench/fanout_worker.py DB_URL PLATFORM API_URL WORKER_ID --clock-origin ISO --wall-origin T
        [--concurrency N] [--rate R] [--lease S] [--max-seconds S]

The outbox settings come from bot.wiring.scheduler_config, as for `teambot run`, so what is
measured is the production configuration plus the flags. Time: clock-origin (the 09:00 of the
benchmark's calendar) plus the real seconds since wall-origin, the same in a restarted worker.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from bot.config import DingTalkSettings, OutboxSettings, Settings, SlackSettings, WeComSettings
from bot.wiring import platform_sender, scheduler_config, wire
from reminders import outbox, schedule
from storage.models import OutboxMessage


class RunningClock:
    """The benchmark's calendar moment plus the real time since it began (across restarts)."""

    def __init__(self, origin: datetime, wall_origin: float):
        self.origin, self.wall_origin = origin, wall_origin

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=time.time() - self.wall_origin)


def settings_for(url: str, platform: str, api_url: str, args) -> Settings:
    base = Settings(database_url=url, platform=platform,
                    slack=SlackSettings(bot_token="xoxb-bench", signing_secret="bench", api_url=api_url),
                    dingtalk=DingTalkSettings(app_key="bench", app_secret="bench", api_url=api_url),
                    wecom=WeComSettings(corp_id="bench", agent_id="1", secret="bench", token="t",
                                        encoding_aes_key="k" * 43, api_url=api_url))
    ob = base.outbox
    changes = {"lease_seconds": args.lease}
    if args.concurrency:
        changes["concurrency"] = args.concurrency
    if args.rate is not None:
        changes[f"rate_{platform}"] = args.rate
    return dataclasses.replace(base, outbox=dataclasses.replace(ob, **changes))


def unfinished(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.status.in_(outbox.ACTIVE))).scalar_one()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("platform", choices=["slack", "dingtalk", "wecom"])
    p.add_argument("api_url")
    p.add_argument("worker")
    p.add_argument("--clock-origin", required=True)
    p.add_argument("--wall-origin", type=float, required=True)
    p.add_argument("--concurrency", type=int, default=0, help="0: the setting's default")
    p.add_argument("--rate", type=float, default=None, help="messages a second (the platform's quota)")
    p.add_argument("--lease", type=float, default=60.0)
    p.add_argument("--kinds", default="deadline_reminders")
    p.add_argument("--max-seconds", type=float, default=600.0)
    args = p.parse_args(argv)
    settings = settings_for(args.url, args.platform, args.api_url, args)
    clock = RunningClock(datetime.fromisoformat(args.clock_origin), args.wall_origin)
    w = wire(settings, clock=clock, upgrade=False)
    sender = platform_sender(settings, w)
    sc = scheduler_config(settings)
    kinds = {k: schedule.DEFAULT_KINDS[k] for k in args.kinds.split(",")}
    ticking, cpu0 = time.time(), time.process_time()
    report = schedule.tick(w.uow, clock.now(), worker_id=args.worker, kinds=kinds, quiet_hours=None)
    limiter = outbox.RateLimiter(sc.outbox.rates)
    total = outbox.DrainStats()
    deadline = time.monotonic() + args.max_seconds
    print(json.dumps({"ticking": ticking, "tick_s": time.time() - ticking, "queued": report.messages,
                      "concurrency": sc.outbox.concurrency, "tick_cpu_s": time.process_time() - cpu0}), flush=True)
    cpu1 = time.process_time()
    while time.monotonic() < deadline:
        stats = outbox.drain(w.uow, sender, clock, args.worker, config=sc.outbox, limiter=limiter)
        for f in dataclasses.fields(stats):
            setattr(total, f.name, getattr(total, f.name) + getattr(stats, f.name))
        if stats.claimed == 0:
            if unfinished(w.engine) == 0:
                print(json.dumps({**dataclasses.asdict(total), "drain_cpu_s": time.process_time() - cpu1}),
                      flush=True)
                w.engine.dispose()
                return 0
            time.sleep(0.1)  # a killed worker's leases, or a paced destination
    return 3


if __name__ == "__main__":
    sys.exit(main())
