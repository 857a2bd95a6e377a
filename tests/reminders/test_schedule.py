"""The tick: occurrences in the team's zone, DST, grace and skipped, atomic claim + messages,
schedule overrides, quiet hours, and the APScheduler wrapper."""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from commands.core.clock import FixedClock
from commands.core.reply import Outgoing, Reply
from reminders import jobs, ledger, schedule
from reminders.schedule import Kind, Scheduler, SchedulerConfig, ScheduleSpec
from storage.models import FireLedger, InboundReceipt, OutboxMessage
from tests.kit.recording import RecordingSender
from tests.reminders.helpers import (
    add_member,
    add_task,
    add_team,
    every,
    ledger_rows,
    local,
    outbox_rows,
    summary,
)

NY = ZoneInfo("America/New_York")

#: The task reminder jobs only: these tests count their messages.
REMINDER_KINDS = {k: schedule.DEFAULT_KINDS[k] for k in ("deadline_reminders", "overdue_nudges", "progress_nudges")}


def ping_job(session, run: jobs.JobRun) -> list[Outgoing]:
    stamp = run.slot.astimezone(run.tz).strftime("%Y-%m-%d %H:%M %Z")
    return [Outgoing(destination=f"channel:{run.team.channel_id}",
                     reply=Reply.text(f"ping {stamp}", private=False),
                     dedupe_key=f"ping:{run.team.id}:{run.slot.isoformat()}")]


def ping_kinds(rule="FREQ=DAILY", at="01:30", on_holiday="keep") -> dict[str, Kind]:
    return {"ping": Kind("ping", ping_job, ScheduleSpec(rule, at, on_holiday))}


def _ticks(uow, start, end, step=timedelta(minutes=5), **kw):
    for now in every(start, end, step):
        report = schedule.tick(uow, now, **kw)
        assert not report.errors, report.errors


