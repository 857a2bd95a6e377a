"""One text for many people in one call: the Friday nudge through the real DingTalk and WeCom senders,
over HTTP to their fakes, batched by the outbox (DingTalk's robot: 20 people a call; WeCom app
messages: 1,000), each person's outcome recorded on its own."""
from __future__ import annotations

from datetime import UTC, datetime

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.sender import DingTalkSender
from bot.wecom.api import WeComApi
from bot.wecom.sender import WeComSender
from commands.core.clock import FixedClock
from commands.core.reply import Reply, reply_to_dict
from reminders import outbox
from reminders.outbox import OutboxConfig
from storage.db import make_engine
from storage.outbox_store import Message, enqueue_many
from storage.uow import uow_factory
from tests.kit.fake_dingtalk import FakeDingTalk
from tests.kit.fake_wecom import FakeWeCom

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
NUDGE = "📝 11月23日 以来你还没有记录进展。花一分钟记一下吧"
CONFIG = OutboxConfig(pacing=False, concurrency=4)


def _queue(url: str, platform: str, users: list[str], extra: list[tuple[str, str]] = ()):
    engine = make_engine(url)
    with uow_factory(engine)() as u:
        enqueue_many(u.session, [Message(platform, f"user:{x}", reply_to_dict(Reply.text(NUDGE, private=False)))
                                 for x in users]
                     + [Message(platform, d, reply_to_dict(Reply.text(t, private=False))) for d, t in extra], now=T0)
    return engine


def _rows(engine) -> list[tuple[str, str, str | None]]:
    with uow_factory(engine)() as u:
        return [(m.destination, m.status, m.last_error) for m in outbox.list_messages(u.session, limit=1000)]


def test_the_friday_nudge_goes_to_twenty_people_a_call_on_dingtalk(sqlite_url):
    users = [f"staff{i:02d}" for i in range(45)]
    engine = _queue(sqlite_url, "dingtalk", users)
    with FakeDingTalk() as fake:
        fake.script("robot.oToMessages", body={"processQueryKey": "pq", "invalidStaffIdList": ["staff07"],
                                               "flowControlledStaffIdList": ["staff08"]}, times=None)
        sender = DingTalkSender(DingTalkApi("ding-app", "ding-secret", api_url=fake.url))
        clock = FixedClock(T0)
        stats = outbox.drain(uow_factory(engine), sender, clock, "w1", config=CONFIG)
        calls = fake.calls("robot.oToMessages")
        assert sorted(len(c.json["userIds"]) for c in calls) == [5, 20, 20]
        assert sorted(u for c in calls for u in c.json["userIds"]) == users
        assert all("记录进展" in c.json["msgParam"] for c in calls)
    assert stats.batched_calls == 3 and stats.sent == 43
    got = {d: (s, e) for d, s, e in _rows(engine)}
    assert got["user:staff07"] == ("dead", "invalid staff id: staff07")
    assert got["user:staff08"][0] == "pending" and "flow controlled" in got["user:staff08"][1]  # later, on its own
    assert sum(s == "sent" for s, _ in got.values()) == 43
    engine.dispose()


def test_the_friday_nudge_goes_to_everyone_in_one_call_on_wecom(sqlite_url):
    users = [f"Rep{i:02d}" for i in range(45)]
    engine = _queue(sqlite_url, "wecom", users, extra=[("user:Rep03", "另一条"), ("channel:chat1", NUDGE)])
    with FakeWeCom(corp_id="wwcorp", secret="s3cret") as fake:
        # WeCom names the members it could not reach in lower case.
        fake.script("message.send", body={"errcode": 0, "errmsg": "ok", "invaliduser": "rep11"})
        sender = WeComSender(WeComApi("wwcorp", "s3cret", "1000002", api_url=fake.url))
        stats = outbox.drain(uow_factory(engine), sender, FixedClock(T0), "w1", config=CONFIG)
        sends = fake.calls("message.send")
    batches = [c for c in sends if "|" in c.json["touser"]]
    assert len(batches) == 1 and sorted(batches[0].json["touser"].split("|")) == users
    assert [c.json["touser"] for c in sends if "|" not in c.json["touser"]] == ["Rep03"]  # its own, after
    assert stats.batched_calls == 1
    rows = _rows(engine)
    assert ("user:Rep11", "dead", "invaliduser: Rep11") in rows
    assert sum(s == "sent" for d, s, _ in rows if d.startswith("user:")) == 45  # 44 nudges + Rep03's own
    engine.dispose()
