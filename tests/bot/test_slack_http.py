"""The Slack adapter the way Slack sees it: signed requests into the real Bolt app through the
Starlette app, with the Web API answered by FakeSlack and a real database behind the core."""
from __future__ import annotations

import json
import logging
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack.users import UserDirectory
from commands.core.reply import Reply
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
    slack.fake.wait_for("auth.test", 1)
    assert slack.slash("/nosuch", "", user="U1").status == 200


def test_auth_test_never_delays_the_ack(slack):
    slack.fake.slow("auth.test", 2.0)
    started = time.monotonic()
    assert slack.slash("/nosuch", "", user="U1").status == 200
    assert time.monotonic() - started < 1.0


def test_bot_user_id_comes_from_auth_test_and_its_own_dms_are_ignored(slack):
    slack.slash("/nosuch", "", user="U1")
    slack.fake.wait_for("auth.test", 1)
    time.sleep(0.5)  # auth.test answered; let BotIdentity store it
    slack.dm("help", user="UBOT", channel="D1")
    assert slack.fake.calls("chat.postMessage") == []


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
    slack.fake.wait_for("response_url", 1)
    assert slack.post(body, retry_num=1).status == 200  # same click delivered twice
    [first, again] = slack.fake.wait_for("response_url", 2)
    assert first.params == again.params and "撤销" in payload_text(first.params)
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


