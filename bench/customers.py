"""Benchmark: one team with 20,000 customers and 1,000,000 follow-ups.

    .venv/bin/python bench/customers.py [--customers 20000] [--followups 1000000]
                                       [--engines sqlite,postgresql] [--repeat 7]

For each engine it builds a fresh, migrated database, creates the team through the core (/team setup,
/team add: 20 people), bulk-loads the customers (owned round-robin, one in ten in the pool, every
stage; last active as in a team whose pool job has run every day, so a day's worth is due), their stage history
(lead, then each step up to the stage they are in) and the follow-ups (spread over two years; SQLite:
executemany in one transaction, PostgreSQL: COPY), runs ANALYZE, then times, median of --repeat after a
warm-up:

  list mine      `/customer list mine` through the dispatcher, as a rep who owns 1/20 of the customers
  stale sweep    the 09:00 pool job (reminders/customer_jobs.customer_pool) on a day when one day's
                 worth of customers is due (and a day's worth is warned): the releases are rolled back after
                 each run, so each run does the same work
  funnel         the funnel and the customer KPIs (qualified, followups, won) of the monthly KPI
                 summary: storage.customer_queries.funnel + record_actuals for a month

Target (issue 14): each under 200 ms on SQLite and PostgreSQL. The last line of output is a JSON
object with the figures, for bench/run.py. PostgreSQL: TEAMBOT_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); a throw-away database is created and dropped.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session

from bot.config import Settings
from bot.wiring import wire
from commands.core import parsing
from commands.core.clock import FixedClock
from commands.core.context import Actor, Invocation
from commands.core.workdays import calendar_for
from commands.customers.names import name_key
from commands.customers.stages import STAGES
from reminders.customer_jobs import POOL_KIND, customer_pool
from reminders.jobs import JobRun
from storage.customer_queries import funnel, record_actuals
from storage.models import Team

# The throw-away databases and the stored-timestamp form are the KPI benchmark's (this folder is on
# sys.path when a benchmark runs as a script).
from kpi_summary import Db, _ts  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thu 26 Nov 09:00 in Shanghai: a working day
MEMBERS = 20
CHANNEL = "C-bench"
CHUNK = 50_000
HOWS = ("call", "visit", "wechat", "email", "meeting")
#: Mean days since a customer's last follow-up (20,000 customers, 1,000,000 follow-ups in two years:
#: one every 15 days on average; a little sooner for the ones still being worked).
ACTIVE_MEAN_DAYS = 10
#: Customers idle longer than this were warned by an earlier day's run (30 days, 3 working days' notice).
WARNED_AFTER_DAYS = 27
#: Stage weights: most customers are early in the funnel.
STAGE_WEIGHTS = (30, 25, 15, 10, 6, 8, 6)


def _say(w, user: str, command: str, line: str):
    inv = Invocation(actor=Actor(platform="console", user_id=user, name=user), channel=CHANNEL, command=command,
                     text=line, received_at=w.clock.now())
    return w.dispatcher.handle(inv)


def seed_team(w) -> list[str]:
    users = [f"u{i:02d}" for i in range(MEMBERS)]
    for user, command, line in [(users[0], "team", "setup 华东销售一组 tz=Asia/Shanghai calendar=CN")] + \
            [(users[0], "team", f"add @{u} rep") for u in users[1:]]:
        reply = _say(w, user, command, line)
        if not reply.ok:
            raise SystemExit(f"seeding failed at /{command} {line}: {reply.plain()}")
    return users


def _steady_age(rng: random.Random) -> timedelta:
    """How long ago a customer was last active, in a team whose pool job has run every day: most were
    followed up lately (exponential, mean ACTIVE_MEAN_DAYS), none is older than the pool's 30 days and
    a day (older ones went back to the pool on earlier days), so a day's sweep releases one day's worth."""
    while True:
        days = rng.expovariate(1 / ACTIVE_MEAN_DAYS)
        if days < 30.6:
            return timedelta(days=days)


def _rows(kind: str, customers: int, followups: int, users: list[str], rng: random.Random):
    """-> (customer rows, stage-change rows, follow-up row batches (a generator))."""
    cust, changes = [], []
    for cid in range(1, customers + 1):
        stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
        owner = None if cid % 10 == 0 else users[1 + cid % (MEMBERS - 1)]
        created = NOW - timedelta(days=rng.randrange(60, 700))
        age = _steady_age(rng)
        active = NOW - age
        # Yesterday's run warned those already inside the warning window: the pool job runs daily.
        warned = _ts(NOW - timedelta(days=1), kind) if age > timedelta(days=WARNED_AFTER_DAYS) else None
        name = f"客户{cid:05d}科技有限公司"
        cust.append((cid, 1, name, name_key(name), f"138{cid:08d}", f"138{cid:08d}", "陈总", "展会", stage,
                     float(rng.randrange(1, 200) * 10_000) if stage not in ("lead", "contacted") else None,
                     "价格" if stage == "lost" else "", owner, None, None, "", users[0], _ts(created, kind),
                     _ts(created, kind), _ts(active, kind), _ts(active, kind), warned, _ts(active, kind), 1))
        path = ["lead"] + ([s for s in STAGES[1:5] if STAGES.index(s) <= STAGES.index(stage)]
                           if stage not in ("won", "lost") else list(STAGES[1:rng.randrange(2, 6)]) + [stage])
        at = created
        for prev, nxt in zip([None] + path[:-1], path):
            at = at + timedelta(days=rng.randrange(1, 20))
            changes.append((cid, 1, prev, nxt, None, owner, users[0], _ts(min(at, NOW), kind), ""))

    def batches():
        left = followups
        span = 730 * 86400
        while left:
            size = min(CHUNK, left)
            left -= size
            rows = []
            for _ in range(size):
                cid = rng.randrange(1, customers + 1)
                at = NOW - timedelta(seconds=rng.randrange(span))
                rows.append((1, cid, users[1 + cid % (MEMBERS - 1)], rng.choice(HOWS), "沟通需求，约下次拜访",
                             _ts(at, kind), None, None, None))
            yield rows
    return cust, changes, batches()


CUSTOMER_COLS = ("id, team_id, name, name_key, phone, phone_key, contact, source, stage, amount, lost_reason, "
                 "owner_id, last_owner_id, released_at, release_reason, created_by, created_at, stage_changed_at, "
                 "last_followup_at, active_at, pool_warned_at, updated_at, version")
CHANGE_COLS = "customer_id, team_id, from_stage, to_stage, amount, owner_id, by, at, reason"
FOLLOWUP_COLS = "team_id, customer_id, by, how, note, at, next_on, next_state, entry_id"


def load(db: Db, customers: int, followups: int, users: list[str], seed: int = 1) -> None:
    rng = random.Random(seed)
    cust, changes, batches = _rows(db.kind, customers, followups, users, rng)
    with db.engine.begin() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        if db.kind == "sqlite":
            def put(table: str, cols: str, rows) -> None:
                marks = ",".join("?" * len(cols.split(",")))
                cur.executemany(f'INSERT INTO {table} ({cols}) VALUES ({marks})', rows)
        else:
            def put(table: str, cols: str, rows) -> None:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
        put("customer", CUSTOMER_COLS, cust)
        put("customer_stage_change", CHANGE_COLS.replace(" by,", ' "by",'), changes)
        for rows in batches:
            put("followup", FOLLOWUP_COLS.replace(" by,", ' "by",'), rows)
        if db.kind == "postgresql":
            cur.execute("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")
    if db.kind == "sqlite":
        with db.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(db: Db, w, users: list[str], repeat: int) -> dict:
    rep = users[1]
    out: dict = {}

    def list_mine():
        reply = _say(w, rep, "customer", "list mine")
        if not reply.ok:
            raise SystemExit(f"/customer list mine failed: {reply.plain()}")
    out["list_mine_ms"] = _median_ms(list_mine, repeat)

    with Session(db.engine) as session:
        team = session.get(Team, 1)
        cal = calendar_for(team.calendar)

    def sweep(day_offset: int):
        def run():
            fire = NOW + timedelta(days=day_offset)
            with Session(db.engine) as session:
                team = session.get(Team, 1)
                job = JobRun(team=team, kind=POOL_KIND, slot=fire, fire_at=fire, now=fire, calendar=cal)
                customer_pool(session, job)
                session.rollback()  # every run does the same work
        return run
    out["stale_sweep_ms"] = _median_ms(sweep(0), repeat)
    with db.engine.connect() as c:
        cutoff = NOW - timedelta(days=30)
        out["released_per_sweep"] = c.execute(text(
            "SELECT count(*) FROM customer WHERE owner_id IS NOT NULL AND stage NOT IN ('won', 'lost') "
            "AND active_at < :cut"), {"cut": _ts(cutoff + timedelta(hours=16), db.kind)}).scalar()

    month = parsing.period_of("month", date(2026, 11, 1), TZ)

    def funnel_and_kpis():
        with Session(db.engine) as session:
            funnel(session, 1)
            record_actuals(session, 1, ["qualified", "followups", "won", "won_amount"], month.start, month.end)
    out["funnel_ms"] = _median_ms(funnel_and_kpis, repeat)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--followups", type=int, default=1_000_000)
    p.add_argument("--engines", default="sqlite,postgresql")
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in [e.strip() for e in args.engines.split(",") if e.strip()]:
            db = Db(kind, Path(tmp))
            try:
                w = wire(Settings(platform="console", database_url=db.url), clock=FixedClock(NOW), upgrade=False)
                users = seed_team(w)
                t0 = time.perf_counter()
                load(db, args.customers, args.followups, users)
                loaded = time.perf_counter() - t0
                r = measure(db, w, users, args.repeat)
                r["load_s"] = loaded
                results[kind] = r
                print(f"{kind:10s} {args.customers:,} customers, {args.followups:,} follow-ups (loaded in "
                      f"{loaded:.0f} s): list mine {r['list_mine_ms']:.1f} ms · stale sweep "
                      f"{r['stale_sweep_ms']:.1f} ms ({r['released_per_sweep']} released) · funnel + KPIs "
                      f"{r['funnel_ms']:.1f} ms", flush=True)
                w.engine.dispose()
            finally:
                db.drop()
    print(json.dumps({"customers": args.customers, "followups": args.followups, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
