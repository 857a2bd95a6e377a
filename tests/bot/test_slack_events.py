"""Every Slack event is acknowledged with 200 (an error or a 404 makes Slack retry it and, after many
failures, turn the app's event subscriptions off); the ones we do not act on are logged once; a
workspace that uninstalls the app or revokes its tokens loses its stored installation."""
from __future__ import annotations

import logging

from sqlalchemy import text

from tests.bot.test_slack_oauth import OAuthHarness
from tests.kit.slack_signing import event_body, signed_headers

OTHER_EVENTS = [
    {"type": "reaction_added", "user": "U1", "reaction": "thumbsup",
     "item": {"type": "message", "channel": "C1", "ts": "1764122400.000100"}, "event_ts": "1764122401.000100"},
    {"type": "member_joined_channel", "user": "U2", "channel": "C1", "event_ts": "1764122402.000100"},
    {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C1", "ts": "1764122403.000100"},
    {"type": "channel_rename", "channel": {"id": "C1", "name": "sales-east"}},
    {"type": "message", "subtype": "channel_join", "user": "U2", "channel": "C1", "channel_type": "channel"},
]


def test_events_without_a_listener_get_200_and_are_logged_once(slack, caplog):
    with caplog.at_level(logging.INFO, logger="teambot.slack"):
        for _ in range(3):
            for event in OTHER_EVENTS:
                answer = slack.event(event)
                assert answer.status == 200, (event["type"], answer.body)
    ignored = [r for r in caplog.records if "ignoring Slack" in r.getMessage()]
    assert sorted(r.getMessage().split()[2] for r in ignored) == ["app_mention", "channel_rename",
                                                                  "member_joined_channel", "reaction_added"]
    assert all(r.levelno == logging.INFO for r in ignored)
    assert not slack.fake.calls("chat.postMessage")  # nothing answered, nothing posted


def test_token_revocation_with_one_workspace_is_acknowledged(slack):
    for event in ({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}},
                  {"type": "app_uninstalled"}):
        assert slack.event(event).status == 200


def _post_event(h: OAuthHarness, event: dict, team: str):
    body = event_body(event, team_id=team)
    return h.client.post("/slack/events", content=body.encode(), headers=signed_headers(body))


def _installations(h: OAuthHarness) -> list[tuple]:
    with h.engine.connect() as c:
        return [tuple(r) for r in c.execute(text("select team_id from slack_installations order by team_id"))]


def test_uninstalling_deletes_that_workspaces_installation_only(fake_slack, sqlite_url, clock):
    h = OAuthHarness(fake_slack, sqlite_url, clock)
    try:
        for code, team in (("code-8", "T8"), ("code-9", "T9")):
            h.fake.add_install(code, team_id=team, token=f"xoxb-{team}")
            assert h.install(code)[0] == 200
        assert _installations(h) == [("T8",), ("T9",)]
        r = _post_event(h, {"type": "app_uninstalled"}, "T9")
        assert r.status_code == 200
        assert _installations(h) == [("T8",)]
        # The other workspace is still served with its own token.
        answer = h.slash("/team", "setup 华东一组", "U800", "C800", team="T8")
        assert answer.status == 200 and "华东一组" in answer.text
    finally:
        h.close()


def test_revoked_bot_tokens_delete_the_workspaces_bot(fake_slack, sqlite_url, clock):
    h = OAuthHarness(fake_slack, sqlite_url, clock)
    try:
        h.fake.add_install("code-7", team_id="T7", token="xoxb-T7")
        assert h.install("code-7")[0] == 200
        r = _post_event(h, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, "T7")
        assert r.status_code == 200
        with h.engine.connect() as c:
            assert c.execute(text("select count(*) from slack_bots where team_id = 'T7'")).scalar_one() == 0
    finally:
        h.close()


def test_starting_with_slack_bot_token_in_the_environment_warns_nothing(fake_slack, sqlite_url, clock, monkeypatch,
                                                                          caplog):
    """SLACK_BOT_TOKEN is how an operator configures the bot, and Bolt reads it too: its note that
    the token "will be unused" (we hand Bolt a client that carries it) would be a WARNING at every
    start that no operator can act on."""
    from tests.kit.fixtures import SlackHarness

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    with caplog.at_level(logging.INFO):
        harness = SlackHarness(fake_slack, sqlite_url, clock)
        harness.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