def test_a_refused_dm_retried_to_another_replica_is_answered_once(fake_slack, sqlite_url, clock, caplog):
    one, two = SlackHarness(fake_slack, sqlite_url, clock), SlackHarness(fake_slack, sqlite_url, clock)
    try:
        fake_slack.set_user("U1", locale="zh-CN")
        assert one.event(dm_event("team add <@U2> rep", user="U1", channel="D1"), event_id="EvR").status == 200
        [post] = fake_slack.wait_for("chat.postMessage", 1)
        assert "⚠️" in payload_text(post.params) or "🚫" in payload_text(post.params)
        # Slack retries (our answer was slow) and the retry reaches the other replica.
        with caplog.at_level(logging.INFO, logger="teambot.slack"):
            retry = two.event(dm_event("team add <@U2> rep", user="U1", channel="D1"), event_id="EvR", retry_num=1)
            assert retry.status == 200
            deadline = time.monotonic() + 10
            while not any("EvR was already answered" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the retry was not recognised"
                time.sleep(0.01)
        assert len(fake_slack.calls("chat.postMessage")) == 1
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("event", [
    dm_event("help", user="U1", bot_id="B1"),
    dm_event("help", user="U1", subtype="message_changed"),
    {**dm_event("help", user="U1"), "channel_type": "channel", "channel": "C1"},
    {k: v for k, v in dm_event("help").items() if k != "user"},
])
def test_other_messages_are_acknowledged_and_ignored(slack, event):
    r = slack.post(event_body(event))
    assert r.status == 200 and r.body == ""
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
    slack.fake.wait_for("chat.postMessage", 1)
    slack.fake.wait_for("views.publish", 1)
    # ... and the next message still gets its answer attempt.
    slack.fake.reset()
    assert slack.dm("help", event_id="Ev-next").status == 200
    slack.fake.wait_for("chat.postMessage", 1)


# -- modes ----------------------------------------------------------------------------------------

def test_run_slack_picks_socket_mode_when_an_app_token_is_set(fake_slack, monkeypatch):
    import bot.slack.socket as sock
    from bot.slack import run_slack, server
    ran = []
    monkeypatch.setattr(server, "serve", lambda settings, app, **kw: ran.append("http"))
    monkeypatch.setattr(sock, "serve_socket_mode", lambda settings, app, **kw: ran.append("socket"))
    http_settings = _settings(fake_slack)
    socket_settings = http_settings.__class__(
        **{**http_settings.__dict__,
           "slack": http_settings.slack.__class__(**{**http_settings.slack.__dict__, "app_token": "xapp-1"})})
    run_slack(http_settings, object(), None)
    run_slack(socket_settings, object(), None)
    assert ran == ["http", "socket"]


def test_socket_mode_handler_uses_the_configured_api_url(fake_slack, sqlite_url, clock):
    from bot.slack.socket import build_handler
    h = SlackHarness(fake_slack, sqlite_url, clock)
    try:
        with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
            build_handler(h.settings, h.app)
        settings = h.settings.__class__(
            **{**h.settings.__dict__,
               "slack": h.settings.slack.__class__(**{**h.settings.slack.__dict__, "app_token": "xapp-1"})})
        handler = build_handler(settings, h.app)
        assert handler.client.web_client.base_url == fake_slack.url
        assert handler.app_token == "xapp-1"
    finally:
        h.close()


# -- the users cache under concurrency ------------------------------------------------------------

def test_concurrent_lookups_share_one_users_info_call(fake_slack):
    from concurrent.futures import ThreadPoolExecutor
    fake_slack.set_user("U1", locale="zh-CN", delay=0.2)
    d = UserDirectory.from_settings(_settings(fake_slack))
    with ThreadPoolExecutor(8) as pool:
        profiles = list(pool.map(lambda _: d.get("U1"), range(16)))
    assert {p.locale for p in profiles} == {"zh-CN"}
    assert len(fake_slack.calls("users.info")) == 1
    d.close()


# -- the test kit itself -------------------------------------------------------------------------

def test_fake_slack_records_calls_and_plays_scripted_failures(fake_slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    client = WebClient(token="xoxb-kit", base_url=fake_slack.url, retry_handlers=[])
    r = client.chat_postMessage(channel="C1", text="hi", blocks=[{"type": "divider"}])
    assert r["ok"] and r["channel"] == "C1"
    [call] = fake_slack.calls("chat.postMessage")
    assert call.token == "xoxb-kit" and call.params["text"] == "hi" and call.json("blocks") == [{"type": "divider"}]
    assert client.conversations_open(users="U2")["channel"]["id"] == "DU2"

    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "1"})
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="again")
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="C1", text="third")["ok"]  # times=1: next one is fine

    fake_slack.fail("chat.update", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            client.chat_update(channel="C1", ts="1.2", text="x")
    assert client.chat_update(channel="C1", ts="1.2", text="x")["ok"]

    fake_slack.error("chat.postEphemeral", "channel_not_found", times=None)
    for _ in range(3):
        with pytest.raises(SlackApiError) as e:
            client.chat_postEphemeral(channel="C404", user="U1", text="x")
        assert e.value.response["error"] == "channel_not_found"
    assert len(fake_slack.calls("chat.postEphemeral")) == 3

    with pytest.raises(AssertionError, match="views.open"):
        fake_slack.wait_for("views.open", 1, timeout=0.05)
    fake_slack.reset()
    assert fake_slack.calls() == []


def test_fake_slack_serves_the_files_upload_v2_flow_and_response_urls(fake_slack):
    from slack_sdk import WebClient
    from slack_sdk.webhook import WebhookClient
    client = WebClient(token="xoxb-kit", base_url=fake_slack.url)
    r = client.files_upload_v2(channel="C1", content="metric,value\nsales,500000\n", filename="kpi.csv",
                               title="KPI", initial_comment="本周 KPI")
    assert r["ok"] and r["files"][0]["title"] == "KPI"
    [upload] = fake_slack.calls("upload")
    assert fake_slack.uploads[upload.params["file_id"]] == b"metric,value\nsales,500000\n"
    [done] = fake_slack.calls("files.completeUploadExternal")
    assert done.params["channel_id"] == "C1" and done.json("files")[0]["id"] == upload.params["file_id"]

    hook = WebhookClient(fake_slack.response_url("tok-1"))
    assert hook.send(text="hello", response_type="ephemeral", replace_original=False).status_code == 200
    [resp] = fake_slack.responses("tok-1")
    assert resp.params == {"text": "hello", "response_type": "ephemeral", "replace_original": False}
    assert fake_slack.responses("other") == []


# -- which requests run on the event loop -----------------------------------------------------------

def test_only_typed_commands_from_known_users_run_on_the_event_loop(fake_slack):
    """bot.slack.app.runs_inline: anything that may call Slack (a bare command opens a modal; a
    new user needs users.info; buttons, forms and events answer through the Web API) goes to the
    thread pool, so a slow Slack never holds up other requests."""
    from slack_bolt import BoltRequest
    from slack_sdk import WebClient

    from bot.slack.app import runs_inline
    from bot.slack.users import UserDirectory

    users = UserDirectory(WebClient(token="xoxb-test", base_url=fake_slack.url), timeout=2)
    check = runs_inline(users)

    def inline(body: str) -> bool:  # as the server asks: on the body Bolt parsed
        return check(BoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"}).body)

    typed = slash_body("/progress", "签约 ACME sales=50万", "U1", "C1")
    assert not inline(typed)  # U1 not looked up yet
    users.get("U1")
    assert inline(typed)
    assert not inline(slash_body("/progress", "", "U1", "C1"))  # bare: opens a form
    assert not inline(slash_body("/progress", "   ", "U1", "C1"))  # blank is bare too
    assert not inline(action_body("progress undo 1", "tb:click:0", "U1", "C1"))
    assert not inline(event_body(dm_event("help", "U1", "D1")))
    assert not inline("\ufffd garbage")


def test_the_server_runs_inline_requests_on_the_event_loop_and_the_rest_in_threads(fake_slack):
    import threading

    from slack_bolt import App
    from slack_sdk import WebClient
    from starlette.testclient import TestClient

    from bot.slack.server import build_asgi

    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=fake_slack.url),
              token_verification_enabled=False, process_before_response=True)
    seen = []

    @app.command("/where")
    def where(ack, body):
        seen.append((body["text"], threading.current_thread()))
        ack("ok")

    asgi = build_asgi(app, SECRET, inline=lambda body: body.get("text") == "loop")
    with TestClient(asgi) as client:
        for text in ("loop", "pool"):
            body = slash_body("/where", text, "U1", "C1")
            assert client.post("/slack/events", content=body.encode(), headers=signed_headers(body)).status_code == 200
    (_, loop_thread), (_, pool_thread) = seen
    assert loop_thread is not pool_thread
    assert pool_thread.name.startswith("AnyIO worker") and not loop_thread.name.startswith("AnyIO worker")


