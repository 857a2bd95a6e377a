"""09:00 for a 10,000-person sales org, against a platform 100 ms away with real quotas.

N people (100 to a team) each have a task due the next working day, so the 09:00
`deadline_reminders` occurrence sends N DMs. The bot (bench/fanout_worker.py: tick, then the
outbox, configured as `teambot run` would be) runs as its own process against bench/fake_platform.py
(another process: latency per call, keep-alive, per-destination pacing and a workspace quota,
429s beyond them). Measured: seconds from the tick until the fake accepted the last DM, against
what the fake's quotas allow at best; duplicates and order violations counted by the fake.

With --kill-at F the bot is killed (SIGKILL) once the fake has accepted F*N messages, and started
again: everything must arrive, and no more duplicates than the outbox had in `sending` at the kill
(the documented bound, read from the database at that moment).

--platform dingtalk|wecom --kinds progress_nudges: the Friday nudge, one text for everyone, which
the outbox sends batched (DingTalk: 20 people a call; WeCom: 1,000).

    python bench/fanout_latency.py [--n 10000] [--latency 0.1] [--kill-at 0.5] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select

from storage import migrate
from storage.db import make_engine
from storage.models import Member, OutboxMessage, Task, Team

PY = sys.executable
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Tuesday 2026-11-24 09:00 in Shanghai (a CN working day); the tasks are due Wednesday 18:00.
FIRE = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
#: Friday 2026-11-27 16:00: the weekly progress nudge.
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI).astimezone(UTC)
DUE = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI).astimezone(UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
PER_TEAM = 100
#: The fake's quotas for this benchmark (calls a second, workspace-wide), and the bot's setting to match.
RATE = 200.0
BURST_SECONDS = 0.25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, n: int, platform: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as c:
        for t in range(max(1, n // PER_TEAM)):
            team_id = c.execute(insert(Team).values(
                platform=platform, channel_id=f"CFAN{t:03d}", name=f"Fan-out {t}", tz="Asia/Shanghai",
                calendar="CN", lang="zh", created_by="UMGR", created_at=EPOCH).returning(Team.id)).scalar_one()
            people = [(t * PER_TEAM + k, f"UF{t * PER_TEAM + k:05d}") for k in range(min(PER_TEAM, n - t * PER_TEAM))]
            c.execute(insert(Member), [{"team_id": team_id, "user_id": u, "display_name": u, "role": "rep",
                                        "joined_at": EPOCH} for _, u in people])
            c.execute(insert(Task), [{"team_id": team_id, "assignee": u, "created_by": "UMGR",
                                      "title": f"回访客户 #{i:05d}", "note": "", "due_at": DUE,
                                      "status": "open", "created_at": EPOCH, "updated_at": EPOCH}
                                     for i, u in people])
    engine.dispose()


def outbox_state(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as c:
        rows = c.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    engine.dispose()
    return {s: k for s, k in rows}


class Fake:
    def __init__(self, latency: float, rate: float):
        self.port = free_port()
        rates = f"chat.postMessage={rate},conversations.open={rate},robot.oToMessages={rate},message.send={rate}"
        self.proc = subprocess.Popen([PY, str(ROOT / "bench" / "fake_platform.py"), "--port", str(self.port),
                                      "--latency", str(latency), "--rate", rates,
                                      "--burst-seconds", str(BURST_SECONDS)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = json.loads(self.proc.stdout.readline())["url"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the fake platform did not start")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def worker(url: str, platform: str, api_url: str, name: str, origin: datetime, wall: float, args) -> subprocess.Popen:
    cmd = [PY, str(ROOT / "bench" / "fanout_worker.py"), url, platform, api_url, name,
           "--clock-origin", origin.isoformat(), "--wall-origin", repr(wall), "--rate", str(args.rate),
           "--lease", str(args.lease), "--kinds", args.kinds]
    if args.concurrency:
        cmd += ["--concurrency", str(args.concurrency)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def quota_bound(n: int, platform: str, rate: float, latency: float, per_call: int) -> float:
    """The fastest the fake's quotas allow: `rate` calls a second after a burst of BURST_SECONDS
    of them (Slack: conversations.open and chat.postMessage each, side by side), plus one round trip."""
    calls = -(-n // per_call)
    burst = rate * BURST_SECONDS
    trips = 2 if platform == "slack" else 1
    return max(0.0, calls - burst) / rate + trips * latency


def run(args) -> dict:
    platform = args.platform
    api_url = {"slack": "/api/", "dingtalk": "", "wecom": ""}[platform]
    per_call = {"slack": 1, "dingtalk": 20, "wecom": 1000}[platform] if args.kinds == "progress_nudges" else 1
    origin = FIRE if args.kinds == "deadline_reminders" else FRIDAY
    with tempfile.TemporaryDirectory(prefix="teambot-fanout-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'fanout.db'}"
        seed(url, args.n, platform)
        fake = Fake(args.latency, args.rate)
        try:
            wall = time.time()
            bot = worker(url, platform, fake.url + api_url, "bot-1", origin, wall, args)
            started = json.loads(bot.stdout.readline())  # the bot is up; its 09:00 tick begins now
            t0 = started["ticking"]
            bound = killed_at = None
            if args.kill_at:
                deadline = time.monotonic() + args.max_seconds
                while fake.stats()["recipients"] < args.kill_at * args.n:
                    if bot.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the bot stopped before the kill: {bot.stderr.read()[-2000:]}")
                    time.sleep(0.02)
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait(10)
                state = outbox_state(url)
                bound, killed_at = state.get("sending", 0), fake.stats()["recipients"]
                bot = worker(url, platform, fake.url + api_url, "bot-2", origin, wall, args)
            try:
                out, err = bot.communicate(timeout=args.max_seconds)
            except subprocess.TimeoutExpired:
                bot.kill()
                raise RuntimeError("the bot did not finish in time") from None
            if bot.returncode != 0 or "Traceback" in err:
                raise RuntimeError(f"the bot failed ({bot.returncode}): {err[-3000:]}")
            stats = fake.stats()
            drained = json.loads(out.strip().splitlines()[-1])
        finally:
            fake.close()
        final = outbox_state(url)
    elapsed = stats["last_at"] - t0
    ideal = quota_bound(args.n, platform, args.rate, args.latency, per_call)
    return {"n": args.n, "platform": platform, "kinds": args.kinds, "latency": args.latency, "rate": args.rate,
            "elapsed_s": elapsed, "quota_bound_s": ideal, "ratio_to_bound": elapsed / ideal if ideal else None,
            "recipients": stats["recipients"], "accepted": stats["accepted"], "duplicates": stats["duplicates"],
            "order_violations": stats["order_violations"], "calls": stats["calls"], "limited": stats["limited"],
            "tick_s": started["tick_s"], "concurrency": started["concurrency"],
            "tick_cpu_ms_per_msg": started["tick_cpu_s"] * 1000 / args.n,
            "drain_cpu_ms_per_msg": drained["drain_cpu_s"] * 1000 / args.n,
            "fake_cpu_ms_per_msg": stats["cpu_s"] * 1000 / args.n,
            "outbox": final, "drain": drained, "kill_bound": bound, "killed_after": killed_at}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--latency", type=float, default=0.1)
    p.add_argument("--rate", type=float, default=RATE, help="the fake's quota and the bot's rate setting")
    p.add_argument("--platform", default="slack", choices=["slack", "dingtalk", "wecom"])
    p.add_argument("--kinds", default="deadline_reminders", choices=["deadline_reminders", "progress_nudges"])
    p.add_argument("--concurrency", type=int, default=0, help="0: the setting's default")
    p.add_argument("--lease", type=float, default=5.0, help="short, so a restart takes over soon after a kill")
    p.add_argument("--kill-at", type=float, default=0.0)
    p.add_argument("--max-seconds", type=float, default=600.0)
    args = p.parse_args(argv)
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
