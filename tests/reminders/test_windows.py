"""Delivery windows: a message is delivered within its window or kept as expired with the reason,
never sent late with stale text; multi-step sends never post their text twice across restarts;
quiet hours follow the recipient's own time zone."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import Settings
from bot.outbox_cli import outbox_command
from bot.slack.sender import SlackSender
from commands.core.clock import FixedClock
from commands.core.reply import Image, Reply, Text, reply_to_dict
from commands.core.workdays import calendar_for
from reminders import outbox, schedule
from reminders.outbox import OutboxConfig, SendResult
from reminders.schedule import Scheduler, SchedulerConfig
from storage.models import OutboxMessage
from tests.kit.dialog import Chat
from tests.kit.fake_slack import FakeSlack
from tests.kit.recording import RecordingSender
from tests.reminders.helpers import add_member, add_task, add_team, local, outbox_rows, set_pref, summary

REMINDERS = {k: schedule.DEFAULT_KINDS[k] for k in ("deadline_reminders", "overdue_nudges")}


def _due_for(days_overdue: int, on: date) -> date:
    """A due date that is `days_overdue` working days overdue on `on` (CN calendar)."""
    cal = calendar_for("CN")
    d = on
    while cal.workdays_between(cal.next_workday(d), on) < days_overdue:
        d -= timedelta(days=1)
    return d


def test_reminders_for_a_day_gone_by_expire_and_only_the_fresh_ones_go_out(db_url, uow):
    """Stopped on Thu 31 Dec just after 09:00 with four overdue DMs queued; back on Mon 4 Jan (New
    Year and a weekend between): the four "61 days" DMs are kept as expired, with the reason, and
    only the fresh "62 days" ones are delivered."""
    thursday = date(2020, 12, 31)
    due = _due_for(61, thursday)
    with uow() as u:
        team = add_team(u.session, created_at=local("2020-06-01", "00:00"))
        for user in ("li", "amy", "chen", "zhao"):
            add_member(u.session, team, user)
            add_task(u.session, team, user, f"回访 {user}", local(due, "18:00"))
    report = schedule.tick(uow, local(thursday, "09:00"), kinds=REMINDERS)
    assert report.messages == 4
    with uow() as u:
        stale_ids = [m.id for m in outbox_rows(u.session)]
        assert all("61" in summary(m) for m in outbox_rows(u.session))
    # ... and the bot stops before the drain. Monday 09:00 it is back.
    monday = local("2021-01-04", "09:00")
    clock = FixedClock(monday)
    sender = RecordingSender(clock)
    s = Scheduler(uow, clock, sender=sender, kinds=REMINDERS, worker_id="back")
    _, stats = s.run_pending()
    assert stats.expired == 4 and stats.sent == 4
    assert sorted(d.destination for d in sender.delivered) == ["user:amy", "user:chen", "user:li", "user:zhao"]
    assert all("62" in d.summary and "61" not in d.summary for d in sender.delivered)
    with uow() as u:
        rows = {m.id: m for m in outbox_rows(u.session)}
    for mid in stale_ids:
        row = rows[mid]
        assert row.status == "expired" and row.sent_at is None
        assert row.last_error.startswith("expired: due 2020-12-31 01:00 UTC, stale after 2020-12-31 07:00 UTC")
    out = io.StringIO()
    assert outbox_command(["--expired"], Settings(database_url=db_url), out=out) == 0
    text = out.getvalue()
    assert text.count("expired: due 2020-12-31 01:00 UTC") == 4 and "user:li" in text
    assert "totals: expired 4, sent 4" in text
    # Nothing is lost: the operator may still send one, knowing it is late.
    assert outbox_command(["retry", str(stale_ids[0])], Settings(database_url=db_url), out=io.StringIO()) == 0
    clock.set(datetime.now(monday.tzinfo) + timedelta(seconds=5))  # the CLI queues it for the wall clock
    assert s.drain().sent == 1
    assert "61" in sender.delivered[-1].summary


def test_a_catch_up_within_the_grace_still_delivers(uow):
    with uow() as u:
        team = add_team(u.session, created_at=local("2026-10-01", "00:00"))
        add_member(u.session, team, "li")
        add_task(u.session, team, "li", "报价", local("2026-10-13", "18:00"))
    clock = FixedClock(local("2026-10-12", "14:30"))  # down from 08:55 to 14:30: within the 6 h grace
    sender = RecordingSender(clock)
    report, stats = Scheduler(uow, clock, sender=sender, kinds=REMINDERS).run_pending()
    assert report.messages == 1 and stats.sent == 1 and stats.expired == 0
    with uow() as u:
        (row,) = outbox_rows(u.session)
    assert row.due_at == local("2026-10-12", "09:00") and row.expires_at == local("2026-10-12", "15:00")


def test_a_message_in_backoff_past_its_window_expires_and_no_longer_blocks(uow):
    t0 = local("2026-10-12", "09:00")
    with uow() as u:
        outbox.enqueue(u.session, platform="slack", destination="user:li", now=t0,
                       payload=reply_to_dict(Reply.text("今天到期", private=False)),
                       due_at=t0, expires_at=t0 + timedelta(hours=6))
        outbox.enqueue(u.session, platform="slack", destination="user:li", now=t0,
                       payload=reply_to_dict(Reply.text("没有期限", private=False)))
    clock = FixedClock(t0)
    sender = RecordingSender(clock)
    sender.fail_always("user:li", SendResult.transient("HTTP 503"))
    config = OutboxConfig(backoff_base_seconds=3600, backoff_cap_seconds=4 * 3600)
    outbox.drain(uow, sender, clock, "w1", config=config)
    clock.set(t0 + timedelta(hours=6, seconds=1))  # its retry is not due yet, but it is stale
    sender._always.clear()
    stats = outbox.drain(uow, sender, clock, "w1", config=config)
    assert stats.expired == 1 and [d.summary for d in sender.delivered] == ["没有期限"]
    with uow() as u:
        first = outbox_rows(u.session)[0]
    assert first.status == "expired" and "before that: HTTP 503" in first.last_error


def test_quiet_hours_follow_the_recipients_own_time_zone(uow):
    """09:00 in Shanghai is 02:00 in Berlin (quiet until 08:00 there, 15:00 in Shanghai) and 20:00
    the evening before in New York (not quiet yet); the team channel keeps the team's zone."""
    with uow() as u:
        team = add_team(u.session, created_at=local("2026-11-01", "00:00"))
        for user, tz in (("li", None), ("hans", "Europe/Berlin"), ("amy", "America/New_York")):
            add_member(u.session, team, user)
            if tz:
                set_pref(u.session, user, tz=tz)
            add_task(u.session, team, user, f"报价 {user}", local("2026-11-25", "18:00"))
    nine = local("2026-11-24", "09:00")
    clock = FixedClock(nine)
    sender = RecordingSender(clock)
    s = Scheduler(uow, clock, sender=sender, kinds=REMINDERS)
    s.run_pending()
    with uow() as u:
        rows = {m.destination: m for m in outbox_rows(u.session)}
    berlin_eight = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert rows["user:hans"].not_before == berlin_eight
    assert rows["user:hans"].due_at == berlin_eight and rows["user:hans"].expires_at == berlin_eight + timedelta(hours=6)
    assert rows["user:li"].not_before == nine and rows["user:amy"].not_before == nine
    assert sorted(d.destination for d in sender.delivered) == ["user:amy", "user:li"]
    clock.set(berlin_eight)
    assert s.drain().sent == 1 and sender.delivered[-1].destination == "user:hans"


