"""`teambot run` in Slack HTTP mode, end to end over real HTTP.

The bot runs as a subprocess (`python -m bot.cli run`) configured only by environment variables,
with SLACK_API_URL pointed at a FakeSlack in this process; the test plays Slack, posting signed
slash commands to POST /slack/events and reading the answers and the database."""
from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as sql

from bot.slack.app import build_app
from bot.slack.server import build_server
from commands.core import forms, router
from commands.i18n import t
from commands.team import KEYWORDS as TEAM_KEYWORDS
from storage.db import make_engine
from tests.kit.fixtures import SlackHarness, payload_text
from tests.kit.slack_signing import SECRET, signed_headers, slash_body
from tests.kit.transactions import committed

ROOT = Path(__file__).resolve().parents[2]
TEAM_CHANNEL = "C0E2E"
UNBOUND = "C0NOTEAM"
STRANGER = "U0STRANGER"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    def __init__(self, fake, db_url: str, tmp_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "bot.log"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "TEAMBOT_", "DINGTALK_", "WECOM_"))}
        env.update({
            "SLACK_BOT_TOKEN": "xoxb-e2e", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.url,
            "TEAMBOT_HTTP_PORT": str(self.port), "TEAMBOT_HTTP_HOST": "127.0.0.1",
            "TEAMBOT_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        })
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.base, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"teambot run exited {self.proc.returncode}:\n{self.output()}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"teambot run did not serve /healthz:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def slash(self, command: str, text: str, user: str, channel: str = TEAM_CHANNEL, *,
              trigger_id: str | None = None, retry_num: int | None = None,
              timestamp: int | None = None, secret: str = SECRET) -> httpx.Response:
        kw = {"trigger_id": trigger_id} if trigger_id else {}
        body = slash_body(command, text, user, channel, **kw)
        return self.http.post("/slack/events", content=body.encode(),
                              headers=signed_headers(body, secret, timestamp, retry_num=retry_num))

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def bot(fake_slack, db_url, tmp_path):
    fake_slack.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", real_name="王伟")
    fake_slack.set_user("U2", locale="zh-CN", tz="Asia/Shanghai", real_name="李娜")
    fake_slack.set_user("U3", locale="en-US", tz="America/New_York", real_name="Amy Chen")
    fake_slack.set_user(STRANGER, locale="en-US")
    b = BotProcess(fake_slack, db_url, tmp_path)
    b.fake = fake_slack
    b.engine = make_engine(db_url)
    yield b
    b.stop()
    b.engine.dispose()
    assert "Traceback" not in b.output(), b.output()[-5000:]


def _text(r: httpx.Response) -> str:
    return payload_text(r.json())


def _scalar(engine, query: str, **params):
    with engine.connect() as c:
        return c.execute(sql(query), params).scalar_one()


def test_chinese_and_english_script_over_http(bot):
    r = bot.slash("/team", "setup 华东一组", "U1")
    assert r.status_code == 200 and r.json()["response_type"] == "in_channel"
    assert "华东一组" in _text(r) and "<@U1>" in _text(r)

    r = bot.slash("/team", "add <@U2|li> rep", "U1")
    assert r.status_code == 200 and "<@U2>" in _text(r) and "销售代表" in _text(r)
    r = bot.slash("/team", "add <@U3|amy> account_manager", "U1")
    assert r.status_code == 200 and "<@U3>" in _text(r)

    r = bot.slash("/progress", "签约ACME年框 销售额=50万 新客户=1", "U2")
    body = r.json()
    assert r.status_code == 200 and body["response_type"] == "ephemeral"
    assert "签约ACME年框" in _text(r) and "500,000" in _text(r) and "50万" in _text(r)

    r = bot.slash("/teambot", "lang en", "U3")
    assert r.json()["response_type"] == "ephemeral"
    r = bot.slash("/progress", "signed ACME sales=500k customers=1", "U3")
    assert r.json()["response_type"] == "ephemeral"
    assert "signed ACME" in _text(r) and "500,000" in _text(r) and "Sales" in _text(r)

    r = bot.slash("/teambot", "away until 下周五", "U3")
    assert r.status_code == 200 and re.search(r"\d{4}-\d{2}-\d{2}|\w{3} \d{1,2}", _text(r)), _text(r)

    r = bot.slash("/progress", "list", "U1")
    listing = _text(r)
    assert r.json()["response_type"] == "ephemeral"
    assert "签约ACME年框" in listing and "signed ACME" in listing and "<@U2>" in listing

    # What the replies said is what was stored.
    e = bot.engine
    assert _scalar(e, "select name from team where channel_id = :c", c=TEAM_CHANNEL) == "华东一组"
    assert _scalar(e, "select count(*) from member") == 3
    assert _scalar(e, "select count(*) from progress_entry") == 2
    sales = _scalar(e, "select sum(v.value) from progress_value v join metric m on m.id = v.metric_id "
                       "where m.code = 'sales'")
    assert sales == 1_000_000
    assert _scalar(e, "select count(*) from progress_value v join metric m on m.id = v.metric_id "
                      "where m.code = 'customers'") == 2

    # A retry of the same delivery answers the same and writes nothing.
    first = bot.slash("/progress", "拜访客户 拜访=2", "U2", trigger_id="e2e-trigger-1")
    again = bot.slash("/progress", "拜访客户 拜访=2", "U2", trigger_id="e2e-trigger-1", retry_num=1)
    assert again.status_code == 200 and again.json() == first.json()
    assert _scalar(e, "select count(*) from progress_entry") == 3

    # Forged or stale requests are refused before anything runs.
    assert bot.slash("/team", "setup 伪造", "U9", UNBOUND, secret="not-the-secret").status_code == 401
    assert bot.slash("/team", "setup 过期", "U9", UNBOUND, timestamp=int(time.time()) - 360).status_code == 401
    assert _scalar(e, "select count(*) from team") == 1

    # users.info once per user (cached), each with include_locale.
    asked = [c.params["user"] for c in bot.fake.calls("users.info")]
    assert sorted(asked) == sorted(set(asked)) and {"U1", "U2", "U3"} <= set(asked)


def test_event_loop_is_not_blocked_by_a_waiting_command(bot, fake_slack):
    fake_slack.set_user("U0SLOW", locale="en-US", delay=0.8)
    done: list[httpx.Response] = []
    th = threading.Thread(target=lambda: done.append(bot.slash("/nosuch", "", "U0SLOW", UNBOUND)))
    th.start()
    fake_slack.wait_for("users.info", 1)
    started = time.monotonic()
    assert bot.http.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.4
    th.join(5)
    assert done and done[0].status_code == 200


def test_serve_in_a_thread(fake_slack, sqlite_url, clock):
    """bot.slack.server.build_server (what serve() runs) in process: healthz and one command."""
    h = SlackHarness(fake_slack, sqlite_url, clock)
    port = free_port()
    settings = h.settings.__class__(**{**h.settings.__dict__, "http_host": "127.0.0.1", "http_port": port})
    server = build_server(settings, build_app(settings, h.dispatcher, clock))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            deadline = time.monotonic() + 10
            while not server.started:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert http.get("/healthz").json() == {"ok": True}
            body = slash_body("/nosuch", "x")
            r = http.post("/slack/events", content=body.encode(), headers=signed_headers(body))
            assert r.status_code == 200 and r.json()["response_type"] == "ephemeral"
    finally:
        server.should_exit = True
        th.join(5)
        h.close()


# -- a thousand random command texts -------------------------------------------------------

CJK = "销售额新客户签约年框拜访阻塞问题团队进展任务目标绩效会议华东一组经理代表客户市场资源万亿元"
FULL_WIDTH = "０１２３４５６７８９ＡＢＣｋｍ＝：＠％，．（）"
EMOJI = "😀🚀✅⚠️🚫👍🏽🇨🇳💰📈"
WORDS = ["list", "undo", "blocker:", "阻塞:", "add", "remove", "列表", "撤销", "help", "lang", "tz", "away",
         "until", "明天", "下周五", "10月15日", "in 3 days", "sales", "销售额", "customers", "新客户", "rep",
         "manager", "marketing", "csat", "visits", "for", "team", "this week", "last week", "2026-Q4",
         "'; DROP TABLE team; --", "{x}", "{0}", "%s", "\\n", "${HOME}", "null", "None", "NaN", "inf"]
VALUES = ["50万", "1.2m", "500k", "3亿", "12%", "1,200,000", "１２３", "-5", "abc", "1e309", "0x10",
          "1.2.3", "", "∞", "½", "٣", "万", "k", "100%%", "9" * 40]
MENTIONS = ["<@U2>", "<@U2|li>", "<@U404|ghost>", "<#C1|sales>", "<!here>", "<!channel>", "@li", "<@>", "<@U2"]
QUOTES = ['"', "'", "“", "”", "「", "」", "`", "```"]
ODD = ["\u200b", "\u202e", "\t", "\u3000", "\\", "&", "<", ">", "&amp;", "&lt;", "\x00", "\x7f", "\ufeff"]
COMMANDS = [r.name for r in router.ROUTES]
SETUP_WORDS = {w.casefold() for w in TEAM_KEYWORDS["setup"]}


def random_text(rng: random.Random) -> str:
    pieces: list[str] = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.random()
        if kind < 0.2:
            pieces.append(rng.choice(WORDS))
        elif kind < 0.35:
            pieces.append(f"{rng.choice(['sales', '销售额', '新客户', 'csat', 'x', ''])}{rng.choice(['=', '＝', ':', '：'])}"
                          f"{rng.choice(VALUES)}")
        elif kind < 0.45:
            pieces.append(rng.choice(MENTIONS))
        elif kind < 0.6:
            pieces.append("".join(rng.choice(CJK) for _ in range(rng.randint(1, 12))))
        elif kind < 0.68:
            pieces.append("".join(rng.choice(FULL_WIDTH) for _ in range(rng.randint(1, 6))))
        elif kind < 0.75:
            pieces.append(rng.choice(EMOJI) * rng.randint(1, 3))
        elif kind < 0.82:
            q = rng.choice(QUOTES)
            pieces.append(q + "".join(rng.choice(CJK + "abc ") for _ in range(rng.randint(0, 8))) + rng.choice(QUOTES))
        elif kind < 0.9:
            pieces.append(rng.choice(ODD))
        elif kind < 0.95:
            pieces.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 10))))
        else:
            pieces.append(rng.choice(["长" * rng.randint(500, 3000), "x" * rng.randint(500, 3000),
                                      ("销售额=50万 " * 300)]))
    return rng.choice([" ", "  ", "", "\n"]).join(pieces) if pieces else rng.choice(["", " ", "\u3000"])


