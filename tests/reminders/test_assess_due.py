""""Assessment due" DMs around the CN holidays, driven by a FixedClock that ticks the scheduler every
30 minutes (09:30 is on that grid) on two replicas at once, and drains the outbox after each tick.

CN calendar facts used below (chinese_calendar):
- 2026: Jan 1-3 are the New Year holiday and Sun Jan 4 is a make-up working day (调休): December's,
  Q4's and 2025's assessments are due that Sunday at 09:30.
- Oct 1-7 are the National Day holiday: September's and Q3's are due Thu Oct 8 09:30.
- Sun Nov 1: October's is due Mon Nov 2 09:30. Tue Dec 1 is a working day: November's on the day.
Monthly ones go to the sales managers, quarterly and annual ones to the performance admin; members
already confirmed are left out, and a month where everyone is confirmed sends nothing.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.core.clock import FixedClock
from reminders import outbox, schedule
from reminders.assess_jobs import KINDS
from storage.models import Assessment, Goal, OutboxMessage
from tests.kit.recording import RecordingSender
from tests.reminders.helpers import SHANGHAI, add_member, add_team, ledger_rows, local, set_pref

ASSESS_KINDS = {k: schedule.DEFAULT_KINDS[k] for k in KINDS.values()}
STEP = timedelta(minutes=30)
WINDOWS = [("2025-12-31", "2026-01-05"), ("2026-09-30", "2026-10-09"), ("2026-10-31", "2026-11-02"),
           ("2026-11-30", "2026-12-01")]


def _seed(session):
    team = add_team(session, created_at=datetime(2025, 6, 1, tzinfo=UTC))
    add_member(session, team, "UMGR", "manager", "王经理")
    add_member(session, team, "UMGR2", "manager", "Li Manager")
    add_member(session, team, "UHR", "performance_admin", "绩效小周")
    add_member(session, team, "UA", "rep", "Alice")
    add_member(session, team, "UB", "account_manager", "小白")
    add_member(session, team, "URES", "resource_admin", "资源老赵")
    set_pref(session, "UMGR2", lang="en")
    # UB's November is already confirmed: only UA is left for that month.
    session.add(Assessment(team_id=team.id, user_id="UB", period="2026-11", kind="month", computed=80.0, band="B",
                     confirmed_by="UMGR", confirmed_at=local("2026-11-30", "18:00")))
    # A recurring personal target, so UA's sheet has a score.
    session.add(Goal(team_id=team.id, metric_id=_metric(session, team, "customers"), user_id="UA", target=10, kind="month",
               recurring=True, created_by="UMGR", created_at=datetime(2025, 6, 1, tzinfo=UTC),
               updated_at=datetime(2025, 6, 1, tzinfo=UTC)))
    session.flush()
    return team


def _metric(session, team, code):
    from commands.core.metrics import seed_metrics, team_metrics

    if not team_metrics(session, team.id):
        seed_metrics(session, team.id)
        session.flush()
    return next(m.id for m in team_metrics(session, team.id) if m.code == code)


def _expected(team_id: int) -> dict[str, tuple[str, str]]:
    """dedupe_key -> (destination, local time it is queued at)."""
    exp = {}

    def due(period: str, users: tuple[str, ...], at: str):
        for u in users:
            exp[f"team:{team_id}:assessment_due:{period}:{u}"] = (f"user:{u}", at)

    due("2025-12", ("UMGR", "UMGR2"), "2026-01-04 09:30")  # the make-up Sunday
    due("2025-Q4", ("UHR",), "2026-01-04 09:30")
    due("2025", ("UHR",), "2026-01-04 09:30")
    due("2026-09", ("UMGR", "UMGR2"), "2026-10-08 09:30")  # after National Day
    due("2026-Q3", ("UHR",), "2026-10-08 09:30")
    due("2026-10", ("UMGR", "UMGR2"), "2026-11-02 09:30")  # Nov 1 is a Sunday
    due("2026-11", ("UMGR", "UMGR2"), "2026-12-01 09:30")
    return exp


def _simulate(uow, sender, clock, start, end):
    now = start
    while now <= end:
        clock.set(now)
        # Two replicas tick the same moment: each occurrence is claimed by one of them.
        for worker in ("w1", "w2"):
            report = schedule.tick(uow, now, worker_id=worker, kinds=ASSESS_KINDS)
            assert not report.errors
        for k in range(4):
            clock.set(now + timedelta(seconds=k))
            outbox.drain(uow, sender, clock, "w1")
        now += STEP


def test_assessment_due_on_the_first_working_day_once_across_replicas(uow):
    with uow() as u:
        team = _seed(u.session)
    clock = FixedClock(local(WINDOWS[0][0], "00:00"))
    sender = RecordingSender(clock)
    for first, last in WINDOWS:
        _simulate(uow, sender, clock, local(first, "00:00"), local(last, "23:30"))

    with uow() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        ledger = ledger_rows(u.session)
    actual = {m.dedupe_key: (m.destination, m.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
              for m in rows}
    assert actual == _expected(team.id)
    assert all(m.status == "sent" for m in rows)
    delivered = Counter(json.dumps([d.destination, d.payload], sort_keys=True) for d in sender.delivered)
    assert len(delivered) == len(rows) and set(delivered.values()) == {1}
    fired = Counter((r.kind, r.occurrence) for r in ledger if r.status == "fired")
    assert set(fired.values()) == {1}
    assert Counter(k for k, _ in fired) == {KINDS["month"]: 4, KINDS["quarter"]: 2, KINDS["year"]: 1}

    texts = {m.dedupe_key: _text(sender, m) for m in rows}
    nov = texts[f"team:{team.id}:assessment_due:2026-11:UMGR"]
    assert "考核待确认" in nov and "2026年11月" in nov and "<@UA>" in nov and "<@UB>" not in nov
    assert "/assess confirm 2026-11 <@UA>" in nov and "确认 Alice" in nov
    sep = texts[f"team:{team.id}:assessment_due:2026-09:UMGR2"]
    assert "Assessments to confirm" in sep and "September 2026" in sep and "Confirm Alice" in sep
    q3 = texts[f"team:{team.id}:assessment_due:2026-Q3:UHR"]
    assert "2026年第三季度" in q3 and "绩效管理部" in q3 and "<@UA>" in q3 and "<@UB>" in q3
    assert "/assess confirm 2026-Q3" in q3


def _text(sender: RecordingSender, m: OutboxMessage) -> str:
    payload = json.loads(m.payload)
    found = [d for d in sender.delivered if d.payload == payload and d.destination == m.destination]
    assert len(found) == 1, m.dedupe_key
    return found[0].text


def test_nothing_when_everyone_is_confirmed(uow):
    with uow() as u:
        team = _seed(u.session)
        u.session.add(Assessment(team_id=team.id, user_id="UA", period="2026-11", kind="month", computed=70.0,
                                 band="C", confirmed_by="UMGR", confirmed_at=local("2026-11-30", "18:00")))
    clock = FixedClock(local("2026-12-01", "09:00"))
    sender = RecordingSender(clock)
    _simulate(uow, sender, clock, local("2026-12-01", "09:00"), local("2026-12-01", "10:00"))
    with uow() as u:
        assert not list(u.session.scalars(select(OutboxMessage)))
        fired = [r for r in ledger_rows(u.session) if r.status == "fired"]
    assert [r.kind for r in fired] == [KINDS["month"]]
