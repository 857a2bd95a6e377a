"""teambot benchmarks: one command, one table, every figure next to a baseline from the same run.

    .venv/bin/python bench/run.py [--quick] [--only throughput,fanout,kpi,customers] [--json FILE]

What it measures (issue 8), all on 127.0.0.1 and bounded in time:

1. Command throughput and latency. `/progress signed ACME annual deal sales=500k customers=1`
   (parse, write the entry and its values, reply) through teambot's real HTTP server: the
   production entry point `python -m bot.cli run` (= `teambot run`) in Slack HTTP mode, as its own
   process (uvicorn + Starlette + the real Bolt app + SQLite/PostgreSQL). The load generator
   (bench/loadgen.py) is another process: signed requests, 8 keep-alive connections, each request a
   fresh trigger_id. Baselines on the same server stack (bot.slack.server.build_asgi/build_server):
   a bare Bolt app whose /progress only acks a fixed text (bench/bare_bolt.py): with Bolt's
   defaults; with process_before_response=True in Starlette's thread pool; and with
   process_before_response=True on the event loop's thread, which is how teambot runs a typed
   command (bot.slack.app.runs_inline; on SQLite the commands of one event-loop turn share one
   commit, bot.group_commit, and none is answered before it; on PostgreSQL each statement is
   awaited, storage/awaited.py). All servers run at once and take turns under load,
   round after round, so that a slow minute of a shared machine falls on each alike; each figure is
   the median of its rounds, and a ratio the median of the per-round ratios.
   Targets: teambot >= 40 % of the fastest bare-Bolt throughput; p99 < 50 ms; on PostgreSQL, the
   bot's own CPU per command at most 1.5x its SQLite figure (median of the per-round ratios).
   Checked: every answer is HTTP 200 with a reply, the bot logs no traceback, and the database holds
   exactly one new progress entry per answer (a refused or failed command writes none, so any
   failure shows up as a mismatch and fails the bench). PostgreSQL too when it is reachable
   (TEAMBOT_BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test; a throw-away
   database is created and dropped).
   Also shown: each server process's CPU per request (/proc/<pid>/stat over its turns, warm-up
   included) against the fastest bare Bolt's, and, when the PostgreSQL server runs on this machine,
   the CPU its processes and the load generator used per command: what the 40 % target leaves for
   teambot's own process on this machine.
2. Resident memory (VmRSS from /proc/<pid>/status) of the teambot process right after its
   throughput run, against the bare Bolt process. Target < 200 MB.
3. Scheduler + outbox overhead per message when 10,000 reminders fall due at once
   (bench/fanout.py): tick + enqueue + drain + bot/slack/sender.SlackSender against a FakeSlack in
   its own process, pacing off; baseline: the same through tests/kit RecordingSender.
   Target < 2 ms per message.
   Then 10,000 DMs to 10,000 people against a platform 100 ms away with real quotas
   (bench/fanout_latency.py: bench/fake_platform.py and the bot each in a process of their own):
   seconds until the last is delivered, against the fastest the fake's quotas allow (targets:
   <= 60 s and within 10 % of that), duplicates and order violations (0); the same with the bot
   killed (SIGKILL) halfway and restarted (everything delivered, duplicates no more than the
   outbox had in `sending` at the kill); the Friday nudge to 10,000 people on DingTalk (20 a call)
   and WeCom (1,000 a call).
4. KPI summary build time at 10k / 100k / 1M progress entries: bench/kpi_summary.py (the goals
   benchmark), run as a subprocess; each size against its 10k figure.
5. Customers (issue 14): bench/customers.py, one team with 20,000 customers and 1,000,000 follow-ups:
   `/customer list mine`, the 09:00 pool sweep and the funnel with the customer KPIs, each < 200 ms on
   SQLite and PostgreSQL (--quick: 2,000 customers and 100,000 follow-ups).

Exit status: 0 when every measurement ran (PASS/MISS per target is printed, a MISS is not an
error); 1 when a measurement could not be made or produced wrong results (a 5xx, a missing row...).
--quick (about 3 minutes): 9 rounds of 1.5 s load runs instead of 15 rounds of 3 s; the KPI
benchmark on SQLite and its `teams` layout only, 3 repeats instead of 7. The same figures and
targets otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PY = sys.executable
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
CHANNEL = "CBENCH"
USERS = [f"UBENCH{i}" for i in range(8)]
PROGRESS_TEXT = "signed ACME annual deal sales=500k customers=1"
PG_URL = os.environ.get("TEAMBOT_BENCH_PG_URL",
                        os.environ.get("TEAMBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
CONCURRENCY = 8
#: How the bot is started: the production entry point (`teambot run`).
TEAMBOT_CMD = [PY, "-m", "bot.cli", "run"]


class BenchError(RuntimeError):
    """A measurement could not be made, or its results are wrong."""


# --- processes -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Stop one process we started: SIGTERM, then SIGKILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_healthy(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/healthz"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError(f"server not healthy on {url} after {timeout}s:\n{tail(log)}")


def tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stat_cpu(raw: str) -> float:
    """User + system CPU seconds from the text of /proc/<pid>/stat (fields after the name)."""
    fields = raw.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return _stat_cpu(f.read())


def postgres_cpu_seconds() -> float | None:
    """CPU so far of the PostgreSQL server processes on this machine (None if none is visible)."""
    total, seen = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        if raw[raw.find("(") + 1:raw.rfind(")")].startswith("postgres"):
            total += _stat_cpu(raw)
            seen = True
    return total if seen else None


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB from /proc/<pid>/status."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


class FakeSlackProcess:
    """bench/fake_slack_server.py: the Slack Web API the bots talk to (auth.test, users.info, chat.*)."""

    def __enter__(self) -> FakeSlackProcess:  # noqa: PYI034
        self.proc = subprocess.Popen([PY, str(BENCH / "fake_slack_server.py"), "--max-seconds", "3600"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError("FakeSlack did not start")
        info = json.loads(line)
        self.url, self.base = info["url"], info["base"]
        return self

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "stats", timeout=5) as r:
            return json.loads(r.read())["calls"]

    def __exit__(self, *exc) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            stop(self.proc)


# --- load ----------------------------------------------------------------------------------------------


@dataclass
class Load:
    name: str
    rps: float
    p50: float
    p99: float
    p90: float
    requests: int
    ok_total: int
    statuses: dict
    rss: float = float("nan")
    hwm: float = float("nan")
    extra: dict = field(default_factory=dict)


def run_load(port: int, *, expect: str, duration: float, warmup: float, users: list[str],
             channel: str) -> dict:
    cmd = [PY, str(BENCH / "loadgen.py"), "--port", str(port), "--secret", SECRET, "--users", ",".join(users),
           "--channel", channel, "--command", "/progress", "--text", PROGRESS_TEXT, "--expect", expect,
           "--concurrency", str(CONCURRENCY), "--duration", str(duration), "--warmup", str(warmup),
           "--run-id", uuid.uuid4().hex[:8]]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + warmup + 120, cwd=ROOT,
                             check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("load generator timed out") from None
    if out.returncode != 0:
        raise BenchError(f"load generator failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def check_load(name: str, r: dict) -> None:
    bad = {k: v for k, v in r["statuses"].items() if k != "200"}
    if bad or r["unexpected"] or r["requests"] == 0:
        raise BenchError(f"{name}: {r['requests']} answers, statuses {r['statuses']}, "
                         f"{r['unexpected']} without the expected text; e.g. {r['sample']}")


class Server:
    """One server process under load (a bare Bolt app or teambot), kept running across rounds."""

    def __init__(self, name: str, cmd: list[str], log: Path, *, expect: str, users: list[str], channel: str,
                 env: dict | None = None, cwd: Path = ROOT, db_url: str | None = None) -> None:
        self.name, self.cmd, self.log, self.expect = name, cmd, log, expect
        self.users, self.channel, self.env, self.cwd, self.db_url = users, channel, env, cwd, db_url
        self.port = free_port()
        self.cmd = [*cmd, "--port", str(self.port)] if env is None else cmd
        if env is not None:
            self.env = {**env, "TEAMBOT_HTTP_PORT": str(self.port)}
        self.rounds: list[dict] = []
        self.proc: subprocess.Popen | None = None
        self.rows_before = 0

    def start(self) -> None:
        with open(self.log, "w") as logf:
            self.proc = subprocess.Popen(self.cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=self.cwd, env=self.env)
        wait_healthy(self.proc, self.port, self.log)
        if self.db_url:
            self.rows_before = progress_rows(self.db_url)

    def warm(self, seconds: float) -> None:
        r = run_load(self.port, expect=self.expect, duration=seconds, warmup=0.0, users=self.users,
                     channel=self.channel)
        check_load(self.name, r)
        if self.db_url:
            self.rows_before = progress_rows(self.db_url)

    def load(self, duration: float, warmup: float) -> None:
        on_pg = bool(self.db_url) and self.db_url.startswith("postgresql")
        cpu0, pg0 = cpu_seconds(self.proc.pid), postgres_cpu_seconds() if on_pg else None
        r = run_load(self.port, expect=self.expect, duration=duration, warmup=warmup, users=self.users,
                     channel=self.channel)
        check_load(self.name, r)
        # CPU per request, warm-up included (the servers take turns: nothing else runs meanwhile).
        n = max(1, r["requests_total"])
        r["server_cpu_ms"] = (cpu_seconds(self.proc.pid) - cpu0) * 1000 / n
        r["loadgen_cpu_ms"] = r["cpu_s"] * 1000 / n
        pg1 = postgres_cpu_seconds() if pg0 is not None else None
        if pg1 is not None:
            r["postgres_cpu_ms"] = (pg1 - pg0) * 1000 / n
        self.rounds.append(r)

    def result(self) -> Load:
        """Medians over the rounds; RSS now (the process is still running)."""
        med = lambda key: statistics.median(r[key] for r in self.rounds)  # noqa: E731
        rss, hwm = rss_mb(self.proc.pid)
        extra = {"rounds_rps": [round(r["rps"]) for r in self.rounds]}
        for key in ("server_cpu_ms", "loadgen_cpu_ms", "postgres_cpu_ms"):
            if all(key in r for r in self.rounds):
                extra[key] = med(key)
        return Load(self.name, med("rps"), med("p50_ms"), med("p99_ms"), med("p90_ms"),
                    sum(r["requests"] for r in self.rounds), sum(r["ok_total"] for r in self.rounds),
                    {}, rss, hwm, extra)

    def check(self) -> None:
        """teambot only: one progress entry per good answer, and no traceback in its log."""
        if not self.db_url:
            return
        ok = sum(r["ok_total"] for r in self.rounds)
        written = progress_rows(self.db_url) - self.rows_before
        if written != ok:
            raise BenchError(f"{self.name}: {ok} good answers but {written} progress entries written")
        if "Traceback" in tail(self.log, 200):
            raise BenchError(f"{self.name}: the bot logged a traceback:\n{tail(self.log)}")

    def stop(self) -> None:
        stop(self.proc)


def bare_bolt(fake: FakeSlackProcess, tmp: Path, *, pbr: bool, inline: bool = False) -> Server:
    name = ("bare Bolt, process_before_response=True" + (", on the event loop" if inline else ", thread pool")
            if pbr else "bare Bolt, default settings")
    cmd = [PY, str(BENCH / "bare_bolt.py"), "--secret", SECRET, "--api-url", fake.url]
    cmd += ["--pbr"] if pbr else []
    cmd += ["--inline"] if inline else []
    tag = "pbr-inline" if inline else ("pbr" if pbr else "default")
    return Server(name, cmd, tmp / f"bare-{tag}.log", expect="ok: noted", users=USERS[:1], channel="C1")


def seed_teambot(url: str) -> None:
    """A team bound to CHANNEL with the eight load users as members (manager + reps), via the core."""
    from bot.config import Settings
    from bot.wiring import wire
    from commands.core.context import Actor, Invocation

    w = wire(Settings(platform="slack", database_url=url))

    def say(user: str, command: str, text: str) -> None:
        inv = Invocation(actor=Actor(platform="slack", user_id=user, name=user), channel=CHANNEL,
                         command=command, text=text, received_at=w.clock.now())
        reply = w.dispatcher.handle(inv)
        if not reply.ok:
            raise BenchError(f"seeding failed at /{command} {text}: {reply.plain()}")

    say(USERS[0], "team", "setup 华东销售一组 tz=Asia/Shanghai calendar=CN")
    for u in USERS[1:]:
        say(USERS[0], "team", f"add <@{u}> rep")
    w.engine.dispose()


def progress_rows(url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.models import ProgressEntry

    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(select(func.count()).select_from(ProgressEntry)).scalar_one()
    finally:
        engine.dispose()


def teambot(fake: FakeSlackProcess, url: str, label: str, tmp: Path) -> Server:
    """The production entry point (`teambot run`) in Slack HTTP mode on `url`, seeded with a team."""
    seed_teambot(url)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "TEAMBOT_", "DINGTALK_", "WECOM_"))}
    env.update({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.url,
        "TEAMBOT_HTTP_HOST": "127.0.0.1", "TEAMBOT_DATABASE_URL": url,
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    # cwd: an empty folder, so no ./config.toml of the developer's is picked up.
    folder = tmp / f"teambot-{label.lower()}"
    folder.mkdir(exist_ok=True)
    return Server(f"teambot /progress, {label}", TEAMBOT_CMD, tmp / f"teambot-{label.lower()}.log",
                  expect='"response_type"', users=USERS, channel=CHANNEL, env=env, cwd=folder, db_url=url)


class PgDatabase:
    def __init__(self) -> None:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from storage.db import make_engine

        self.name = f"teambot_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        from sqlalchemy import text

        from storage.db import make_engine

        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def pg_reachable() -> str | None:
    from sqlalchemy import text

    from storage.db import make_engine
    try:
        eng = make_engine(PG_URL)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


# --- the table -------------------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_ms(x: float) -> str:
    return f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def print_table(rows: list[Row], notes: list[str]) -> None:
    head = Row("figure", "value", "baseline (same run)", "ratio", "target", "")
    cols = [head, *rows]
    widths = [max(len(getattr(r, f)) for r in cols) for f in ("figure", "value", "baseline", "ratio", "target")]
    def line(r: Row) -> str:
        return "  ".join([r.figure.ljust(widths[0]), r.value.rjust(widths[1]), r.baseline.ljust(widths[2]),
                          r.ratio.rjust(widths[3]), r.target.ljust(widths[4]), r.verdict]).rstrip()
    print()
    print(line(head))
    print("-" * (sum(widths) + 2 * 5 + 4))
    for r in rows:
        print(line(r))
    if notes:
        print()
        for n in notes:
            print(n)


# --- sections -------------------------------------------------------------------------------------------


def section_throughput(fake, quick: bool, tmp: Path, rows: list[Row], notes: list[str], results: dict) -> None:
    rounds, duration, warmup = (9, 1.5, 0.3) if quick else (15, 3.0, 0.5)
    bare = [bare_bolt(fake, tmp, pbr=False), bare_bolt(fake, tmp, pbr=True),
            bare_bolt(fake, tmp, pbr=True, inline=True)]
    bots = [teambot(fake, f"sqlite:///{tmp / 'teambot-bench.db'}", "SQLite", tmp)]
    why = pg_reachable()
    pg = PgDatabase() if why is None else None
    if pg is None:
        notes.append(f"PostgreSQL not measured: {PG_URL} unreachable ({why}).")
    servers = [*bare, *bots]
    print(f"* throughput: {len(servers) + (pg is not None)} servers, {CONCURRENCY} connections, {rounds} rounds "
          f"of {warmup:g} s warm-up + {duration:g} s each, servers taking turns ...", flush=True)
    try:
        if pg is not None:
            bots.append(teambot(fake, pg.url, "PostgreSQL", tmp))
            servers.append(bots[-1])
        for srv in servers:
            srv.start()
        for srv in servers:  # first requests fill caches (compiled SQL, users.info): not measured
            srv.warm(warmup * 2)
        # Taking turns, so that a slower minute of a shared machine falls on every server alike.
        for _ in range(rounds):
            for srv in servers:
                srv.load(duration, warmup)
        measured = {srv: srv.result() for srv in servers}
        for srv in bots:
            srv.check()
    finally:
        for srv in servers:
            srv.stop()
        if pg is not None:
            pg.drop()
    for srv in servers:
        m = measured[srv]
        print(f"  {m.name}: {m.rps:,.0f} req/s (rounds: {', '.join(map(str, m.extra['rounds_rps']))}), "
              f"p50 {m.p50:.1f} ms, p99 {m.p99:.1f} ms", flush=True)
    bare_m = [measured[b] for b in bare]
    fastest = max(bare_m, key=lambda b: b.rps)
    fastest_srv = bare[bare_m.index(fastest)]

    def round_ratio(srv: Server) -> float:
        """Median over rounds of (this server / the fastest bare Bolt in the same round): each pair
        measured seconds apart, so a machine that speeds up or slows down between rounds (a shared
        VM does) moves both figures together."""
        return statistics.median(mine["rps"] / base["rps"] for mine, base in zip(srv.rounds, fastest_srv.rounds))

    base_cpu = fastest.extra["server_cpu_ms"]

    def cpu_row(m: Load) -> Row:
        cpu = m.extra["server_cpu_ms"]
        return Row(f"{m.name}: server CPU per request", f"{cpu:.2f} ms",
                   "fastest bare Bolt" if m is fastest else f"{base_cpu:.2f} ms (fastest bare)", f"{cpu / base_cpu:.2f}")

    for b in bare_m:
        rows.append(Row(f"{b.name}: throughput", f"{b.rps:,.0f} req/s", "fastest bare Bolt" if b is fastest else
                        f"{fastest.rps:,.0f} req/s (fastest)", f"{b.rps / fastest.rps:.2f}"))
        rows.append(Row(f"{b.name}: p50 / p99", f"{fmt_ms(b.p50)} / {fmt_ms(b.p99)}"))
        rows.append(cpu_row(b))
    for srv in bots:
        r = measured[srv]
        ratio = round_ratio(srv)
        r.extra["ratio"] = ratio
        rows.append(Row(f"{r.name}: throughput", f"{r.rps:,.0f} req/s", f"{fastest.rps:,.0f} req/s (fastest bare)",
                        f"{ratio:.2f}", ">= 0.40", verdict(ratio >= 0.40)))
        rows.append(Row(f"{r.name}: p50", fmt_ms(r.p50), fmt_ms(fastest.p50), f"{r.p50 / fastest.p50:.2f}"))
        rows.append(Row(f"{r.name}: p99", fmt_ms(r.p99), fmt_ms(fastest.p99), f"{r.p99 / fastest.p99:.2f}",
                        "< 50 ms", verdict(r.p99 < 50)))
        rows.append(cpu_row(r))
        if "postgres_cpu_ms" in r.extra:
            notes.append(cpu_budget(r, fastest))
    if len(bots) > 1:
        rows.append(pg_against_sqlite(bots[0], bots[1], measured))
    main = measured[bots[0]]
    base_mem = measured[bare[1]]
    rows.append(Row("teambot RSS after its SQLite runs (VmRSS)", f"{main.rss:.0f} MB",
                    f"{base_mem.rss:.0f} MB (bare Bolt pbr)", f"{main.rss / base_mem.rss:.2f}", "< 200 MB",
                    verdict(main.rss < 200)))
    rows.append(Row("teambot peak RSS (VmHWM)", f"{main.hwm:.0f} MB", f"{base_mem.hwm:.0f} MB",
                    f"{main.hwm / base_mem.hwm:.2f}"))
    for srv in bots[1:]:
        r = measured[srv]
        rows.append(Row(f"teambot RSS after its {r.name.split(', ')[-1]} runs", f"{r.rss:.0f} MB",
                        f"{base_mem.rss:.0f} MB", f"{r.rss / base_mem.rss:.2f}", "< 200 MB", verdict(r.rss < 200)))
    notes.append(f"Throughput: {CONCURRENCY} keep-alive connections from bench/loadgen.py (own process); each "
                 f"server its own process, all started and warmed up first, then {rounds} rounds in which they "
                 "take turns "
                 f"({warmup:g} s warm-up + {duration:g} s measured each); figures are the medians of the rounds, "
                 "and a throughput ratio is the median of the per-round ratios (teambot / the fastest bare Bolt "
                 "in the same round). "
                 "Every answer checked (HTTP 200 + reply) and one progress entry per answer verified in the "
                 "database.")
    notes.append("Dispatch: teambot on SQLite answers a typed slash command on the event loop's thread (no Slack "
                 "call, short local work), and the commands of one loop turn share one commit (group commit; "
                 "each is answered after it); the bare Bolt figures show the same stack with the thread pool and "
                 "with the event loop. teambot on PostgreSQL runs it on the event loop's thread too, each "
                 "command in its own transaction, each statement awaited (storage/awaited.py): its reads "
                 "run before the transaction and its writes go out with the commit: two round trips "
                 "for a /progress.")
    results["throughput"] = {m.name: m.__dict__ for m in measured.values()}


def pg_against_sqlite(sqlite: Server, pg: Server, measured: dict) -> Row:
    """The bot's own CPU per command on PostgreSQL against SQLite: the median of the per-round ratios
    (the two take turns, so each pair shares the machine's state). Target: at most 1.5x."""
    ratio = statistics.median(p["server_cpu_ms"] / s["server_cpu_ms"] for s, p in zip(sqlite.rounds, pg.rounds))
    return Row("PostgreSQL CPU per command against SQLite's", f"{measured[pg].extra['server_cpu_ms']:.2f} ms",
               f"{measured[sqlite].extra['server_cpu_ms']:.2f} ms (SQLite)", f"{ratio:.2f}", "<= 1.5x",
               verdict(ratio <= 1.5))


def cpu_budget(r: Load, fastest: Load) -> str:
    """What the 40 % target asks of this machine's CPUs when PostgreSQL runs on it too."""
    cpus = os.cpu_count() or 1
    target = 0.40 * fastest.rps
    pg, gen = r.extra["postgres_cpu_ms"], r.extra["loadgen_cpu_ms"]
    busy = (pg + gen) * target / 1000
    left = max(0.0, cpus - busy) * 1000 / target
    bare, mine = fastest.extra["server_cpu_ms"], r.extra["server_cpu_ms"]
    verdict_text = (f"less than bare Bolt itself needs ({bare:.2f} ms): out of reach with the database on "
                    "this machine" if left < bare else
                    f"where it used {mine:.2f} ms ({mine / left:.1f}x that; bare Bolt needs {bare:.2f} ms)")
    return (f"{r.name}: the PostgreSQL server processes used {pg:.2f} ms of CPU per command and the load "
            f"generator {gen:.2f} ms. At 40 % of the fastest bare Bolt ({target:,.0f} req/s) those two alone "
            f"would keep {busy:.1f} of this machine's {cpus} CPUs busy, leaving {left:.2f} ms per command for "
            f"teambot's own process, {verdict_text}.")


def section_fanout(fake, quick: bool, tmp: Path, rows: list[Row], notes: list[str], results: dict) -> None:
    sys.path.insert(0, str(BENCH))
    import fanout

    n = 10_000
    print(f"* fan-out: {n:,} reminders due at once, tick + drain (RecordingSender, then SlackSender) ...",
          flush=True)
    before = fake.stats()
    r = fanout.measure(fake.url, n, folder=tmp)
    after = fake.stats()
    posts = after.get("chat.postMessage", 0) - before.get("chat.postMessage", 0)
    if posts != n:
        raise BenchError(f"fan-out: FakeSlack got {posts} chat.postMessage calls, expected {n}")
    b, s = r["baseline"], r["slack"]
    print(f"  RecordingSender: {b['per_msg_ms']:.2f} ms/message; SlackSender: {s['per_msg_ms']:.2f} ms/message",
          flush=True)
    rows.append(Row(f"fan-out {n:,}: tick + enqueue, per message", f"{s['tick_per_msg_ms']:.2f} ms",
                    f"{b['tick_per_msg_ms']:.2f} ms (baseline run)", f"{s['tick_per_msg_ms'] / b['tick_per_msg_ms']:.2f}"))
    rows.append(Row(f"fan-out {n:,}: drain + send, per message", f"{s['drain_per_msg_ms']:.2f} ms",
                    f"{b['drain_per_msg_ms']:.2f} ms (RecordingSender)",
                    f"{s['drain_per_msg_ms'] / b['drain_per_msg_ms']:.2f}"))
    rows.append(Row(f"fan-out {n:,}: scheduler + outbox alone (RecordingSender), per message",
                    f"{b['per_msg_ms']:.2f} ms", "", "", "< 2 ms", verdict(b["per_msg_ms"] < 2.0)))
    rows.append(Row(f"fan-out {n:,}: end to end via SlackSender + FakeSlack, per message", f"{s['per_msg_ms']:.2f} ms",
                    f"{b['per_msg_ms']:.2f} ms (RecordingSender)", f"{s['per_msg_ms'] / b['per_msg_ms']:.2f}",
                    "< 2 ms", verdict(s["per_msg_ms"] < 2.0)))
    notes.append(f"Fan-out: {r['shape']} (SQLite), pacing off, FakeSlack in its own process answering at once; "
                 f"{s['total_s']:.1f} s for {n:,} messages through SlackSender "
                 f"({posts:,} chat.postMessage calls checked), {b['total_s']:.1f} s through RecordingSender.")
    results["fanout"] = r
    section_fanout_latency(quick, rows, notes, results)


def _latency_run(*flags: str) -> dict:
    cmd = [PY, str(BENCH / "fanout_latency.py"), *flags]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(cmd[2:])} took more than 20 minutes") from None
    if out.returncode != 0:
        raise BenchError(f"bench/fanout_latency.py {' '.join(flags)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def section_fanout_latency(quick: bool, rows: list[Row], notes: list[str], results: dict) -> None:
    """09:00 for a 10,000-person org against bench/fake_platform.py: 100 ms a call, Slack's pacing and
    a workspace quota; then the same with the bot killed halfway; then the Friday nudge batched."""
    n = 2_000 if quick else 10_000
    print(f"* fan-out: {n:,} DMs to {n:,} people, 100 ms a call, quotas (bench/fanout_latency.py) ...", flush=True)
    r = _latency_run("--n", str(n))
    print(f"  {r['elapsed_s']:.1f} s (the quotas allow {r['quota_bound_s']:.1f} s)", flush=True)
    within = r["elapsed_s"] <= 1.10 * r["quota_bound_s"]
    target = "<= 60 s, <= 1.10x" if n == 10_000 else "<= 1.10x"
    rows.append(Row(f"fan-out {n:,} DMs, 100 ms latency: last one delivered after", f"{r['elapsed_s']:.1f} s",
                    f"{r['quota_bound_s']:.1f} s (the fake's quotas)", f"{r['elapsed_s'] / r['quota_bound_s']:.2f}",
                    target, verdict(within and (n != 10_000 or r["elapsed_s"] <= 60))))
    rows.append(Row(f"fan-out {n:,} DMs: duplicates, order violations", f"{r['duplicates']}, {r['order_violations']}",
                    "", "", "0, 0", verdict(r["duplicates"] == 0 and r["order_violations"] == 0
                                            and r["recipients"] == n)))
    k = _latency_run("--n", str(n), "--kill-at", "0.5")
    ok = k["recipients"] - k["duplicates"] == n and k["outbox"] == {"sent": n} and k["order_violations"] == 0
    rows.append(Row(f"fan-out {n:,} DMs, kill -9 halfway: delivered, duplicates",
                    f"{k['recipients'] - k['duplicates']:,}, {k['duplicates']}",
                    f"bound {k['kill_bound']} (in sending at the kill)", "", f"{n:,}, <= bound",
                    verdict(ok and k["duplicates"] <= (k["kill_bound"] or 0))))
    notes.append(f"Fan-out at 100 ms: bench/fake_platform.py in its own process (uvicorn, keep-alive), "
                 f"{r['rate']:.0f} chat.postMessage and {r['rate']:.0f} conversations.open a second for the "
                 f"workspace, 1 a second per channel, 429 with Retry-After beyond; the bot (bench/fanout_worker.py, "
                 f"`teambot run`'s outbox settings, concurrency {r['concurrency']}, [outbox] rate_slack = "
                 f"{r['rate']:.0f}) in another. From its 09:00 tick ({r['tick_s']:.1f} s of it) to the fake's "
                 f"last accepted DM. CPU per message: tick {r['tick_cpu_ms_per_msg']:.2f} ms, drain "
                 f"{r['drain_cpu_ms_per_msg']:.2f} ms, fake {r['fake_cpu_ms_per_msg']:.2f} ms; 429s "
                 f"{sum(r['limited'].values())}. Killed after {k['killed_after']:,} deliveries with "
                 f"{k['kill_bound']} in `sending`; the restarted bot took over after the 5 s lease.")
    results["fanout_latency"] = {"run": r, "kill": k}
    if quick:
        return
    for platform, per_call in (("dingtalk", 20), ("wecom", 1000)):
        b = _latency_run("--n", str(n), "--platform", platform, "--kinds", "progress_nudges")
        rows.append(Row(f"Friday nudge to {n:,} on {platform}: one call per {per_call:,} people",
                        f"{b['elapsed_s']:.1f} s, {sum(b['calls'].values()):,} calls",
                        f"{b['quota_bound_s']:.1f} s (the fake's quotas)",
                        f"{b['elapsed_s'] / b['quota_bound_s']:.2f}", f"{-(-n // per_call):,} calls",
                        verdict(sum(b["calls"].values()) == -(-n // per_call) and b["duplicates"] == 0
                                and b["recipients"] == n)))
        results[f"nudge_{platform}"] = b


def parse_kpi_table(stdout: str) -> dict[tuple[str, str], dict[int, float]]:
    """(engine, layout) -> entries -> median ms, from bench/kpi_summary.py's table. Its numbers are
    right-aligned under their headers, so a value is the token ending where its header ends."""
    found: dict[tuple[str, str], dict[int, float]] = {}
    lines = stdout.splitlines()
    header = next((ln for ln in lines if "entries" in ln and "median ms" in ln), None)
    if header is None:
        return found
    ends = {name: header.index(name) + len(name) for name in ("entries", "median ms")}
    for line in lines:
        words = line.split()
        if len(words) < 4 or words[0] not in ("sqlite", "postgresql"):
            continue
        tokens = {m.end(): m.group() for m in re.finditer(r"\S+", line)}
        try:
            n = int(tokens[ends["entries"]].replace(",", ""))
            ms = float(tokens[ends["median ms"]])
        except (KeyError, ValueError):
            continue
        found.setdefault((words[0], words[1]), {})[n] = ms
    return found


def section_kpi(quick: bool, rows: list[Row], notes: list[str], results: dict) -> None:
    script = BENCH / "kpi_summary.py"
    if not script.exists():
        notes.append("KPI summary: bench/kpi_summary.py is not in this tree yet; not measured.")
        rows.append(Row("KPI summary build", "not measured", verdict="-"))
        return
    engines = "sqlite" if quick else ("sqlite,postgresql" if pg_reachable() is None else "sqlite")
    cmd = [PY, str(script), "--sizes", "10000,100000,1000000", "--engines", engines, "--layouts",
           "teams" if quick else "teams,one-team", "--repeat", "3" if quick else "7"]
    print(f"* KPI summary: {' '.join(cmd[2:])} ...", flush=True)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("bench/kpi_summary.py took more than 30 minutes") from None
    found = parse_kpi_table(out.stdout)
    if not found or "Traceback" in out.stderr:
        raise BenchError(f"bench/kpi_summary.py gave no figures (exit {out.returncode}):\n"
                         f"{out.stdout[-1500:]}\n{out.stderr[-1500:]}")
    for (engine, layout), sizes in found.items():
        base = sizes.get(10_000)
        for n, ms in sorted(sizes.items()):
            target = "< 200 ms" if n == 1_000_000 else ""
            rows.append(Row(f"KPI summary, {engine}, {layout}, {n:,} entries", fmt_ms(ms),
                            f"{fmt_ms(base)} (10k)" if base else "", f"{ms / base:.2f}" if base else "",
                            target, verdict(ms < 200) if target else ""))
    notes.append("KPI summary: median build time of the monthly KPI post (bench/kpi_summary.py, "
                 f"`{' '.join(cmd[2:])}`); ratio against the 10k figure of the same engine and layout.")
    results["kpi"] = {f"{e}/{lay}": v for (e, lay), v in found.items()}


def section_customers(quick: bool, rows: list[Row], notes: list[str], results: dict) -> None:
    """bench/customers.py: one team with 20,000 customers and 1,000,000 follow-ups (a tenth of each
    with --quick); its last output line is the JSON read here."""
    engines = "sqlite,postgresql" if pg_reachable() is None else "sqlite"
    sizes = ["--customers", "2000", "--followups", "100000", "--repeat", "3"] if quick else []
    cmd = [PY, str(BENCH / "customers.py"), "--engines", engines, *sizes]
    print(f"* customers: {' '.join(cmd[2:]) or 'defaults'} ...", flush=True)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("bench/customers.py took more than 30 minutes") from None
    try:
        found = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise BenchError(f"bench/customers.py gave no figures (exit {out.returncode}):\n"
                         f"{out.stdout[-1500:]}\n{out.stderr[-1500:]}") from None
    n, f = found["customers"], found["followups"]
    for engine, r in found["results"].items():
        for key, label in (("list_mine_ms", "/customer list mine"), ("stale_sweep_ms", "pool sweep (09:00 job)"),
                           ("funnel_ms", "funnel + customer KPIs")):
            rows.append(Row(f"{label}, {engine}, {n:,} customers / {f:,} follow-ups", fmt_ms(r[key]), "", "",
                            "< 200 ms", verdict(r[key] < 200)))
    notes.append(f"Customers: median of bench/customers.py (`{' '.join(cmd[2:])}`); the sweep released "
                 + ", ".join(f"{r['released_per_sweep']} on {e}" for e, r in found["results"].items()) + ".")
    results["customers"] = found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter runs (about 2-4 minutes in all)")
    p.add_argument("--only", default="throughput,fanout,kpi,customers",
                   help="comma-separated sections: throughput, fanout, kpi, customers")
    p.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    args = p.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = only - {"throughput", "fanout", "kpi", "customers"}
    if unknown:
        p.error(f"unknown section(s): {', '.join(sorted(unknown))}")

    import logging
    logging.basicConfig(level=logging.ERROR)
    rows: list[Row] = []
    notes: list[str] = [(f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; load average "
                         f"at start {os.getloadavg()[0]:.2f}.")]
    results: dict = {}
    errors: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="teambot-bench-"))
    started = time.monotonic()
    try:
        with FakeSlackProcess() as fake:
            for name, fn in (("throughput", section_throughput), ("fanout", section_fanout)):
                if name in only:
                    try:
                        fn(fake, args.quick, tmp, rows, notes, results)
                    except BenchError as e:
                        errors.append(f"{name}: {e}")
                        rows.append(Row(f"{name}", "ERROR", verdict="ERROR"))
        if "kpi" in only:
            try:
                section_kpi(args.quick, rows, notes, results)
            except BenchError as e:
                errors.append(f"kpi: {e}")
                rows.append(Row("KPI summary", "ERROR", verdict="ERROR"))
        if "customers" in only:
            try:
                section_customers(args.quick, rows, notes, results)
            except BenchError as e:
                errors.append(f"customers: {e}")
                rows.append(Row("customers", "ERROR", verdict="ERROR"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    notes.append(f"Load average at the end {os.getloadavg()[0]:.2f}; {time.monotonic() - started:.0f} s in all.")
    print_table(rows, notes)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if errors:
        print("\nERRORS:", file=sys.stderr)
        for e in errors:
            print(f"- {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
