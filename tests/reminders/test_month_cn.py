"""A month of a Chinese team's reminders around National Day 2026, driven by a FixedClock that
ticks the scheduler every 30 minutes (every scheduled minute, 09:00 and 16:00, is on that grid) and
drains the outbox after each tick.

CN calendar facts used below (chinese_calendar): Fri Sep 25 is Mid-Autumn Festival; Oct 1-7 are the
National Day holiday; Sun Sep 20 and Sat Oct 10 are make-up working days (调休).
Working days from Sep 15 to Oct 19:
  Sep 15 16 17 18 | 20 (Sun, 调休) 21 22 23 24 | 28 29 30 | Oct 8 9 10 (Sat, 调休) | 12 13 14 15 16 | 19
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from commands.core.clock import FixedClock
from reminders import outbox, schedule
from reminders.outbox import OutboxConfig
from storage.models import OutboxMessage, Task
from tests.kit.recording import RecordingSender
from tests.reminders.helpers import (
    SHANGHAI,
    add_member,
    add_progress,
    add_task,
    add_team,
    ledger_rows,
    local,
    set_pref,
)

D = date.fromisoformat
WORKDAYS = [D(x) for x in (
    "2026-09-15", "2026-09-16", "2026-09-17", "2026-09-18", "2026-09-20", "2026-09-21", "2026-09-22",
    "2026-09-23", "2026-09-24", "2026-09-28", "2026-09-29", "2026-09-30", "2026-10-08", "2026-10-09",
    "2026-10-10", "2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15", "2026-10-16", "2026-10-19")]
START = local("2026-09-15", "00:00")
END = local("2026-10-19", "23:45")
STEP = timedelta(minutes=30)

#: This month tests the reminders; the summaries and agendas have their own tests.
REMINDER_KINDS = {k: schedule.DEFAULT_KINDS[k] for k in ("deadline_reminders", "overdue_nudges", "progress_nudges")}


def _days(first: str, last: str) -> list[date]:
    return [d for d in WORKDAYS if D(first) <= d <= D(last)]


def _seed(session):
    team = add_team(session)
    add_member(session, team, "UMGR", "manager", "王经理")
    add_member(session, team, "UMGR2", "manager", "Li Manager")
    add_member(session, team, "UA", "rep", "Alice")
    add_member(session, team, "UB", "account_manager", "小白")
    add_member(session, team, "UAWAY", "rep", "休假的人")
    set_pref(session, "UA", lang="en")
    set_pref(session, "UMGR2", lang="en")
    set_pref(session, "UAWAY", away_until=local("2026-10-14", "00:00"))
    t = {
        # due Mon Sep 21: its "one working day before" is the make-up Sunday Sep 20; done Sep 22 noon.
        "T7": add_task(session, team, "UB", "回访客户A", local("2026-09-21", "10:00")),
        # due Thu Sep 24, overdue across Mid-Autumn and National Day; done Oct 9 noon.
        "T1": add_task(session, team, "UA", "Send ACME proposal", local("2026-09-24", "18:00"), note="v2 pricing"),
        # the manager's own task: reminded to him, escalated only to the other manager.
        "T8": add_task(session, team, "UMGR", "季度复盘材料", local("2026-09-29", "18:00")),
        # due Sat Oct 3 (holiday): before-reminder Sep 30, due-reminder Oct 8, overdue from Oct 9.
        "T2": add_task(session, team, "UB", "签订年框合同", local("2026-10-03", "18:00")),
        # due Oct 9 for a member away until Oct 14: nothing to them before Oct 14.
        "T6": add_task(session, team, "UAWAY", "整理客户名单", local("2026-10-09", "18:00")),
        # due Mon Oct 12: before-reminder on the make-up Saturday Oct 10; done Oct 12 10:00.
        "T3": add_task(session, team, "UA", "Demo for Globex", local("2026-10-12", "18:00")),
        # snoozed until Oct 14 10:00: no before-reminder Oct 13, the due one Oct 14; done 15:00.
        "T4": add_task(session, team, "UB", "准备报价", local("2026-10-14", "18:00"),
                       snoozed_until=local("2026-10-14", "10:00")),
        "T5": add_task(session, team, "UB", "已取消的任务", local("2026-10-09", "18:00"), status="cancelled"),
        "T9": add_task(session, team, "UB", "已完成的任务", local("2026-10-12", "18:00"), status="done"),
    }
    for user, when in (("UA", "2026-09-16 10:00"), ("UMGR", "2026-09-17 10:00"), ("UMGR", "2026-09-28 10:00"),
                       ("UMGR", "2026-10-08 10:00"), ("UB", "2026-10-09 10:00"), ("UMGR", "2026-10-16 10:00")):
        d, hm = when.split()
        add_progress(session, team, user, local(d, hm))
    return team, {k: v.id for k, v in t.items()}


def _expected(team_id: int, ids: dict[str, int]) -> dict[str, tuple[str, str]]:
    """dedupe_key -> (destination, local 'YYYY-MM-DD HH:MM' it is queued at)."""
    exp: dict[str, tuple[str, str]] = {}

    def task(name: str, user: str, tag: str, days: list[date]):
        for d in days:
            exp[f"task:{ids[name]}:{tag}:{d}"] = (f"user:{user}", f"{d} 09:00")

    task("T7", "UB", "due-1", [D("2026-09-20")])
    task("T7", "UB", "due", [D("2026-09-21")])
    task("T7", "UB", "overdue", [D("2026-09-22")])
    task("T1", "UA", "due-1", [D("2026-09-23")])
    task("T1", "UA", "due", [D("2026-09-24")])
    task("T1", "UA", "overdue", _days("2026-09-28", "2026-10-09"))
    task("T8", "UMGR", "due-1", [D("2026-09-28")])
    task("T8", "UMGR", "due", [D("2026-09-29")])
    task("T8", "UMGR", "overdue", _days("2026-09-30", "2026-10-19"))
    task("T2", "UB", "due-1", [D("2026-09-30")])
    task("T2", "UB", "due", [D("2026-10-08")])
    task("T2", "UB", "overdue", _days("2026-10-09", "2026-10-19"))
    task("T6", "UAWAY", "overdue", _days("2026-10-14", "2026-10-19"))
    task("T3", "UA", "due-1", [D("2026-10-10")])
    task("T3", "UA", "due", [D("2026-10-12")])
    task("T4", "UB", "due", [D("2026-10-14")])
    # Manager digests from the 2nd overdue working day: T1 from Sep 29 (to Oct 9, done that noon),
    # T8 (UMGR's own, so only to UMGR2) from Oct 8, T2 from Oct 10, T6 from Oct 12.
    for mgr in ("UMGR", "UMGR2"):
        for d in _days("2026-09-29", "2026-10-19"):
            has_t1 = d <= D("2026-10-09")
            has_t8 = mgr == "UMGR2" and d >= D("2026-10-08")
            has_t2 = d >= D("2026-10-10")
            has_t6 = d >= D("2026-10-12")
            if has_t1 or has_t8 or has_t2 or has_t6:
                exp[f"team:{team_id}:overdue-mgr:{mgr}:{d}"] = (f"user:{mgr}", f"{d} 09:00")
    # Progress nudges: slot Friday 16:00 -> (fire day, who logged nothing that week, away excluded).
    for slot, fire, users in (
            ("2026-09-18", "2026-09-18", ("UB", "UMGR2")),
            ("2026-09-25", "2026-09-28", ("UA", "UB", "UMGR2")),  # Mid-Autumn -> Monday
            ("2026-10-02", "2026-10-08", ("UA", "UB", "UMGR2")),  # National Day -> Thursday
            ("2026-10-09", "2026-10-09", ("UA", "UMGR2")),
            ("2026-10-16", "2026-10-16", ("UA", "UAWAY", "UB", "UMGR2"))):
        for u in users:
            exp[f"progress:{team_id}:{u}:{slot}"] = (f"user:{u}", f"{fire} 16:00")
    return exp


def test_a_month_around_national_day(uow):
    with uow() as u:
        team, ids = _seed(u.session)
    mutations = [
        (local("2026-09-22", "12:00"), "T7"),
        (local("2026-10-09", "12:00"), "T1"),
        (local("2026-10-12", "10:00"), "T3"),
        (local("2026-10-14", "15:00"), "T4"),
    ]
    clock = FixedClock(START)
    sender = RecordingSender(clock)
    delivered: list[tuple[int, str]] = []  # (outbox id, local time) per accepted send
    config = OutboxConfig()  # pacing on: 1 message/s per DM channel

    def on_result(msg, result):
        if result.ok:
            delivered.append((msg.id, clock.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")))

    now = START
    while now <= END:
        while mutations and mutations[0][0] <= now:
            _, name = mutations.pop(0)
            with uow() as u:
                task = u.session.get(Task, ids[name])
                task.status, task.done_at, task.updated_at = "done", now, now
                u.session.add(task)
        clock.set(now)
        report = schedule.tick(uow, now, worker_id="w1", kinds=REMINDER_KINDS)
        assert not report.errors
        # Deliver what is due; paced messages to one person go one second apart.
        for k in range(12 if report.messages else 1):
            clock.set(now + timedelta(seconds=k))
            outbox.drain(uow, sender, clock, "w1", config=config, on_result=on_result)
        now += STEP

    expected = _expected(team.id, ids)
    with uow() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        ledger = ledger_rows(u.session)
    actual = {m.dedupe_key: (m.destination, m.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
              for m in rows}
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing, f"not sent: {missing}"
    assert not extra, f"unexpected: {extra}"
    assert actual == expected  # right person, right working day, right local time

    # Every message delivered exactly once, within seconds of being queued, none left behind.
    assert all(m.status == "sent" for m in rows)
    counts = Counter(i for i, _ in delivered)
    assert set(counts) == {m.id for m in rows} and set(counts.values()) == {1}
    queued_at = {m.id: actual[m.dedupe_key][1] for m in rows}
    for i, at in delivered:
        assert at.startswith(queued_at[i]), (i, at, queued_at[i])
        assert int(at[-2:]) < 12

    # Nothing on a non-working day; nothing to the away member before Oct 14.
    assert {D(v[1][:10]) for v in actual.values()} <= set(WORKDAYS)
    assert all(D(v[1][:10]) >= D("2026-10-14") for v in actual.values() if v[0] == "user:UAWAY")
    # Done/cancelled tasks: nothing about T5 and T9 at all, nothing after completion for the others.
    assert not [k for k in actual if k.startswith((f"task:{ids['T5']}:", f"task:{ids['T9']}:"))]

    # Each occurrence fired once; occurrences before the simulation start were recorded as skipped.
    keys = Counter((r.team_id, r.kind, r.occurrence) for r in ledger)
    assert set(keys.values()) == {1}
    fired = [r for r in ledger if r.status == "fired"]
    skipped = [r for r in ledger if r.status == "skipped"]
    assert all(r.fire_at >= START for r in fired)
    assert skipped and all(r.fire_at < START for r in skipped)
    assert Counter(r.kind for r in fired) == {"deadline_reminders": 21, "overdue_nudges": 21,
                                              "progress_nudges": 5}

    # Language and content: UA reads English, UB Chinese; the holiday deadline is explained.
    by_key = {m.dedupe_key: m for m in rows}
    t1_due = sender_text(sender, by_key, f"task:{ids['T1']}:due-1:2026-09-23")
    assert "Due" in t1_due and "Send ACME proposal" in t1_due and "v2 pricing" in t1_due
    assert "/task done" in t1_due and "/task snooze" in t1_due
    t2_due = sender_text(sender, by_key, f"task:{ids['T2']}:due:2026-10-08")
    assert "假期" in t2_due and "签订年框合同" in t2_due
    digest = sender_text(sender, by_key, f"team:{team.id}:overdue-mgr:UMGR2:2026-10-12")
    assert "Send ACME proposal" not in digest  # done on Oct 9
    assert all(x in digest for x in ("季度复盘材料", "签订年框合同", "整理客户名单"))
    digest_own = sender_text(sender, by_key, f"team:{team.id}:overdue-mgr:UMGR:2026-10-12")
    assert "季度复盘材料" not in digest_own  # his own task is not escalated to himself


def sender_text(sender: RecordingSender, by_key: dict, key: str) -> str:
    import json

    payload = json.loads(by_key[key].payload)
    texts = [d.text for d in sender.delivered if d.payload == payload and d.destination == by_key[key].destination]
    assert len(texts) == 1, key
    return texts[0]
