"""The Slack adapter the way Slack sees it: signed requests into the real Bolt app through the
Starlette app, with the Web API answered by FakeSlack and a real database behind the core."""
from __future__ import annotations

import json
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack.users import UserDirectory
from commands.reply import Reply
from tests.kit.fake_slack import FakeSlack
from tests.kit.fixtures import SlackHarness, payload_text
from tests.kit.slack_signing import (
    SECRET,
    action_body,
    dm_event,
    event_body,
    signed_headers,
    slash_body,
)


def setup_team(slack: SlackHarness, channel: str = "C1") -> None:
    """U1 manages 华东一组 in `channel`; U2 is a rep."""
    assert "华东一组" in slack.slash("/team", "setup 华东一组", user="U1", channel=channel).text
    assert slack.slash("/team", "add <@U2|li> rep", user="U1", channel=channel).status == 200


# -- signing -----------------------------------------------------------------------------------

def test_signed_headers_match_slack_sdk_verifier():
    body = slash_body("/progress", "签约 销售额=50万 & <more>")
    ts = int(time.time())
    h = signed_headers(body, SECRET, ts)
    v = SignatureVerifier(SECRET)
    assert v.is_valid(body, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"])
    assert h["X-Slack-Signature"] == v.generate_signature(timestamp=str(ts), body=body)
    assert not SignatureVerifier("other").is_valid(body, str(ts), h["X-Slack-Signature"])


def test_healthz(slack):
    r = slack.client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert slack.client.get("/slack/events").status_code == 405


def test_bad_signature_gets_401_and_runs_nothing(slack):
    before = slack.counts()
    assert slack.slash("/team", "setup 华东一组", secret="wrong-secret").status == 401
    body = slash_body("/team", "setup 华东一组")
    tampered = body.replace("setup", "setup2")
    assert slack.post(tampered, signed_headers(body, SECRET)).status == 401
    assert slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    assert slack.counts() == before
    assert slack.fake.calls("users.info") == []


def test_old_timestamp_gets_401(slack):
    six_minutes_ago = int(time.time()) - 6 * 60
    r = slack.slash("/team", "setup 华东一组", timestamp=six_minutes_ago)
    assert r.status == 401
    assert slack.counts()["team"] == 0
    # Within the 5-minute window it is accepted.
    assert slack.slash("/nosuch", "x", timestamp=int(time.time()) - 4 * 60).status == 200


def test_url_verification_challenge(slack):
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"})
    r = slack.post(body)
    assert r.status == 200 and "abc123" in r.body


# -- slash commands ----------------------------------------------------------------------------

def test_unknown_command_is_a_private_usage_reply(slack):
    r = slack.slash("/nosuch", "hello")
    assert r.status == 200 and r.ephemeral
    assert "nosuch" in r.text and "/teambot help" in r.text
    assert "Traceback" not in r.body


def test_private_reply_comes_back_in_the_ack(slack):
    setup_team(slack)
    r = slack.slash("/progress", "签约ACME年框 销售额=50万 新客户=1", user="U2")
    assert r.status == 200 and r.ephemeral
    assert "签约ACME年框" in r.text and "500,000" in r.text
    assert r.json["blocks"][0]["type"] == "section"
    undo = r.blocks[-1]["elements"][0]
    assert undo["action_id"].startswith("tb:") and undo["value"] == "/progress undo"
    # A roster change is announced in the channel.
    r = slack.slash("/team", "add <@U3|zhao> marketing", user="U1")
    assert r.response_type == "in_channel" and "<@U3>" in r.text


def test_escaped_text_from_slack_reaches_the_core_unescaped(slack):
    setup_team(slack)
    r = slack.slash("/progress", "R&amp;D 演示 &lt;大客户&gt;", user="U2")
    assert r.ephemeral and "R&D 演示 <大客户>" in r.text
    # ... and goes back out escaped.
    assert "R&amp;D 演示 &lt;大客户&gt;" in r.json["blocks"][0]["text"]["text"]


@pytest.mark.parametrize("retry", [1, 2])
def test_a_slack_retry_returns_the_first_reply_and_writes_nothing(slack, retry):
    setup_team(slack)
    first = slack.slash("/progress", "签约ACME 销售额=50万", user="U2", trigger_id="trig-1")
    counts = slack.counts()
    again = slack.slash("/progress", "签约ACME 销售额=50万", user="U2", trigger_id="trig-1", retry_num=retry)
    assert again.status == 200 and again.body == first.body
    assert slack.counts() == counts
    # A new trigger is a new command.
    slack.slash("/progress", "签约ACME 销售额=50万", user="U2", trigger_id="trig-2")
    assert slack.counts()["progress_entry"] == counts["progress_entry"] + 1


def test_retry_dedupe_on_both_databases(fake_slack, db_url, clock):
    h = SlackHarness(fake_slack, db_url, clock)
    try:
        first = h.slash("/team", "setup 华东一组", user="U1", channel="C9", trigger_id="t-setup")
        again = h.slash("/team", "setup 华东一组", user="U1", channel="C9", trigger_id="t-setup", retry_num=1)
        assert first.status == again.status == 200 and first.body == again.body
        assert first.response_type == "in_channel"
        assert h.counts()["team"] == 1 and h.counts()["member"] == 1
    finally:
        h.close()


# -- users.info ----------------------------------------------------------------------------------

def test_users_info_is_asked_once_per_user_within_the_ttl(slack):
    for _ in range(3):
        slack.slash("/nosuch", "", user="U1")
    slack.slash("/nosuch", "", user="U2")
    calls = slack.fake.calls("users.info")
    assert sorted(c.params["user"] for c in calls) == ["U1", "U2"]
    assert all(c.params["include_locale"] in ("1", "true") for c in calls)
    assert all(c.token == "xoxb-test-token" for c in calls)


def test_users_cache_expires_after_the_ttl(fake_slack):
    now = [0.0]
    d = UserDirectory.from_settings(_settings(fake_slack, ttl=60), monotonic=lambda: now[0])
    fake_slack.set_user("U1", locale="zh-CN", tz="Asia/Shanghai", real_name="王伟")
    p = d.get("U1")
    assert (p.locale, p.tz, p.name) == ("zh-CN", "Asia/Shanghai", "王伟")
    now[0] = 59
    d.get("U1")
    assert len(fake_slack.calls("users.info")) == 1
    now[0] = 61
    d.get("U1")
    assert len(fake_slack.calls("users.info")) == 2
    d.close()


def _settings(fake: FakeSlack, ttl: int = 3600, timeout: float = 1.0):
    from bot.config import Settings, SlackSettings
    return Settings(platform="slack", slack=SlackSettings(bot_token="xoxb-test-token", signing_secret=SECRET,
                                                          api_url=fake.url, user_cache_seconds=ttl,
                                                          users_info_timeout=timeout))


def test_slack_locale_picks_the_language_in_an_unbound_channel(fake_slack, sqlite_url, clock):
    h = SlackHarness(fake_slack, sqlite_url, clock, default_lang="en")
    try:
        fake_slack.set_user("U1", locale="zh-CN", tz="Asia/Shanghai")
        fake_slack.set_user("U2", locale="en-US")
        zh = h.slash("/nosuch", "", user="U1", channel="C-unbound")
        en = h.slash("/nosuch", "", user="U2", channel="C-unbound")
        assert "我不认识命令" in zh.text
        assert "I don't know the command" in en.text
    finally:
        h.close()


def test_a_slow_users_info_does_not_hold_up_the_answer(fake_slack, sqlite_url, clock):
    h = SlackHarness(fake_slack, sqlite_url, clock, users_info_timeout=0.3)
    try:
        fake_slack.set_user("U9", locale="en-US", delay=1.5)
        started = time.monotonic()
        r = h.slash("/nosuch", "", user="U9", channel="C-unbound")
        elapsed = time.monotonic() - started
        assert r.status == 200 and r.ephemeral and "nosuch" in r.text
        assert elapsed < 1.0, elapsed
        # The late answer still lands in the cache: the next command is in English, with no new call.
        fake_slack.wait_for("users.info", 1)
        time.sleep(1.4)
        r = h.slash("/nosuch", "", user="U9", channel="C-unbound")
        assert "I don't know the command" in r.text
        assert len(fake_slack.calls("users.info")) == 1
    finally:
        h.close()


def test_users_info_errors_never_fail_a_command(slack):
    slack.fake.error("users.info", "user_not_found", times=None)
    slack.fake.fail("users.info", status=500, times=1)
    r = slack.slash("/nosuch", "", user="U7")
    assert r.status == 200 and r.ephemeral and "nosuch" in r.text


def test_auth_test_failure_does_not_fail_commands(slack):
    slack.fake.fail("auth.test", status=500, times=None)
    r = slack.slash("/nosuch", "", user="U1")
    assert r.status == 200 and r.ephemeral


def test_a_crash_below_the_core_is_a_generic_private_reply(slack, monkeypatch):
    def boom(inv):
        raise RuntimeError("database on fire")
    monkeypatch.setattr(slack.dispatcher, "handle", boom)
    r = slack.slash("/progress", "x", user="U1")
    assert r.status == 200 and r.ephemeral
    assert "Traceback" not in r.body and "on fire" not in r.body and "Something went wrong" in r.text


# -- buttons ------------------------------------------------------------------------------------

def test_button_click_runs_the_command_as_the_clicker(slack):
    setup_team(slack)
    value = "/team add <@U3|zhao> marketing"
    # U2 is a rep: the core re-checks and refuses, whatever the button claims.
    r = slack.click(value, user="U2", channel="C1", action_id="tb:approve_as_manager:0", response_token="rep")
    assert r.status == 200
    [resp] = slack.fake.wait_for("response_url", 1)
    assert resp.path.endswith("/rep")
    assert resp.params["response_type"] == "ephemeral" and resp.params["replace_original"] is False
    assert "只有销售经理" in payload_text(resp.params)
    assert slack.counts()["member"] == 2
    # The manager's click works.
    slack.click(value, user="U1", channel="C1", response_token="mgr")
    slack.fake.wait_for("response_url", 2)
    [ok] = slack.fake.responses("mgr")
    assert "<@U3>" in payload_text(ok.params)
    assert slack.counts()["member"] == 3


def test_undo_button_undoes_the_clickers_own_entry_once(slack):
    setup_team(slack)
    logged = slack.slash("/progress", "拜访客户 拜访=2", user="U2")
    value = logged.blocks[-1]["elements"][0]["value"]
    before = slack.counts()["progress_entry"]
    body = action_body(value, "tb:progress.undo:0", "U2", "C1", trigger_id="click-1",
                       response_url=slack.fake.response_url("u"))
    assert slack.post(body).status == 200
    assert slack.post(body, retry_num=1).status == 200  # same click delivered twice
    assert slack.counts()["progress_entry"] == before - 1


def test_home_tab_button_answers_in_a_dm(slack):
    slack.click("/teambot help", user="U1", channel=None, response_url=None)
    [post] = slack.fake.wait_for("chat.postMessage", 1)
    assert post.params["channel"] == "U1" and "/teambot" in payload_text(post.params)


# -- events ---------------------------------------------------------------------------------------

def test_direct_message_runs_as_a_command_and_replies_in_the_dm(slack):
    slack.fake.set_user("U1", locale="zh-CN")
    r = slack.event(dm_event("teambot help", user="U1", channel="D1"), event_id="Ev1")
    assert r.status == 200
    [post] = slack.fake.wait_for("chat.postMessage", 1)
    assert post.params["channel"] == "D1" and "teambot" in payload_text(post.params)
    # Slack's retry of the same event does not post twice.
    assert slack.event(dm_event("teambot help", user="U1", channel="D1"), event_id="Ev1", retry_num=1).status == 200
    assert len(slack.fake.calls("chat.postMessage")) == 1


@pytest.mark.parametrize("event", [
    dm_event("help", user="U1", bot_id="B1"),
    dm_event("help", user="U1", subtype="message_changed"),
    {**dm_event("help", user="U1"), "channel_type": "channel", "channel": "C1"},
    dm_event("help", user="UBOT"),
])
def test_other_messages_are_acknowledged_and_ignored(slack, event):
    r = slack.post(event_body(event))
    assert r.status == 200
    assert slack.fake.calls("chat.postMessage") == []


def test_app_home_opened_publishes_the_help(slack):
    r = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert r.status == 200
    [pub] = slack.fake.wait_for("views.publish", 1)
    view = pub.json("view")
    assert pub.params["user_id"] == "U1" and view["type"] == "home"
    assert view["blocks"][0]["type"] == "header" and len(view["blocks"]) <= 100
    assert "/teambot" in payload_text(view)
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"})
    assert len(slack.fake.calls("views.publish")) == 1


def test_listener_failures_never_reach_slack(slack, monkeypatch):
    monkeypatch.setattr(slack.dispatcher, "handle", lambda inv: Reply.text("ok"))
    slack.fake.fail("chat.postMessage", status=500, times=None)
    slack.fake.fail("views.publish", status=500, times=None)
    assert slack.dm("help").status == 200
    assert slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"}).status == 200
