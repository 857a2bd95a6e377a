"""bot.slack.sender.SlackSender against a fake Slack Web API over real HTTP, alone and under the
outbox: 429 with Retry-After, 500s, permanent errors, DMs through conversations.open."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.slack.sender import SlackSender
from commands.core.clock import FixedClock
from commands.core.reply import Actions, Button, Fields, Reply, Text, reply_to_dict
from reminders import outbox
from reminders.outbox import OutboxConfig
from storage.db import make_engine
from storage.models import OutboxMessage
from storage.uow import uow_factory
from tests.kit.fake_slack import FakeSlack

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


def _payload(text: str) -> dict:
    return reply_to_dict(Reply(parts=(Text(text), Fields((("Due", "Fri"),)),
                                      Actions((Button("Done", "tasks.done", "7", command="/task done 7"),))),
                               private=False, summary=text))


@pytest.fixture
def fake():
    with FakeSlack() as f:
        yield f


def test_channel_post_and_dm(fake):
    sender = SlackSender("xoxb-test", base_url=fake.url)
    assert sender.send("slack", "channel:C1", _payload("hello")).ok
    assert sender.send("slack", "user:U2", _payload("private hello")).ok
    assert sender.send("slack", "user:U2", _payload("again")).ok
    posts = fake.calls("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["C1", "DU2", "DU2"]
    assert len(fake.calls("conversations.open")) == 1  # the DM channel is remembered
    assert posts[0].token == "xoxb-test"
    assert posts[0].params["text"].startswith("hello")
    blocks = posts[0].json("blocks")
    assert any(b.get("type") == "actions" for b in blocks)


def test_rate_limited_answer_carries_retry_after_and_is_not_retried_by_the_sdk(fake):
    fake.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    sender = SlackSender("xoxb-test", base_url=fake.url)
    result = sender.send("slack", "channel:C1", _payload("hi"))
    assert result.status == "rate_limited" and result.retry_after == 7
    assert len(fake.calls("chat.postMessage")) == 1  # retry_handlers=[]: the outbox retries, not the SDK


@pytest.mark.parametrize("script,status", [
    (("fail", 500), "transient"),
    (("fail", 503), "transient"),
    (("error", "internal_error"), "transient"),
    (("error", "channel_not_found"), "permanent"),
    (("error", "not_in_channel"), "permanent"),
    (("error", "is_archived"), "permanent"),
    (("error", "invalid_auth"), "permanent"),
    (("error", "ratelimited"), "rate_limited"),
])
def test_error_mapping(fake, script, status):
    how, what = script
    if how == "fail":
        fake.fail("chat.postMessage", status=what)
    else:
        fake.error("chat.postMessage", what)
    result = SlackSender("xoxb-test", base_url=fake.url).send("slack", "channel:C1", _payload("x"))
    assert result.status == status
    assert result.error


def test_dm_to_unknown_user_is_permanent(fake):
    fake.error("conversations.open", "user_not_found")
    result = SlackSender("xoxb-test", base_url=fake.url).send("slack", "user:UGONE", _payload("x"))
    assert result.status == "permanent" and "user_not_found" in result.error


def test_network_failure_is_transient(fake):
    url = fake.url
    fake.stop()
    result = SlackSender("xoxb-test", base_url=url, timeout=2).send("slack", "channel:C1", _payload("x"))
    assert result.status == "transient" and "network" in result.error


def test_bad_destination_is_permanent(fake):
    assert SlackSender("xoxb-test", base_url=fake.url).send("slack", "C1", _payload("x")).status == "permanent"


def test_outbox_through_fake_slack_429_then_500s_in_order_and_a_dead_one(fake, sqlite_url):
    """The whole path: queued rows -> drain -> SlackSender -> HTTP. Slack answers 429 (Retry-After 2)
    and then 500s; every message arrives once and in order per channel; a message to an archived
    channel ends dead with Slack's error."""
    engine = make_engine(sqlite_url)
    uow = uow_factory(engine)
    with uow() as u:
        for i in range(4):
            for dest in ("channel:C1", "user:U2"):
                outbox.enqueue(u.session, platform="slack", destination=dest, now=T0,
                               payload=_payload(f"{dest} #{i}"))
        outbox.enqueue(u.session, platform="slack", destination="channel:CARCH", now=T0, payload=_payload("x"))
    fake.fail("chat.postMessage", status=429, headers={"Retry-After": "2"}, times=1)
    fake.fail("chat.postMessage", status=500, times=3)
    fake.error("chat.postMessage", "is_archived", times=None, when=lambda p: p.get("channel") == "CARCH")
    sender = SlackSender("xoxb-test", base_url=fake.url)
    clock = FixedClock(T0)
    config = OutboxConfig(backoff_base_seconds=1, backoff_cap_seconds=8)
    for _ in range(120):
        outbox.drain(uow, sender, clock, "w1", config=config)
        clock.advance(seconds=1)
    with uow() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    engine.dispose()
    dead = [m for m in rows if m.status == "dead"]
    assert [m.destination for m in dead] == ["channel:CARCH"] and dead[0].last_error == "is_archived"
    assert all(m.status == "sent" for m in rows if m.destination != "channel:CARCH")
    ok = [c for c in fake.calls("chat.postMessage") if c.params["channel"] != "CARCH"]
    delivered = {}
    for c in ok:
        delivered.setdefault(c.params["channel"], []).append(c.params["text"].split("\n")[0])
    # Each channel saw its messages in order; failed tries repeat a message, never jump ahead.
    for channel, dest in (("C1", "channel:C1"), ("DU2", "user:U2")):
        seen = delivered[channel]
        assert sorted(set(seen)) == [f"{dest} #{i}" for i in range(4)]
        firsts = [seen.index(f"{dest} #{i}") for i in range(4)]
        assert firsts == sorted(firsts)
    # 8 accepted + 1 rate-limited + 3 server errors (whichever channel drew them) + 1 is_archived.
    assert len(fake.calls("chat.postMessage")) == 8 + 1 + 3 + 1
    assert clock.now() - T0 >= timedelta(seconds=2)


