"""Group-robot webhooks and secrets are encrypted at rest when TEAMBOT_SECRET_KEY is set."""
from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text

from bot.config import ConfigError, Settings, load_settings
from bot.rotate_key import rotate_key, warn_unreadable
from bot.wiring import robot_lookup, wire
from storage import sealed
from tests.kit.dialog import Chat

HOOK = "https://oapi.dingtalk.com/robot/send?access_token=tok-8f2c"
SECRET = "SEC0a1b2c3d"
KEY_A, KEY_B, KEY_C = sealed.new_key(), sealed.new_key(), sealed.new_key()


@pytest.fixture
def bot(db_url, clock, monkeypatch):
    monkeypatch.delenv(sealed.ENV, raising=False)
    w = wire(Settings(database_url=db_url), clock=clock, upgrade=False)
    chat = Chat(w.uow, clock, platform="dingtalk", channel="cid-sales")
    assert chat.say("wang", "/team setup 华东销售一组").ok
    yield w, chat
    w.engine.dispose()


def _stored(w) -> tuple[str, str]:
    with w.engine.connect() as c:
        return tuple(c.execute(text("SELECT webhook, secret FROM team_robot")).one())


def _rotate(w) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = rotate_key(w.engine, out, err)
    return code, out.getvalue(), err.getvalue()


def test_with_a_key_the_robot_is_stored_encrypted_and_read_back(bot, monkeypatch):
    w, chat = bot
    monkeypatch.setenv(sealed.ENV, KEY_A)
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    webhook, secret = _stored(w)
    assert webhook.startswith("fernet:") and secret.startswith("fernet:")
    assert "tok-8f2c" not in webhook + secret and SECRET not in webhook + secret
    hook = robot_lookup(w, "dingtalk")("cid-sales")
    assert (hook.webhook, hook.secret) == (HOOK, SECRET)


def test_plaintext_rows_keep_working_and_rotate_key_encrypts_them(bot, monkeypatch):
    w, chat = bot
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    assert _stored(w) == (HOOK, SECRET)  # no key: as before
    monkeypatch.setenv(sealed.ENV, KEY_A)
    assert robot_lookup(w, "dingtalk")("cid-sales").secret == SECRET
    code, out, err = _rotate(w)
    assert code == 0 and err == "" and "2 were plaintext, 0 were encrypted already" in out
    assert all(v.startswith("fernet:") for v in _stored(w))
    assert robot_lookup(w, "dingtalk")("cid-sales").webhook == HOOK
    code, out, _ = _rotate(w)  # again: nothing plaintext is left
    assert code == 0 and "0 were plaintext, 2 were encrypted already" in out


def test_rotation_new_key_first_then_the_old_one_dropped(bot, monkeypatch, caplog):
    w, chat = bot
    monkeypatch.setenv(sealed.ENV, KEY_A)
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    before = _stored(w)
    monkeypatch.setenv(sealed.ENV, f"{KEY_B},{KEY_A}")
    assert robot_lookup(w, "dingtalk")("cid-sales").secret == SECRET  # the old key still opens it
    code, out, _ = _rotate(w)
    assert code == 0 and "the others can be removed" in out
    assert _stored(w) != before
    monkeypatch.setenv(sealed.ENV, KEY_B)
    assert robot_lookup(w, "dingtalk")("cid-sales").secret == SECRET

    # A key that was never used opens nothing: a clear error, a warning at start-up, rows untouched.
    monkeypatch.setenv(sealed.ENV, KEY_C)
    after = _stored(w)
    with pytest.raises(sealed.SealedValueError, match="does not hold"):
        robot_lookup(w, "dingtalk")("cid-sales")
    code, _, err = _rotate(w)
    assert code == 1 and "team_robot 1 webhook: no key of TEAMBOT_SECRET_KEY decrypts it" in err
    assert _stored(w) == after
    with caplog.at_level(logging.WARNING, logger="teambot"):
        warn_unreadable(w.engine)
    assert "2 stored group-robot secret(s) cannot be decrypted" in caplog.text
    # The manager recovers by setting the robot again.
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    assert robot_lookup(w, "dingtalk")("cid-sales").secret == SECRET


def test_without_a_key_rotate_key_offers_one_and_changes_nothing(bot):
    w, chat = bot
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    code, out, err = _rotate(w)
    assert code == 2 and out == "" and "TEAMBOT_SECRET_KEY is not set" in err
    offered = err.split("Here is a new one:\n", 1)[1].split()[0]
    assert sealed.keyring(offered) is not None
    assert _stored(w) == (HOOK, SECRET)


@pytest.mark.parametrize("value", ["not-a-key", f"{sealed.new_key()},short"])
def test_a_bad_key_stops_start_up_naming_the_variable(value):
    with pytest.raises(ConfigError, match="TEAMBOT_SECRET_KEY.*not a Fernet key"):
        load_settings(None, env={sealed.ENV: value})


def test_the_cli_makes_a_key_and_rotates(sqlite_url, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMBOT_"))}
    env.update(TEAMBOT_DATABASE_URL=sqlite_url, PYTHONPATH=str(Path(__file__).resolve().parents[2]))

    def cli(*argv):
        return subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    assert "rotate-key" in cli("db", "--help").stdout
    key = cli("db", "new-key").stdout.strip()
    assert sealed.keyring(key) is not None
    env[sealed.ENV] = key
    r = cli("db", "rotate-key")
    assert r.returncode == 0 and r.stderr == "" and "0 stored secrets" in r.stdout, r.stderr
    env[sealed.ENV] = "oops"
    r = cli("db", "rotate-key")
    assert r.returncode == 2 and r.stderr.startswith("teambot: config error: environment variable TEAMBOT_SECRET_KEY")


def test_a_post_through_a_robot_whose_secret_cannot_be_opened_waits_with_one_line_not_a_traceback(
        bot, monkeypatch, caplog):
    from bot.dingtalk.api import DingTalkApi
    from bot.dingtalk.sender import DingTalkSender
    from reminders.outbox import drain
    from sqlmodel import select

    from storage.models import OutboxMessage
    from storage.outbox_store import enqueue
    from tests.kit.fake_dingtalk import FakeDingTalk

    w, chat = bot
    monkeypatch.setenv(sealed.ENV, KEY_A)
    assert chat.say("wang", f"/team robot {HOOK} {SECRET}", direct=True).ok
    monkeypatch.setenv(sealed.ENV, KEY_C)  # the key it was sealed with is gone
    with w.uow() as u:
        enqueue(u.session, platform="dingtalk", destination="channel:cid-sales",
                payload={"text": "本周议程"}, now=chat.clock.now())
    with FakeDingTalk() as fake, caplog.at_level(logging.DEBUG, logger="teambot"):
        sender = DingTalkSender(DingTalkApi("key", "secret", api_url=fake.url), robots=robot_lookup(w, "dingtalk"))
        stats = drain(w.uow, sender, chat.clock, "w1")
        assert fake.calls("robot.send") == [] and fake.calls("robot.groupMessages") == []
    assert stats.sent == 0
    with w.uow() as u:
        row = u.session.exec(select(OutboxMessage)).one()
    assert row.status == "pending" and "robot secret unreadable" in row.last_error
    said = [r for r in caplog.records if "does not hold" in r.getMessage()]
    assert said and all(r.levelno == logging.WARNING and r.exc_info is None for r in said)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