def test_an_agenda_expires_when_its_meeting_is_over(uow):
    kinds = {"weekly_agenda": schedule.DEFAULT_KINDS["weekly_agenda"]}
    with uow() as u:
        team = add_team(u.session, created_at=local("2026-11-01", "00:00"))
        add_member(u.session, team, "wang", role="manager")
    monday = local("2026-11-23", "09:00")
    schedule.tick(uow, monday, kinds=kinds)
    with uow() as u:
        (row,) = outbox_rows(u.session)
    # The default meeting: Monday 09:30 for 60 minutes; the grace would allow until 15:00.
    assert row.expires_at == local("2026-11-23", "10:30")
    clock = FixedClock(local("2026-11-23", "10:31"))
    assert outbox.drain(uow, RecordingSender(clock), clock, "w1").expired == 1


def test_a_command_notice_carries_its_window(uow, clock):
    chat = Chat(uow, clock)
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep")]:
        assert chat.say(user, text).ok
    assert chat.say("wang", "/task 新建 @li 拜访ACME 截止 下周五").ok
    with uow() as u:
        (row,) = outbox_rows(u.session)
    assert row.due_at == clock.now() and row.expires_at == clock.now() + timedelta(hours=24)


def _chart_payload(tmp_path) -> dict:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    return reply_to_dict(Reply(parts=(Text("十一月 KPI 汇总"), Image(str(chart), "chart")), private=False,
                               summary="十一月 KPI 汇总"))


