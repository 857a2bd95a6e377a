from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.console.repl import Console
from commands.dispatch import Dispatcher

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
    script.write_text("/team\n/progress list 上周\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--script", str(script)], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for role in ("销售经理", "销售代表", "客户经理", "市场部", "资源管理部"):
        assert role in out
    # Last week always has five working days of entries, whatever day the test runs.
    assert "没有进展记录" not in out and "@li" in out and "拜访" in out, out
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