#: Inputs that once broke a parser somewhere (or easily could): sent to every command before the
#: random ones. A time zone name longer than a file name makes zoneinfo raise OSError, not
#: ZoneInfoNotFoundError.
HOSTILE = ["tz " + "x" * 300, "tz ../../../../etc/passwd", "tz " + "Asia/" * 100, "lang " + "z" * 3000,
           "away until " + "明天" * 1000, "setup 华东二组 tz=" + "y" * 300, "list " + "<@U2>" * 500,
           "due " + "9" * 400, "=" * 3000, "\u3000" * 50, "sales=" + "9" * 400 + "万"]


def _is_setup(text: str) -> bool:
    head = router.normalize(text).partition(" ")[0]
    return head.casefold() in SETUP_WORDS


def _counts(engine, tables: list[str]) -> tuple:
    with engine.connect() as c:
        return tuple(c.execute(sql("select " + ", ".join(f"(select count(*) from {t})" for t in tables))).one())


#: The core's "something broke, incident <id>" reply: a random text must never get it.
INTERNAL_ERROR = [t(lang, "core.internal_error", incident="")[:20] for lang in ("zh", "en")]


def test_a_thousand_random_commands_get_private_replies_and_refusals_write_nothing(bot):
    assert bot.slash("/team", "setup 华东一组", "U1").status_code == 200
    assert bot.slash("/team", "add <@U2|li> rep", "U1").status_code == 200
    with bot.engine.connect() as c:
        tables = [r[0] for r in c.execute(sql(
            "select table_name from information_schema.tables where table_schema = current_schema()"
            if bot.engine.dialect.name == "postgresql" else
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"))
                  if r[0] != "inbound_receipt"]  # every delivery keeps its receipt, refused or not
    rng = random.Random(20261126)
    refused = 0
    hostile = [(c, h, user, channel) for c in COMMANDS for h in HOSTILE
               for user, channel in (("U2", TEAM_CHANNEL), (STRANGER, UNBOUND))]
    n = 1000
    for i in range(len(hostile) + n):
        if i < len(hostile):
            command, text, user, channel = hostile[i]
        else:
            command = rng.choice(COMMANDS)
            text = random_text(rng).replace("\x00", "")
            if rng.random() < 0.3:  # a rep in the team's channel
                user, channel = "U2", TEAM_CHANNEL
            else:  # someone in no team, in a channel with no team
                user, channel = STRANGER, UNBOUND
        if channel == UNBOUND and command == "team" and _is_setup(text):
            text = "list " + text
        before = _counts(bot.engine, tables)
        r = bot.slash(f"/{command}", text, user, channel)
        where = f"#{i} /{command} {text[:200]!r} as {user}"
        assert r.status_code == 200, where
        if not r.text.strip():
            # A bare /task, /progress, /resource or /goal: its form opened as a modal, nothing written.
            assert forms.has_form(command) and not router.normalize(text), where
            assert _counts(bot.engine, tables) == before, where
            continue
        body = r.json()
        raw = r.text
        assert body.get("response_type") == "ephemeral", f"{where}: {raw[:500]}"
        assert "Traceback" not in raw and 'File "' not in raw, where
        shown = payload_text(body)
        assert not any(marker in shown for marker in INTERNAL_ERROR), f"{where}: {shown[:500]}"
        first = (body.get("blocks") or [{}])[0].get("text", {}).get("text", "")
        if first.startswith(("⚠️", "🚫")):
            refused += 1
            assert _counts(bot.engine, tables) == before, f"{where}: refused but wrote"
    assert refused > (len(hostile) + n) * 0.5


def test_concurrent_commands_are_each_saved_once_before_their_answer(bot):
    """Eight connections at once against `teambot run` (on SQLite the commands of one event-loop
    turn share a commit, bot.group_commit): every answer is sent only once its command is saved,
    a delivery sent twice at once writes once, and a refused command in the same turn as good
    ones neither writes nor undoes theirs."""
    from concurrent.futures import ThreadPoolExecutor

    assert bot.slash("/team", "setup 华东一组", "U1").status_code == 200
    assert bot.slash("/team", "add <@U2|li> rep", "U1").status_code == 200

    def saved(note: str) -> int:
        """Committed entries with this note, read without waiting for the bot's writer (on SQLite
        the engine's own transactions are BEGIN IMMEDIATE, which would wait for its commit)."""
        if bot.engine.dialect.name == "sqlite":
            return committed(bot.engine, f"select count(*) from progress_entry where note = '{note}'")[0]
        with bot.engine.connect() as c:
            return c.execute(sql("select count(*) from progress_entry where note = :n"), {"n": note}).scalar_one()

    def worker(w: int) -> list[str]:
        problems = []
        with httpx.Client(base_url=bot.base, timeout=30) as http:
            def post(text: str, user: str, trigger: str) -> httpx.Response:
                body = slash_body("/progress", text, user, TEAM_CHANNEL, trigger_id=trigger)
                return http.post("/slack/events", content=body.encode(), headers=signed_headers(body))

            for i in range(25):
                note = f"拜访客户 w{w} n{i}"
                r = post(f"{note} sales=1万", ("U1", "U2")[i % 2], f"t-{w}-{i}")
                if r.status_code != 200 or note not in _text(r):
                    problems.append(f"{note}: {r.status_code} {r.text[:200]}")
                elif (n := saved(note)) != 1:  # the answer came: the entry must be there already
                    problems.append(f"{note}: answered when {n} entries were saved")
                if i % 5 == 0:  # a refused command in the middle of the others
                    bad = post("sales=abc", "U1", f"bad-{w}-{i}")
                    if bad.status_code != 200 or "⚠️" not in _text(bad):
                        problems.append(f"refusal {w}/{i}: {bad.text[:200]}")
        return problems

    def duplicate(k: int) -> str:
        with httpx.Client(base_url=bot.base, timeout=30) as http:
            body = slash_body("/progress", f"重复投递 {k} sales=1", "U2", TEAM_CHANNEL, trigger_id=f"dup-{k}")
            return _text(http.post("/slack/events", content=body.encode(), headers=signed_headers(body)))

    with ThreadPoolExecutor(8) as pool:
        problems = [p for ps in pool.map(worker, range(8)) for p in ps]
        # Each of these deliveries is sent twice at the same moment, as a retrying proxy might.
        answers = list(pool.map(duplicate, [k for k in range(10) for _ in range(2)]))
    assert problems == []
    assert _scalar(bot.engine, "select count(*) from progress_entry where note like '拜访客户 %'") == 8 * 25
    assert _scalar(bot.engine, "select count(*) from progress_value") == 8 * 25 + 10
    for k in range(10):
        assert answers[2 * k] == answers[2 * k + 1] and f"重复投递 {k}" in answers[2 * k]
        assert _scalar(bot.engine, "select count(*) from progress_entry where note = :n", n=f"重复投递 {k}") == 1
