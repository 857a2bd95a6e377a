"""Signed random payloads into the real HTTP endpoint (uvicorn + Starlette + the real Bolt app).

Slash commands, button clicks (block_actions with any value), other interactivity types, Events
API callbacks, url_verification, malformed JSON and form bodies, random bytes, huge bodies, wrong
or missing content types, bad signatures and stale timestamps. For every request:

  * the HTTP status is never 5xx;
  * no traceback (nor the core's "internal error" incident text) reaches Slack: not in the HTTP
    answer, not in anything the bot posts to the Web API or a response_url;
  * a request the core refused (or never ran: bad signature, garbage) writes no row: the row
    counts of every table are the same before and after.

tests/bot/test_slack_e2e.py already sends a thousand random command *texts* through `teambot run`;
this file covers the payload shapes around them. Parsers alone: tests/commands/
test_parsing_properties.py and test_command_properties.py (hypothesis).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.server import MAX_BODY, build_server
from commands.core import router
from commands.core.clock import SystemClock
from commands.i18n import t
from tests.kit.fixtures import SlackHarness, payload_text, row_counts
from tests.kit.slack_signing import (
    SECRET,
    action_payload,
    dm_event,
    event_body,
    new_trigger_id,
    signed_headers,
    slash_body,
)

TEAM = "CFUZZ"
USERS = ["UMGR", "UREP", "URES", "UOUT"]  # manager, rep, resource_admin, not a member
CHANNELS = [TEAM, "CNOTEAM", "DUREP", "GPRIVATE", ""]
COMMANDS = [f"/{r.name}" for r in router.ROUTES] + ["/nosuch", "/", "/进展", "/" + "x" * 300]
#: Command texts a forged or replayed button might carry: every privileged step, on ids that exist
#: and ids that don't.
BUTTON_VALUES = [
    "/task done 1", "/task cancel 1", "/task reopen 1", "/task assign 1 <@UOUT>", "/task due 1 tomorrow",
    "/task snooze 1", "/task done 99999", "/task done -1", "/task done 1e9", "/task done 99999999999999999999",
    "/resource approve 1", "/resource reject 1 no", "/resource allocate 1", "/resource stock people 5",
    "/resource feedback 1 ok", "/resource cancel 1", "/resource show 1",
    "/team remove <@UMGR>", "/team add <@UOUT> manager", "/team setup X", "/goal set sales 1m 2026-Q4 for team",
    "/kpi metric add demos 演示 Demos count sum", "/agenda schedule weekly mon 09:30 60m",
    "/progress undo", "/teambot lang en", "/teambot away until tomorrow", "", "/", "task done 1", "tb:x",
]
INTERNAL = [t(lang, "core.internal_error", incident="")[:20] for lang in ("zh", "en")]
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "NoneType", "KeyError(")

any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
#: Mostly people the bot knows (so that commands get past the membership check), sometimes anyone.
ids = st.one_of(st.sampled_from(USERS), st.sampled_from(USERS), st.sampled_from(USERS),
                st.text("UW0123456789", min_size=0, max_size=12))
#: Well-formed commands, so that the fuzz also walks the paths that write.
VALID = ["/progress 拜访ACME visits=1", "/progress signed ACME sales=500k customers=1", "/progress list",
         "/progress blocker: legal review", "/task add <@UREP> call ACME due tomorrow", "/task list team",
         "/task add 写周报 due 明天", "/team", "/kpi", "/kpi team", "/goal list", "/goal review", "/agenda",
         "/resource request budget 5000 for the expo", "/resource list pending", "/resource stock",
         "/teambot help", "/teambot lang zh"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The Bolt app behind the real uvicorn server, in a thread; records every core call."""

    def __init__(self, fake, db_url: str):
        self.harness = SlackHarness(fake, db_url, SystemClock())
        self.fake = fake
        self.replies: list = []
        real = self.harness.dispatcher.handle

        def handle(inv):
            reply = real(inv)
            self.replies.append((inv, reply))
            return reply

        self.harness.dispatcher.handle = handle  # the Bolt listeners hold this dispatcher
        port = free_port()
        settings = replace(self.harness.settings, http_host="127.0.0.1", http_port=port)
        self.server = build_server(settings, self.harness.app)
        self.thread = threading.Thread(target=self.server.run, name="fuzz-uvicorn", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def post(self, body: bytes, headers: dict) -> httpx.Response:
        return self.http.post("/slack/events", content=body, headers=headers)

    def slash(self, command: str, text: str, user: str) -> dict:
        body = slash_body(command, text, user, TEAM)
        r = self.post(body.encode(), signed_headers(body))
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(10)
        self.harness.close()


@pytest.fixture
def server(fake_slack, sqlite_url):
    s = Server(fake_slack, sqlite_url)
    # A team with a task, a resource request and a goal, so that forged buttons have targets.
    s.slash("/team", "setup 华东一组", "UMGR")
    s.slash("/team", "add <@UREP> rep", "UMGR")
    s.slash("/team", "add <@URES> resource_admin", "UMGR")
    s.slash("/task", "add <@UREP> 拜访ACME due tomorrow", "UMGR")
    s.slash("/resource", "request people 2 for the expo", "UREP")
    s.slash("/goal", "set sales 1m 2026-Q4 for <@UREP>", "UMGR")
    s.replies.clear()
    yield s
    ok = sum(1 for _, reply in s.replies if reply.ok)
    print(f"core ran {len(s.replies)} times: {ok} done, {len(s.replies) - ok} refused")
    s.close()


def _sign(body: str | bytes, *, content_type: str | None, mode: str = "good") -> dict:
    raw = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    if mode == "stale":
        headers = signed_headers(raw, SECRET, int(time.time()) - 6 * 60, content_type=content_type or "text/plain")
    elif mode == "wrong_secret":
        headers = signed_headers(raw, "not-the-secret", content_type=content_type or "text/plain")
    elif mode == "unsigned":
        headers = {"Content-Type": content_type or "text/plain"}
    else:
        headers = signed_headers(raw, SECRET, content_type=content_type)
    if content_type is None and mode == "good":
        headers.pop("Content-Type", None)
    return headers


def check(server: Server, body: str | bytes, headers: dict, what: str) -> httpx.Response:
    """Send one request; the three promises of this file."""
    before = row_counts(server.harness.engine)
    n_replies = len(server.replies)
    n_calls = len(server.fake.calls())
    data = body.encode() if isinstance(body, str) else body
    r = server.post(data, headers)
    assert r.status_code < 500, f"{what}: HTTP {r.status_code} {r.text[:300]}"
    assert not any(m in r.text for m in TRACEBACK_MARKERS), f"{what}: {r.text[:500]}"
    shown = payload_text(r.json()) if r.text.strip().startswith("{") else r.text
    assert not any(m in shown for m in INTERNAL), f"{what}: {shown[:500]}"
    # Anything the bot said to Slack during this request (response_url, chat.postMessage, views).
    for call in server.fake.calls()[n_calls:]:
        sent = call.raw.decode("utf-8", errors="replace")
        assert not any(m in sent for m in TRACEBACK_MARKERS), f"{what}: posted {sent[:500]}"
        if call.method in ("chat.postMessage", "response_url"):
            assert not any(m in payload_text(call.params) for m in INTERNAL), f"{what}: posted {sent[:500]}"
    ran = server.replies[n_replies:]
    if not any(reply.ok for _, reply in ran):
        assert row_counts(server.harness.engine) == before, f"{what}: refused or not run, but wrote"
    r.ran = ran
    return r


def assert_refused_unsigned(r: httpx.Response, what: str) -> None:
    """A request without a valid signature never reaches the core: 401, whatever its body."""
    assert not r.ran, f"{what}: an unsigned request reached the core"
    assert r.status_code == 401, f"{what}: HTTP {r.status_code} {r.text[:200]}"


# -- strategies ---------------------------------------------------------------------------------------------


@st.composite
def slash_requests(draw):
    if draw(st.integers(0, 3)) == 0:
        command, _, text = draw(st.sampled_from(VALID)).partition(" ")
    else:
        command = draw(st.one_of(st.sampled_from(COMMANDS), st.text(max_size=20).map(lambda x: "/" + x)))
        text = draw(st.one_of(any_text, st.sampled_from(BUTTON_VALUES).map(lambda v: v.partition(" ")[2])))
    body = slash_body(command, text, draw(ids), draw(st.sampled_from(CHANNELS)),
                      trigger_id=draw(st.one_of(st.just(new_trigger_id()), any_text)))
    return f"slash {command} {text[:80]!r}", body, "application/x-www-form-urlencoded"


@st.composite
def action_requests(draw):
    value = draw(st.one_of(st.sampled_from(BUTTON_VALUES), st.sampled_from(VALID), any_text))
    action_id = draw(st.one_of(st.just("tb:click:0"), st.just("tb:task.done:1"), st.just("tb:x"), any_text))
    payload = action_payload(value, action_id, draw(ids), draw(st.sampled_from([TEAM, "DUREP", None])))
    # A response_url pointing at the FakeSlack (filled in by the test), or none (a Home-tab click).
    payload["response_url"] = "RESPONSE_URL" if draw(st.booleans()) else None
    if draw(st.integers(0, 4)) == 0:
        payload["type"] = draw(st.sampled_from(["view_submission", "shortcut", "message_action",
                                                "block_suggestion", "view_closed", "interactive_message", ""]))
    if draw(st.integers(0, 9)) == 0:
        payload.pop(draw(st.sampled_from(sorted(payload))), None)
    return f"action {value[:80]!r}", payload


@st.composite
def event_requests(draw):
    kind = draw(st.sampled_from(["dm", "home", "other", "bot", "weird"]))
    user = draw(ids)
    if kind == "dm":
        event = dm_event(draw(st.one_of(st.sampled_from(BUTTON_VALUES), st.sampled_from(VALID), any_text)),
                         user, f"D{user}")
    elif kind == "home":
        event = {"type": "app_home_opened", "user": user, "channel": "DHOME",
                 "tab": draw(st.sampled_from(["home", "messages", "", "x"]))}
    elif kind == "bot":
        event = dm_event("/task done 1", user, "D1", bot_id="BOTHER", subtype="bot_message")
    elif kind == "other":
        event = {"type": draw(st.sampled_from(["reaction_added", "member_joined_channel", "app_mention",
                                               "message", "channel_created"])),
                 "user": user, "channel": draw(st.sampled_from(CHANNELS)), "text": draw(any_text)}
    else:
        event = draw(st.dictionaries(st.text(max_size=10), st.one_of(any_text, st.integers(), st.none()),
                                     max_size=5))
    body = event_body(event, event_id=draw(st.one_of(st.none(), st.text("Ev0123456789", max_size=12))))
    return f"event {kind} {json.dumps(event, ensure_ascii=False)[:100]}", body, "application/json"


CONTENT_TYPES = [None, "application/json", "application/x-www-form-urlencoded", "text/plain",
                 "multipart/form-data; boundary=x", "application/xml", "application/json; charset=latin-1",
                 "application/x-www-form-urlencoded; charset=utf-16", "*/*", "garbage"]


@st.composite
def garbage_requests(draw):
    kind = draw(st.sampled_from(["bytes", "json", "form", "payload", "url_verification"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=2000))
    elif kind == "json":
        whole = json.dumps({"type": "event_callback", "event": {"type": "message", "channel_type": "im",
                                                                "user": "UREP", "text": "/task done 1"}})
        body = draw(st.one_of(st.just(whole[: draw(st.integers(0, len(whole)))]), any_text,
                              st.just("[]"), st.just("null"), st.just('"x"'), st.just("{}"),
                              st.just('{"type": 5}'), st.just('{"event": []}')))
    elif kind == "form":
        body = draw(st.one_of(any_text, st.just("command=%ZZ&text=%"), st.just("=&=&&"),
                              st.just("command=/task&command=/team&text=done 1&text=x"),
                              st.just(urlencode({"command": "/task", "text": "done 1"}))))
    elif kind == "payload":
        body = "payload=" + draw(st.one_of(any_text, st.just("{"), st.just("[]"), st.just("null"),
                                           st.just('{"type": "block_actions"}'),
                                           st.just('{"type": "block_actions", "actions": "x", "user": 1}')))
    else:
        body = json.dumps({"type": "url_verification", "challenge": draw(any_text), "token": "x"})
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    mode = draw(st.sampled_from(["good", "good", "good", "stale", "wrong_secret", "unsigned"]))
    return f"{kind} as {content_type} ({mode}) {str(body)[:80]!r}", body, content_type, mode


# -- tests --------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(req=slash_requests(), mode=st.sampled_from(["good"] * 8 + ["stale", "wrong_secret"]))
def test_random_slash_commands(server, req, mode):
    what, body, ctype = req
    r = check(server, body, _sign(body, content_type=ctype, mode=mode), what)
    if mode != "good":
        assert r.status_code == 401 and not r.ran, what


@FUZZ
@given(req=action_requests(), mode=st.sampled_from(["good"] * 8 + ["stale", "unsigned"]))
def test_random_button_clicks_and_interactivity(server, req, mode):
    what, payload = req
    if payload.get("response_url") == "RESPONSE_URL":
        payload["response_url"] = server.fake.response_url("fuzz")
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
    r = check(server, body, _sign(body, content_type="application/x-www-form-urlencoded", mode=mode), what)
    if mode != "good":
        assert r.status_code == 401 and not r.ran, what


@FUZZ
@given(req=event_requests())
def test_random_events(server, req):
    what, body, ctype = req
    check(server, body, _sign(body, content_type=ctype), what)


@FUZZ
@given(req=garbage_requests())
def test_malformed_bodies_and_wrong_content_types(server, req):
    what, body, ctype, mode = req
    r = check(server, body, _sign(body, content_type=ctype, mode=mode), what)
    if mode != "good":
        assert_refused_unsigned(r, what)


def test_huge_bodies_are_refused_before_anything_runs(server):
    # Over the limit: 413 before Bolt sees it, even when correctly signed.
    huge = slash_body("/progress", "签约 " + "x" * MAX_BODY, "UREP", TEAM)
    r = check(server, huge, signed_headers(huge), "huge slash command")
    assert r.status_code == 413
    junk = b"\xff" * (MAX_BODY + 10)
    assert check(server, junk, {"Content-Type": "application/json"}, "huge junk").status_code == 413
    # Just under the limit: a valid, signed command with an absurd text is answered, privately.
    big = slash_body("/progress", "签约 sales=" + "9" * (MAX_BODY // 2), "UREP", TEAM)
    assert len(big) < MAX_BODY
    r = check(server, big, signed_headers(big), "big slash command")
    assert r.status_code == 200 and r.json().get("response_type") == "ephemeral"
    # A huge button value and a huge DM, signed.
    click = urlencode({"payload": json.dumps(action_payload("/task done 1 " + "1" * 400_000, "tb:x", "UREP", TEAM))})
    assert check(server, click, signed_headers(click), "huge click").status_code == 200
    dm = event_body(dm_event("/progress " + "长" * 200_000, "UREP", "DUREP"))
    assert check(server, dm, signed_headers(dm), "huge dm").status_code == 200


def test_refused_requests_never_reach_the_core(server):
    """Bad signature, stale or future timestamp, missing headers: 401 and the core never runs."""
    body = slash_body("/team", "remove <@UREP>", "UMGR", TEAM)
    future = signed_headers(body, SECRET, int(time.time()) + 6 * 60)
    for what, headers in [("no headers", {"Content-Type": "application/x-www-form-urlencoded"}),
                          ("wrong secret", signed_headers(body, "nope")),
                          ("stale", signed_headers(body, SECRET, int(time.time()) - 301)),
                          ("future", future),
                          ("garbage timestamp", {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}),
                          ("signature of another body", signed_headers(body + "x"))]:
        r = check(server, body, headers, what)
        assert r.status_code == 401, what
    assert server.replies == []
    # And the same request, correctly signed, does run (so the refusals above were the signature's).
    assert check(server, body, signed_headers(body), "signed").status_code == 200
    assert [reply.ok for _, reply in server.replies] == [True]