def test_a_summary_whose_chart_upload_keeps_failing_is_posted_once_across_restarts(db_url, uow, tmp_path):
    """Five tries, each by a freshly started bot (a new sender: nothing in memory), the chart upload
    failing every time but the last: the text goes out once, the chart once."""
    t0 = local("2026-11-24", "17:00")
    with uow() as u:
        outbox.enqueue(u.session, platform="slack", destination="channel:C1", now=t0,
                       payload=_chart_payload(tmp_path))
    clock = FixedClock(t0)
    config = OutboxConfig(backoff_base_seconds=1, backoff_cap_seconds=1)
    with FakeSlack() as fake:
        fake.fail("files.completeUploadExternal", status=500, times=4)
        for attempt in range(5):
            stats = outbox.drain(uow, SlackSender("xoxb-test", base_url=fake.url), clock, f"boot-{attempt}",
                                 config=config)
            assert stats.claimed == 1
            clock.advance(seconds=2)
        assert len(fake.calls("chat.postMessage")) == 1
        assert len(fake.calls("files.completeUploadExternal")) == 5
    with uow() as u:
        (row,) = outbox_rows(u.session)
    assert row.status == "sent" and json.loads(row.steps) == ["text", f"file:{tmp_path / 'chart.png'}"]


def test_a_sender_killed_after_the_text_does_not_post_it_again(db_url, uow, tmp_path):
    t0 = local("2026-11-24", "17:00")
    with uow() as u:
        outbox.enqueue(u.session, platform="slack", destination="channel:C1", now=t0,
                       payload=_chart_payload(tmp_path))
    clock = FixedClock(t0)
    with FakeSlack() as fake:
        class Killed(BaseException):
            """The process dies mid-send: nothing after this line runs, nothing is recorded."""

        doomed = SlackSender("xoxb-test", base_url=fake.url)
        doomed.client.files_upload_v2 = lambda **kw: (_ for _ in ()).throw(Killed())
        (msg,) = outbox.claim(uow, clock, "doomed", lease_seconds=30)
        try:
            outbox.send_one(uow, doomed, "doomed", msg)
        except Killed:
            pass
        clock.advance(seconds=31)  # its lease runs out; a restarted bot takes over
        assert outbox.drain(uow, SlackSender("xoxb-test", base_url=fake.url), clock, "rescuer").sent == 1
        assert len(fake.calls("chat.postMessage")) == 1
        assert len(fake.calls("files.completeUploadExternal")) == 1


def test_windows_and_steps_survive_the_migration_down_and_up(db_url):
    from alembic import command
    from sqlalchemy import text as sql

    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(db_url)
    t0 = local("2026-11-24", "09:00")
    with engine.begin() as c:
        c.execute(OutboxMessage.__table__.insert().values(
            platform="slack", destination="user:li", payload="{}", status="expired", attempts=0,
            not_before=t0, created_at=t0, due_at=t0, expires_at=t0, last_error="expired: ...", steps='["text"]'))
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with engine.connect() as c:
        assert c.execute(sql("SELECT status FROM outbox_message")).scalar_one() == "dead"
    migrate.upgrade(engine)
    with engine.connect() as c:
        row = c.execute(select(OutboxMessage.status, OutboxMessage.expires_at, OutboxMessage.steps)).one()
    assert row == ("dead", None, None)
    engine.dispose()


def test_a_private_answer_queued_for_a_dingtalk_group_message_carries_the_reply_window(uow, clock):
    from bot.dingtalk.api import DingTalkApi
    from bot.dingtalk.inbound import DingTalkBot, Inbound
    from commands.core.dispatch import Dispatcher
    from storage.outbox_store import DeliveryWindows

    bot = DingTalkBot(Dispatcher(uow, clock, windows=DeliveryWindows(reply=timedelta(minutes=30))), clock,
                      DingTalkApi("key", "secret"))
    inb = Inbound(msg_id="m1", user_id="li", name="李", conversation_id="cid1", group=True, text="/progress")
    bot.route(inb, Reply.text("只有你能看到", private=True))
    with uow() as u:
        (row,) = outbox_rows(u.session)
    assert row.destination == "user:li"
    assert row.due_at == clock.now() and row.expires_at == clock.now() + timedelta(minutes=30)