def test_typed_commands_run_on_the_event_loop_with_the_dispatchers_engine(fake_slack, monkeypatch, sqlite_url):
    from bot.group_commit import GroupCommit
    from bot.slack import run_slack, server
    from bot.wiring import Wiring, on_loop
    from storage.awaited import AwaitedEngine
    from storage.db import make_engine
    got = []
    monkeypatch.setattr(server, "serve", lambda settings, app, **kw: got.append(kw))
    sqlite = _settings(fake_slack)
    postgres = sqlite.__class__(**{**sqlite.__dict__, "database_url": "postgresql+psycopg://u@127.0.0.1:9/x"})
    engine, pg_engine = make_engine(sqlite_url), make_engine(postgres.database_url)  # the latter never connects
    run_slack(sqlite, object(), None, on_loop=on_loop(Wiring(sqlite, engine, None, None, None)))
    run_slack(postgres, object(), None, on_loop=on_loop(Wiring(postgres, pg_engine, None, None, None)))
    run_slack(postgres, object(), None)
    engine.dispose()
    pg_engine.dispose()
    on_sqlite, on_pg, without = got
    # SQLite: group commit on the dispatcher's own engine.
    assert callable(on_sqlite["inline"])
    assert isinstance(on_sqlite["on_loop"], GroupCommit) and on_sqlite["on_loop"].engine is engine
    # PostgreSQL: each statement awaited, through a twin of the dispatcher's own engine.
    assert callable(on_pg["inline"])
    assert isinstance(on_pg["on_loop"], AwaitedEngine) and on_pg["on_loop"].engine is pg_engine
    on_pg["on_loop"].close()
    # Nothing to run on the loop with: the thread pool, as for everything else.
    assert without["inline"] is None and without["on_loop"] is None