def test_local_image_is_uploaded_after_the_text_and_a_failed_upload_does_not_repost(fake, tmp_path):
    from commands.core.reply import Image

    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    payload = reply_to_dict(Reply(parts=(Text("KPI summary"), Image(str(chart), "sales chart")),
                                  private=False, summary="KPI summary"))
    sender = SlackSender("xoxb-test", base_url=fake.url)
    fake.fail("files.completeUploadExternal", status=500)
    first = sender.send("slack", "channel:C1", payload)
    assert first.status == "transient"
    assert sender.send("slack", "channel:C1", payload).ok  # the retry
    assert len(fake.calls("chat.postMessage")) == 1  # text posted once
    done = fake.calls("files.completeUploadExternal")
    assert len(done) == 2 and done[-1].params.get("channel_id") == "C1"
    assert fake.uploads and next(iter(fake.uploads.values())).startswith(b"\x89PNG")
    # An upload that can never work is logged; the message (its text went out) counts as sent.
    fake.error("files.getUploadURLExternal", "missing_scope")
    assert sender.send("slack", "channel:C2", payload).ok


def test_an_export_file_is_uploaded_to_the_persons_dm(fake, tmp_path):
    from commands.core.reply import File

    csv = tmp_path / "progress.csv"
    csv.write_bytes("\ufeff成员,进展\nli,签约ACME\n".encode())
    payload = reply_to_dict(Reply(parts=(Text("导出完成"), File(str(csv), "华东 进展.csv")), summary="导出完成"))
    sender = SlackSender("xoxb-test", base_url=fake.url)
    assert sender.send("slack", "user:U42", payload).ok
    dm = fake.calls("conversations.open")[0]
    assert "U42" in str(dm.params.get("users"))
    done = fake.calls("files.completeUploadExternal")
    import json
    assert len(done) == 1 and done[0].params["channel_id"] == "DU42"
    assert json.loads(done[0].params["files"])[0]["title"] == "华东 进展.csv"
    assert next(iter(fake.uploads.values())).startswith("\ufeff成员".encode())
