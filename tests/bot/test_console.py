from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import logs
from bot.config import Settings
from bot.console.repl import Console
from commands.core.dispatch import Dispatcher

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
/team setup 华东销售一组
/team add @li rep
/team add @amy account_manager
/as li
/progress 签约ACME年框 销售额=50万 新客户=1
/as amy
/teambot lang en
/progress signed ACME annual deal sales=500k customers=1
/progress list
/progress sales=lots
"""


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMBOT_"))}
    env["TEAMBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _check_transcript(out: str) -> None:
    assert "[#channel] ✅ 已创建团队 华东销售一组" in out
    assert "✅ 已把 @li 加入 华东销售一组，角色：销售代表" in out
    assert "✅ 已记录进展：签约ACME年框\n销售额 ¥500,000（50万） · 新客户 1" in out
    assert "✅ Progress logged: signed ACME annual deal\nSales ¥500,000 · New customers 1" in out
    assert "@amy  signed ACME annual deal" in out and "@li   签约ACME年框" in out
    assert "lots" in out and "Example:" in out
    assert "Traceback" not in out


def test_run_without_credentials_is_the_console_on_sqlite(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=SCRIPT, cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    _check_transcript(r.stdout)
    assert (tmp_path / "bot.db").exists()
    # The first run migrates a new database and starts the scheduler: nothing to warn about.
    assert r.stderr == ""


def test_console_script_file_and_as(tmp_path):
    script = tmp_path / "dialog.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--as", "wang", "--script", str(script)],
                       cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "@wang> /team setup 华东销售一组" in r.stdout
    _check_transcript(r.stdout)


def test_missing_script_is_one_clear_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--script", "nope.txt"], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "cannot read script nope.txt" in r.stderr


def test_demo_has_something_to_show(tmp_path):
    script = tmp_path / "look.txt"
    script.write_text("/team\n/progress list 上周\n/活动 列表\n/resource stock\n/agenda\n/客户 列表 团队\n/kpi\n",
                      encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--script", str(script)], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    # Four weeks of back-filled history owe no scheduled posts: no "skipped: missed" warnings.
    assert r.stderr == ""
    out = r.stdout
    for role in ("销售经理", "销售代表", "客户经理", "市场部", "资源管理部"):
        assert role in out
    # Last week always has five working days of entries, whatever day the test runs.
    assert "没有进展记录" not in out and "@li" in out and "拜访" in out, out
    # two activities, the second against the first (104 against 80: +30%), and a budget's return
    assert "新品发布会" in out and "+30%" in out, out
    assert "投入产出" in out and "1 : 8.67" in out, out
    # An honour on the roster, and the kudos since the last meeting in the agenda's 经验分享.
    assert "🏅月度销冠" in out and "👏 @li 表扬 @liu" in out, out
    # Customers in every stage, one in the pool, two about to return to it; a deal won, the funnel.
    for stage in ("线索", "初步接触", "需求确认", "方案报价", "商务谈判", "赢单", "输单", "公海"):
        assert stage in out, (stage, out)
    assert "销售漏斗（共 8 个客户）" in out and "即将退回公海 2 个" in out and "#3 宁波海联物流" in out, out
    again = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--script", str(script)], cwd=tmp_path,
                           env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert "already exists" in again.stdout


def test_console_in_process_renders_mentions_and_channel_posts(uow, clock):
    out = io.StringIO()
    console = Console(Dispatcher(uow, clock), clock, user="wang", out=out)
    console.loop(["/team setup 一组", "/team add @li rep", "/as li", "/team", "/quit", "/team"])
    text = out.getvalue()
    assert "[#channel] ✅ 已把 @li 加入" in text
    assert "(now speaking as @li)" in text
    assert text.count("@li> /team") == 1  # nothing after /quit


def test_outbox_command_takes_its_own_options(tmp_path):
    for argv in (["outbox", "--dead"], ["outbox"], ["outbox", "--sent", "--limit", "5"]):
        r = subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=tmp_path, env=_env(tmp_path),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (argv, r.stderr)
    r = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--bogus"], cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def _at_a_terminal(argv: list[str], typed: str, tmp_path, env: dict) -> str:
    """Run the CLI with a terminal as its stdin and stdout (a pty), type lines, return the screen."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *argv], stdin=slave, stdout=slave, stderr=slave,
                            cwd=tmp_path, env=env, close_fds=True)
    os.close(slave)
    os.write(master, typed.encode())
    screen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
    finally:
        proc.wait(timeout=60)
        os.close(master)
    return screen.decode("utf-8", "replace")


def test_at_a_terminal_log_lines_go_to_a_file_not_into_the_prompt(tmp_path):
    screen = _at_a_terminal(["console", "--as", "wang"], "/team setup 华东销售一组\n/quit\n", tmp_path,
                            _env(tmp_path))
    assert "已创建团队 华东销售一组" in screen
    assert "(log lines go to teambot.log)" in screen
    assert "INFO" not in screen and "applying database migrations" not in screen, screen
    log = (tmp_path / "teambot.log").read_text(encoding="utf-8")
    assert "applying database migrations" in log and "scheduler" in log


@pytest.fixture
def root_logging():
    """bot.logs.configure replaces the root logger's handlers: give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:], root.level = handlers, level
    logging.captureWarnings(False)


def test_a_script_or_pipe_gets_only_warnings_on_stderr(root_logging, capsys):
    logs.configure(Settings(), console=True, interactive=False)
    logging.getLogger("teambot.x").info("migrated")
    logging.getLogger("teambot.x").warning("posts missed")
    err = capsys.readouterr().err
    assert "posts missed" in err and "migrated" not in err


def test_log_file_takes_every_line_in_any_mode(root_logging, capsys, tmp_path):
    path = tmp_path / "logs" / "bot.log"
    for console in (True, False):
        assert logs.configure(Settings(log_file=str(path)), console=console, interactive=False) == str(path)
        logging.getLogger("teambot.x").info("migrated %s", console)
    logging.shutdown()
    assert "migrated True" in path.read_text(encoding="utf-8") and "migrated False" in path.read_text(encoding="utf-8")
    assert capsys.readouterr().err == ""


def test_a_platform_logs_to_stderr_at_its_level(root_logging, capsys):
    assert logs.configure(Settings(log_level="INFO"), console=False, interactive=False) is None
    logging.getLogger("teambot.x").info("Slack in HTTP mode")
    assert "Slack in HTTP mode" in capsys.readouterr().err
