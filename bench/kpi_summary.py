"""Benchmark: one team's monthly KPI summary with 10k, 100k and 1M progress entries in the database.

    .venv/bin/python bench/kpi_summary.py [--sizes 10000,100000,1000000] [--engines sqlite,postgresql]
                                         [--layouts teams,one-team] [--repeat 7]

For each engine, layout and size it builds a fresh, migrated database, bulk-loads N progress entries
(1-3 metric values each; SQLite: executemany in one transaction, PostgreSQL: COPY), runs ANALYZE,
then times reminders.summary_jobs.kpi_summary() for team 1 and September 2026 -- the per-metric
table (actual, target, attainment, previous month, same month last year), the leaderboard and the
recognition lines, i.e. every query the monthly post runs -- and prints the median of --repeat runs
after a warm-up. The chart (matplotlib; its cost does not depend on N) is timed once, separately.

Layouts:
  teams     N entries spread over 24 months and max(1, N / 10,000) teams of 20 people: a database
            holding many teams' history; team 1's month has the same few hundred entries at every N.
  one-team  all N entries belong to team 1 (24 months): a stress case; its month grows with N.

Target (issue 5): under 200 ms at 1M, and the growth 100k -> 1M well below tenfold.
PostgreSQL: TEAMBOT_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test); a
throw-away database is created and dropped.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from commands.core import parsing
from commands.core.metrics import DEFAULT_METRICS
from reminders import summary_jobs
from storage import migrate
from storage.db import make_engine
from storage.models import Team

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("TEAMBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN_S = int((datetime(2026, 11, 1, tzinfo=UTC) - START).total_seconds())
MEMBERS = 20
ENTRIES_PER_TEAM = 10_000
NOW = datetime(2026, 10, 8, 1, 0, tzinfo=UTC)  # Oct 8 09:00 in Shanghai: the monthly post's time
CHUNK = 50_000


# -- databases -------------------------------------------------------------------------------------


class Db:
    def __init__(self, kind: str, tmp: Path):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        else:
            self.name = f"teambot_bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)
        self.engine = make_engine(self.url)
        migrate.upgrade(self.engine)

    def drop(self) -> None:
        self.engine.dispose()
        if self.kind == "postgresql":
            admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(make_url(self.url).database + suffix).unlink(missing_ok=True)


# -- data ------------------------------------------------------------------------------------------


def _ts(t: datetime, kind: str):
    # what storage.types.UTCDateTime stores: naive UTC text on SQLite, timestamptz on PostgreSQL
    return t.replace(tzinfo=None).isoformat(sep=" ") if kind == "sqlite" else t


def load(db: Db, n: int, layout: str, seed: int = 1) -> dict:
    rng = random.Random(seed)
    teams = 1 if layout == "one-team" else max(1, n // ENTRIES_PER_TEAM)
    created = _ts(START, db.kind)
    team_rows, member_rows, metric_rows, goal_rows = [], [], [], []
    for t in range(1, teams + 1):
        team_rows.append((t, "slack", f"C{t}", f"团队{t}", "Asia/Shanghai", "CN", "zh", "U0", created))
        for i in range(MEMBERS):
            member_rows.append((t, f"u{t}_{i}", f"成员{t}-{i}", "manager" if i == 0 else "rep", created))
        for k, (code, zh, en, unit, agg, aliases) in enumerate(DEFAULT_METRICS):
            metric_rows.append(((t - 1) * len(DEFAULT_METRICS) + k + 1, t, code, zh, en, unit, agg, aliases))
    sep = parsing.period_of("month", date(2026, 9, 1), TZ)
    goal_rows.append((1, 1, None, 5_000_000.0, "month", False, _ts(sep.start, db.kind), _ts(sep.end, db.kind),
                      "absolute", "active", "U0", created, created))
    for i in range(1, 6):
        goal_rows.append((1, 1, f"u1_{i}", 300_000.0, "month", True, None, None, "absolute", "active", "U0",
                          created, created))
    m = len(DEFAULT_METRICS)
    values = 0

    def batches():
        nonlocal values
        entry_id = value_id = 0
        per_team = [n // teams + (1 if t < n % teams else 0) for t in range(teams)]
        for t, count in enumerate(per_team, start=1):
            left = count
            while left:
                size = min(CHUNK, left)
                left -= size
                entries, vals = [], []
                for _ in range(size):
                    entry_id += 1
                    user = f"u{t}_{rng.randrange(MEMBERS)}"
                    at = _ts(START + timedelta(seconds=rng.randrange(SPAN_S)), db.kind)
                    entries.append((entry_id, t, user, "拜访客户，推进合同", False, at))
                    for k in rng.sample(range(m), rng.choice((1, 1, 2, 3))):
                        value_id += 1
                        v = float(rng.randrange(1, 500) * (1000 if k == 0 else 1)) if k != 2 else float(
                            rng.randint(60, 100))
                        vals.append((value_id, entry_id, t, (t - 1) * m + k + 1, user, v, at))
                values += len(vals)
                yield entries, vals

    with db.engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        if db.kind == "sqlite":
            cur.executemany("INSERT INTO team (id, platform, channel_id, name, tz, calendar, lang, created_by, "
                            "created_at) VALUES (?,?,?,?,?,?,?,?,?)", team_rows)
            cur.executemany("INSERT INTO member (team_id, user_id, display_name, role, joined_at) "
                            "VALUES (?,?,?,?,?)", member_rows)
            cur.executemany("INSERT INTO metric (id, team_id, code, name_zh, name_en, unit, aggregation, aliases) "
                            "VALUES (?,?,?,?,?,?,?,?)", metric_rows)
            cur.executemany("INSERT INTO goal (team_id, metric_id, user_id, target, kind, recurring, period_start, "
                            "period_end, basis, status, created_by, created_at, updated_at) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", goal_rows)
            for entries, vals in batches():
                cur.executemany("INSERT INTO progress_entry (id, team_id, user_id, note, is_blocker, created_at) "
                                "VALUES (?,?,?,?,?,?)", entries)
                cur.executemany("INSERT INTO progress_value (id, entry_id, team_id, metric_id, user_id, value, "
                                "created_at) VALUES (?,?,?,?,?,?,?)", vals)
        else:
            def copy(sql: str, rows) -> None:
                with cur.copy(sql) as cp:
                    for r in rows:
                        cp.write_row(r)

            copy("COPY team (id, platform, channel_id, name, tz, calendar, lang, created_by, created_at) "
                 "FROM STDIN", team_rows)
            copy("COPY member (team_id, user_id, display_name, role, joined_at) FROM STDIN", member_rows)
            copy("COPY metric (id, team_id, code, name_zh, name_en, unit, aggregation, aliases) FROM STDIN",
                 metric_rows)
            copy("COPY goal (team_id, metric_id, user_id, target, kind, recurring, period_start, period_end, "
                 "basis, status, created_by, created_at, updated_at) FROM STDIN", goal_rows)
            for entries, vals in batches():
                copy("COPY progress_entry (id, team_id, user_id, note, is_blocker, created_at) FROM STDIN",
                     entries)
                copy("COPY progress_value (id, entry_id, team_id, metric_id, user_id, value, created_at) "
                     "FROM STDIN", vals)
            for table in ("team", "metric", "progress_entry", "progress_value", "member", "goal"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")
    if db.kind == "sqlite":
        with db.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    with db.engine.connect() as c:
        lo, hi = sep.start.astimezone(UTC), sep.end.astimezone(UTC)
        month_rows = c.execute(text("SELECT count(*) FROM progress_value WHERE team_id = 1 AND created_at >= :a "
                                    "AND created_at < :b"), {"a": _ts(lo, db.kind), "b": _ts(hi, db.kind)}).scalar()
    return {"teams": teams, "values": values, "month_rows": month_rows, "period": sep}


# -- timing ----------------------------------------------------------------------------------------


def build(db: Db, period, *, chart: bool, folder: Path):
    with Session(db.engine) as session:
        team = session.get(Team, 1)
        return summary_jobs.kpi_summary(session, team, period, "bench", now=NOW, tz=TZ, lang="zh", chart=chart,
                                        folder=folder)


def time_it(db: Db, period, repeat: int, folder: Path) -> list[float]:
    out = build(db, period, chart=False, folder=folder)  # warm-up: connections, caches, imports
    assert out is not None and out.reply.parts
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        build(db, period, chart=False, folder=folder)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--layouts", default="teams,one-team")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    engines = [x.strip() for x in args.engines.split(",") if x.strip()]
    layouts = [x.strip() for x in args.layouts.split(",") if x.strip()]
    results: dict[tuple[str, str, int], float] = {}
    print(f"{'engine':<11} {'layout':<9} {'entries':>9} {'values':>9} {'teams':>5} {'team-1 month':>12} "
          f"{'load s':>7} {'median ms':>9} {'min ms':>7} {'max ms':>7}", flush=True)
    chart_ms = None
    with tempfile.TemporaryDirectory(prefix="teambot-bench-") as tmp:
        tmpdir = Path(tmp)
        for engine in engines:
            for layout in layouts:
                for n in sizes:
                    db = Db(engine, tmpdir)
                    try:
                        t0 = time.perf_counter()
                        info = load(db, n, layout)
                        load_s = time.perf_counter() - t0
                        times = time_it(db, info["period"], args.repeat, tmpdir)
                        med = statistics.median(times)
                        results[(engine, layout, n)] = med
                        print(f"{engine:<11} {layout:<9} {n:>9,} {info['values']:>9,} {info['teams']:>5} "
                              f"{info['month_rows']:>12,} {load_s:>7.1f} {med:>9.1f} {min(times):>7.1f} "
                              f"{max(times):>7.1f}", flush=True)
                        if chart_ms is None:
                            build(db, info["period"], chart=True, folder=tmpdir)  # font lookup, imports
                            t0 = time.perf_counter()
                            build(db, info["period"], chart=True, folder=tmpdir)
                            chart_ms = (time.perf_counter() - t0) * 1000
                    finally:
                        db.drop()
    print()
    ok = True
    for engine in engines:
        for layout in layouts:
            a, b = results.get((engine, layout, 100_000)), results.get((engine, layout, 1_000_000))
            if a and b:
                growth = b / a
                print(f"{engine:<11} {layout:<9} growth 100k -> 1M: {growth:.2f}x   1M: {b:.1f} ms")
                ok &= b < 200 and (layout != "teams" or growth < 3)
    if chart_ms is not None:
        print(f"\nthe same summary with its chart (matplotlib PNG; the drawing does not depend on N), "
              f"warm: {chart_ms:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