@pytest.mark.parametrize("first,last,wall,expected_utc,expected_local", [
    # Fall back: 01:30 happens twice on Nov 1; it fires once, at the first (EDT, 05:30 UTC).
    ("2026-10-31", "2026-11-02", "01:30", ["2026-10-31T05:30", "2026-11-01T05:30", "2026-11-02T06:30"],
     ["2026-10-31 01:30 EDT", "2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]),
    # Spring forward: 02:30 does not exist on Mar 8; it fires once, shifted forward (03:30 EDT).
    ("2026-03-07", "2026-03-09", "02:30", ["2026-03-07T07:30", "2026-03-08T07:30", "2026-03-09T06:30"],
     ["2026-03-07 02:30 EST", "2026-03-08 03:30 EDT", "2026-03-09 02:30 EDT"]),
])
def test_dst_wall_clock_time_fires_once(uow, first, last, wall, expected_utc, expected_local):
    with uow() as u:
        add_team(u.session, tz="America/New_York", calendar="none", lang="en",
                 created_at=datetime(2026, 1, 1, tzinfo=UTC))
    start = local(first, "00:00", NY)
    end = local(last, "06:00", NY) + timedelta(hours=1)
    _ticks(uow, start, end, step=timedelta(minutes=10), quiet_hours=None, kinds=ping_kinds(at=wall))
    with uow() as u:
        rows = outbox_rows(u.session)
        fired = [r for r in ledger_rows(u.session) if r.status == "fired" and r.fire_at >= start]
    assert [r.created_at.strftime("%Y-%m-%dT%H:%M") for r in rows] == expected_utc
    assert [r.occurrence.strftime("%Y-%m-%dT%H:%M") for r in fired] == expected_utc
    assert [summary(r).removeprefix("ping ") for r in rows] == expected_local


def test_occurrences_move_off_holidays_and_keep_their_slot_as_key():
    cal = schedule.calendar_for("CN")
    tz = ZoneInfo("Asia/Shanghai")
    spec = ScheduleSpec("FREQ=WEEKLY;BYDAY=FR", "16:00", "move")
    occ = schedule.occurrences(spec, tz, cal, local("2026-09-28", "00:00"), local("2026-10-12", "00:00"))
    assert [(o.slot.astimezone(tz).strftime("%a %m-%d %H:%M"), o.fire_at.astimezone(tz).strftime("%a %m-%d"))
            for o in occ] == [("Fri 09-25 16:00", "Mon 09-28"),  # Mid-Autumn Festival
                      ("Fri 10-02 16:00", "Thu 10-08"),  # National Day
                      ("Fri 10-09 16:00", "Fri 10-09")]
    skip = ScheduleSpec("FREQ=DAILY", "09:00", "skip")
    days = [o.fire_at.astimezone(tz).strftime("%m-%d")
            for o in schedule.occurrences(skip, tz, cal, local("2026-10-05", "00:00"), local("2026-10-12", "23:00"))]
    assert days == ["10-08", "10-09", "10-10", "10-12"]


def test_missed_beyond_grace_is_skipped_within_grace_caught_up_once(uow):
    """The process was down over 09:00: back at 14:00 it catches up once; back at 16:00 (grace 6 h
    passed) it records the occurrence as skipped and never sends it."""
    with uow() as u:
        team = add_team(u.session)
        add_member(u.session, team, "U1")
        add_task(u.session, team, "U1", "A", local("2026-10-13", "18:00"))  # Tue
        add_task(u.session, team, "U1", "B", local("2026-10-14", "18:00"))  # Wed
    # Mon Oct 12 09:00 (before-reminder of A) missed; first tick at 14:00 -> caught up.
    r1 = schedule.tick(uow, local("2026-10-12", "14:00"), kinds=REMINDER_KINDS)
    assert r1.messages == 1
    assert all(slot < local("2026-10-12", "00:00") for _, _, slot in r1.skipped)  # Sat Oct 10 (调休)
    r1b = schedule.tick(uow, local("2026-10-12", "14:05"), kinds=REMINDER_KINDS)
    assert r1b.messages == 0 and not r1b.fired
    # Tue Oct 13 09:00 (due of A, before of B) missed; first tick at 15:01 -> beyond the grace.
    r2 = schedule.tick(uow, local("2026-10-13", "15:01"), kinds=REMINDER_KINDS)
    assert r2.messages == 0
    assert {(k, slot) for _, k, slot in r2.skipped} == {("deadline_reminders", local("2026-10-13", "09:00")),
                                                       ("overdue_nudges", local("2026-10-13", "09:00"))}
    r3 = schedule.tick(uow, local("2026-10-13", "15:06"), kinds=REMINDER_KINDS)
    assert not r3.fired and not r3.skipped
    with uow() as u:
        rows = outbox_rows(u.session)
        led = {(r.kind, r.occurrence.astimezone(schedule.ZoneInfo("Asia/Shanghai")).strftime("%m-%d"), r.status)
               for r in ledger_rows(u.session) if r.kind == "deadline_reminders"}
    assert [m.dedupe_key.split(":")[2:] for m in rows] == [["due-1", "2026-10-12"]]
    assert rows[0].created_at == local("2026-10-12", "14:00")
    assert ("deadline_reminders", "10-12", "fired") in led and ("deadline_reminders", "10-13", "skipped") in led


def test_a_crashing_job_leaves_nothing_and_is_retried(uow):
    """Claim and messages commit together: a job that queued a message and then crashed leaves
    neither the claim nor the message; the next tick claims it again and sends once."""
    calls = {"n": 0}

    def flaky(session, run):
        calls["n"] += 1
        out = ping_job(session, run)
        if calls["n"] == 1:
            # The engine enqueues after the job returns; make sure even a partial write rolls back.
            session.add(OutboxMessage(platform="slack", destination="channel:X", payload="{}",
                                      status="pending", not_before=run.now, created_at=run.now))
            session.flush()
            raise RuntimeError("boom")
        return out

    kinds = {"ping": Kind("ping", flaky, ScheduleSpec("FREQ=DAILY", "09:00", "keep"))}
    with uow() as u:
        add_team(u.session, calendar="none", created_at=local("2026-10-12", "00:00"))
    r1 = schedule.tick(uow, local("2026-10-12", "09:00"), kinds=kinds, quiet_hours=None)
    assert r1.errors and not r1.fired
    with uow() as u:
        assert outbox_rows(u.session) == [] and ledger_rows(u.session) == []
    r2 = schedule.tick(uow, local("2026-10-12", "09:05"), kinds=kinds, quiet_hours=None)
    assert not r2.errors and len(r2.fired) == 1 and r2.messages == 1
    r3 = schedule.tick(uow, local("2026-10-12", "09:10"), kinds=kinds, quiet_hours=None)
    assert not r3.fired
    with uow() as u:
        rows = outbox_rows(u.session)
        assert len(rows) == 1 and rows[0].destination == "channel:C1"


def test_claim_is_exactly_once_and_jobs_are_idempotent(uow):
    now = local("2026-10-12", "09:00")
    with uow() as u:
        team = add_team(u.session)
        add_member(u.session, team, "U1")
        add_task(u.session, team, "U1", "A", local("2026-10-12", "18:00"))
    with uow() as u:
        assert ledger.claim(u.session, team_id=team.id, kind="x", occurrence=now, fire_at=now,
                            worker_id="a", now=now)
        assert not ledger.claim(u.session, team_id=team.id, kind="x", occurrence=now, fire_at=now,
                                worker_id="b", now=now)
    with uow() as u:
        assert not ledger.record_skipped(u.session, team_id=team.id, kind="x", occurrence=now, fire_at=now,
                                         worker_id="c", now=now, reason="late")
        rows = u.session.scalars(select(FireLedger)).all()
        assert [(r.claimed_by, r.status) for r in rows] == [("a", "fired")]
    # A job run twice for the same day queues its messages once (dedupe keys).
    r1 = schedule.tick(uow, now, kinds=REMINDER_KINDS)
    with uow() as u:
        u.session.execute(FireLedger.__table__.delete())
    r2 = schedule.tick(uow, now + timedelta(minutes=1), kinds=REMINDER_KINDS)
    assert r1.messages == 1 and r2.messages == 0 and r2.duplicates == 1
    with uow() as u:
        assert len(outbox_rows(u.session)) == 1


def test_overrides_disable_and_move_a_schedule_without_double_posting(uow):
    with uow() as u:
        team = add_team(u.session, calendar="none")
        add_member(u.session, team, "U1")
    kinds = ping_kinds(at="09:00")
    _ticks(uow, local("2026-10-12", "08:00"), local("2026-10-12", "09:10"), kinds=kinds)
    # At 09:10 the manager moves it to 09:30: today's 09:30 must not post a second time.
    with uow() as u:
        schedule.set_schedule(u.session, team.id, "ping", by="UMGR", now=local("2026-10-12", "09:10"),
                              local_time="09:30", kinds=kinds)
    _ticks(uow, local("2026-10-12", "09:15"), local("2026-10-13", "10:00"), kinds=kinds)
    with uow() as u:
        times = [r.created_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
                 for r in outbox_rows(u.session)]
        assert times == ["10-12 09:00", "10-13 09:30"]
        schedule.set_schedule(u.session, team.id, "ping", by="UMGR", now=local("2026-10-13", "10:00"),
                              enabled=False, kinds=kinds)
    _ticks(uow, local("2026-10-14", "09:00"), local("2026-10-15", "10:00"), step=timedelta(minutes=30),
           kinds=kinds)
    with uow() as u:
        assert len(outbox_rows(u.session)) == 2
        with pytest.raises(ValueError):
            schedule.set_schedule(u.session, team.id, "ping", by="U", now=local("2026-10-13", "10:00"),
                                  local_time="9h", kinds=kinds)
        with pytest.raises(ValueError):
            schedule.set_schedule(u.session, team.id, "nope", by="U", now=local("2026-10-13", "10:00"))
        nxt = schedule.next_occurrence(u.session, team, "progress_nudges", local("2026-10-12", "00:00"))
        assert nxt is not None and nxt.fire_at == local("2026-10-16", "16:00")


def test_quiet_hours_hold_messages_until_morning(uow):
    with uow() as u:
        add_team(u.session, calendar="none")
    kinds = ping_kinds(at="22:30")
    schedule.tick(uow, local("2026-10-12", "22:30"), kinds=kinds)
    with uow() as u:
        row = outbox_rows(u.session)[0]
    assert row.created_at == local("2026-10-12", "22:30")
    assert row.not_before == local("2026-10-13", "08:00")


def test_a_team_with_a_broken_calendar_does_not_stop_the_others(uow):
    with uow() as u:
        add_team(u.session, channel="CBAD", calendar="XX")
        add_team(u.session, channel="CGOOD", calendar="none")
    report = schedule.tick(uow, local("2026-10-12", "09:00"), kinds=ping_kinds(at="09:00"))
    assert not report.errors and report.messages == 1
    with uow() as u:
        assert [r.destination for r in outbox_rows(u.session)] == ["channel:CGOOD"]


def test_no_occurrences_before_the_team_existed(uow):
    with uow() as u:
        add_team(u.session, calendar="none", created_at=local("2026-10-12", "10:00"))
    report = schedule.tick(uow, local("2026-10-12", "10:05"), kinds=ping_kinds(at="09:00"))
    assert not report.fired and not report.skipped


def test_scheduler_runs_tick_and_drain_on_apscheduler(uow):
    """start() ticks at once and then every tick_seconds, drains every drain_seconds; shutdown()
    stops it. (Events, not sleeps: the first run is immediate.)"""
    with uow() as u:
        add_team(u.session, calendar="none")
    clock = FixedClock(local("2026-10-12", "09:00"))
    sender = RecordingSender(clock)
    ticked, drained = threading.Event(), threading.Event()

    class Probe(Scheduler):
        def tick(self, now=None):
            report = super().tick(now)
            ticked.set()
            return report

        def drain(self):
            stats = super().drain()
            if stats.sent:
                drained.set()
            return stats

    s = Probe(uow, clock, sender=sender, worker_id="probe", kinds=ping_kinds(at="09:00"),
              config=SchedulerConfig(tick_seconds=3600, drain_seconds=0.05, quiet_hours=None))
    s.start()
    try:
        assert s.running
        assert ticked.wait(10)
        assert drained.wait(10)
    finally:
        s.shutdown()
    assert not s.running
    assert [d.destination for d in sender.delivered] == ["channel:C1"]


def test_housekeeping_prunes_old_sent_messages_ledger_rows_and_inbound_receipts(uow):
    with uow() as u:
        add_team(u.session, calendar="none", created_at=local("2026-06-02", "00:00"))
        for key, day in (("old", "2026-06-02"), ("recent", "2026-09-28")):
            u.session.add(InboundReceipt(platform="dingtalk", key=key, reply_json="{}",
                                         received_at=local(day, "09:00")))
    clock = FixedClock(local("2026-06-02", "09:00"))
    s = Scheduler(uow, clock, sender=RecordingSender(clock), kinds=ping_kinds(at="09:00"),
                  config=SchedulerConfig(quiet_hours=None))
    report, stats = s.run_pending()
    assert report.messages == 1 and stats.sent == 1
    assert s.housekeeping(local("2026-06-05", "00:00")) == (0, 0, 0)
    assert s.housekeeping(local("2026-06-20", "00:00")) == (0, 0, 1)  # receipts: kept 7 days
    assert s.housekeeping(local("2026-09-30", "00:00")) == (1, 1, 0)
    with uow() as u:
        assert outbox_rows(u.session) == [] and ledger_rows(u.session) == []
        assert [r.key for r in u.session.scalars(select(InboundReceipt))] == ["recent"]


def test_a_run_skipped_because_the_last_is_still_running_is_not_a_warning(caplog):
    aps = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.INFO):
        aps.warning('Execution of job "%s" skipped: maximum number of running instances reached (%d)',
                    "teambot.drain", 1)
        aps.warning("Scheduler started with something else to say")
    assert [r.getMessage() for r in caplog.records] == ["Scheduler started with something else to say"]
    with caplog.at_level(logging.DEBUG, logger="apscheduler.scheduler"):
        aps.warning('Execution of job "%s" skipped: maximum number of running instances reached (%d)',
                    "teambot.tick", 1)
    assert caplog.records[-1].levelname == "DEBUG" and "teambot.tick" in caplog.records[-1].getMessage()
