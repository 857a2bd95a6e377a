from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path, monkeypatch):
    # A developer's own ./config.toml must not leak into these tests.
    monkeypatch.chdir(tmp_path)


def _write(tmp_path, body: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_defaults_without_file_or_credentials(tmp_path):
    s = load_settings(None, env={})
    assert s.platform == "console"
    assert s.database_url == "sqlite:///teambot.db"
    assert s.http_port == 3000 and s.default_lang == "zh" and s.default_tz == "Asia/Shanghai"


def test_slack_chosen_when_credentials_are_set():
    s = load_settings(None, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                 "SLACK_API_URL": "http://127.0.0.1:9/api/", "TEAMBOT_HTTP_PORT": "8080"})
    assert s.platform == "slack" and not s.slack.socket_mode
    assert s.slack.api_url == "http://127.0.0.1:9/api/" and s.http_port == 8080
    s = load_settings(None, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                 "SLACK_APP_TOKEN": "xapp-1"})
    assert s.slack.socket_mode


def test_platform_order_slack_dingtalk_wecom():
    ding = {"DINGTALK_APP_KEY": "k", "DINGTALK_APP_SECRET": "s"}
    wecom = {"WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s", "WECOM_TOKEN": "t",
             "WECOM_ENCODING_AES_KEY": "a" * 43}
    assert load_settings(None, env=wecom).platform == "wecom"
    assert load_settings(None, env=ding | wecom).platform == "dingtalk"
    assert load_settings(None, env=ding | {"DINGTALK_MODE": "http"}).dingtalk.mode == "http"
    slack = {"SLACK_BOT_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s"}
    assert load_settings(None, env=slack | ding | wecom).platform == "slack"


def test_multi_workspace_mode_needs_no_bot_token():
    s = load_settings(None, env={"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"})
    assert s.platform == "slack" and s.slack.oauth and s.slack.bot_token is None
    with pytest.raises(ConfigError, match="set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        load_settings(None, env={"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"})


def test_environment_overrides_file(tmp_path):
    p = _write(tmp_path, '[database]\nurl = "sqlite:///from-file.db"\n[http]\nport = 4000\n')
    s = load_settings(p, env={"TEAMBOT_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert s.database_url == "postgresql+psycopg://u@h/db" and s.http_port == 4000


@pytest.mark.parametrize("body, env, expected", [
    ("[http]\nport = \"abc\"\n", {}, "[http] port: expected int, got 'abc'"),
    ("[http]\nport = 70000\n", {}, "70000 is not a port number"),
    ("[bot]\ndefault_tz = \"Mars/Base\"\n", {}, "[bot] default_tz: 'Mars/Base' is not an IANA time zone"),
    ("[bot]\nplatform = \"irc\"\n", {}, "[bot] platform: 'irc' is not one of"),
    ("[bot]\nplatform = \"slack\"\n", {}, "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set"),
    ("[bot]\ndefault_lang = \"fr\"\n", {}, "[bot] default_lang: 'fr' is not zh or en"),
    ("[bot]\nlanguage = \"zh\"\n", {}, "[bot] language: unknown key"),
    ("[slak]\n", {}, "unknown section [slak]"),
    ("[bot]\nplatform = \"wecom\"\n", {"WECOM_CORP_ID": "x"}, "WECOM_AGENT_ID and WECOM_SECRET and"),
    ("", {"DINGTALK_APP_KEY": "k", "DINGTALK_APP_SECRET": "s", "DINGTALK_MODE": "ws"}, "is not stream or http"),
    ("", {"WECOM_ENCODING_AES_KEY": "short"}, "expected the 43-character key"),
    ("[http\nport=1", {}, "not valid TOML"),
    ("", {"TEAMBOT_HTTP_PORT": "eighty"}, "environment variable TEAMBOT_HTTP_PORT: expected int"),
    ("", {"TEAMBOT_DATABASE_URL": "mysql://x"}, "expected sqlite:///... or postgresql+psycopg://"),
    ("", {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "SLACK_APP_TOKEN": "xoxb-wrong"},
     "SLACK_APP_TOKEN: expected an app-level token"),
])
def test_bad_config_names_the_key(tmp_path, body, env, expected):
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, body), env=env)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_example_config_is_valid_and_documents_every_key():
    from bot.config import _SCHEMA
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    s = load_settings(ROOT / "config.example.toml", env={})
    assert s.platform == "console"
    for section, keys in _SCHEMA.items():
        assert f"[{section}]" in example, section
        for key in keys:
            assert f"\n{key} =" in example or f"\n# {key} =" in example, (section, key)


def test_bad_config_stops_startup_with_one_line(tmp_path):
    p = _write(tmp_path, "[http]\nport = \"abc\"\n")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(p), "run"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                                        "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2
    assert r.stderr.strip() == f"teambot: config error: {p}: [http] port: expected int, got 'abc'"
