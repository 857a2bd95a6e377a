"""The Slack app manifest (`teambot manifest`)."""
from __future__ import annotations

import json

import pytest

from bot.slack.manifest import BOT_SCOPES, COMMANDS, manifest, manifest_json
from commands.core.router import ROUTES

URL = "https://teambot.example.com"


def test_every_route_is_a_slash_command_with_should_escape():
    m = manifest("http", URL)
    cmds = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert set(cmds) == {f"/{r.name}" for r in ROUTES}
    for c in cmds.values():
        assert c["should_escape"] is True
        assert c["description"] and c["usage_hint"] and len(c["description"]) <= 100
        assert c["url"] == URL + "/slack/events"


def test_descriptions_exist_for_every_route():
    # A route without a line in COMMANDS still works, but deserves a real description.
    assert {r.name for r in ROUTES} <= set(COMMANDS)


def test_http_mode_points_everything_at_slack_events():
    m = manifest("http", URL + "/")
    s = m["settings"]
    assert s["socket_mode_enabled"] is False
    assert s["interactivity"] == {"is_enabled": True, "request_url": URL + "/slack/events"}
    assert s["event_subscriptions"]["request_url"] == URL + "/slack/events"
    assert set(s["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im", "app_uninstalled",
                                                           "tokens_revoked"}
    # Given the full events URL, it is not doubled.
    assert manifest("http", URL + "/slack/events")["settings"]["interactivity"]["request_url"] == \
        URL + "/slack/events"


def test_socket_mode_has_no_urls():
    m = manifest("socket")
    text = json.dumps(m)
    assert m["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in text and '"url"' not in text
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_app_home_bot_user_and_minimal_scopes():
    m = manifest("socket")
    assert m["_metadata"]["major_version"] == 1
    assert m["display_information"]["name"] == "teambot"
    desc = m["display_information"]["description"]
    assert len(desc) <= 140 and any("\u4e00" <= ch <= "\u9fff" for ch in desc) and "Sales" in desc
    assert 175 <= len(m["display_information"]["long_description"]) <= 4000
    assert m["features"]["app_home"] == {"home_tab_enabled": True, "messages_tab_enabled": True,
                                         "messages_tab_read_only_enabled": False}
    assert m["features"]["bot_user"]["display_name"] == "teambot"
    scopes = m["oauth_config"]["scopes"]["bot"]
    assert scopes == list(BOT_SCOPES)
    assert {"commands", "chat:write", "im:history", "users:read"} <= set(scopes)
    assert "chat:write.public" not in scopes and "app_mentions:read" not in scopes


@pytest.mark.parametrize("mode,url", [("http", None), ("http", ""), ("http", "http://insecure.example.com"),
                                      ("http", "teambot.example.com"), ("carrier-pigeon", URL)])
def test_bad_mode_or_url_is_a_clear_error(mode, url):
    with pytest.raises(ValueError) as e:
        manifest(mode, url)
    assert str(e.value)


def test_manifest_json_is_valid_pretty_unicode():
    text = manifest_json("http", URL)
    assert json.loads(text) == manifest("http", URL)
    assert "\n  " in text and "销售" in text and "\\u" not in text


def test_cli_prints_the_manifest(capsys):
    cli = pytest.importorskip("bot.cli")
    assert cli.main(["manifest", "--url", URL]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["socket_mode_enabled"] is False
