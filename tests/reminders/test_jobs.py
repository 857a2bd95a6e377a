"""The reminder jobs called directly for one occurrence."""
from __future__ import annotations

from commands.core.reply import Actions, Fields, Table
from reminders import jobs
from reminders.jobs import JobRun
from commands.core.workdays import calendar_for
from tests.reminders.helpers import add_member, add_progress, add_task, add_team, local, set_pref


def _run(team, kind, slot, fire_at=None):
    return JobRun(team=team, kind=kind, slot=slot, fire_at=fire_at or slot, now=fire_at or slot,
                  calendar=calendar_for(team.calendar))


def test_deadline_reminder_content_buttons_and_recipient_language_and_zone(uow):
    with uow() as u:
        session = u.session
        team = add_team(session)
        add_member(session, team, "U1")
        add_member(session, team, "U2")
        set_pref(session, "U2", lang="en", tz="America/New_York")
        t1 = add_task(session, team, "U1", "签合同", local("2026-10-13", "18:00"), note="带公章")
        add_task(session, team, "U2", "Call Globex", local("2026-10-13", "18:00"))
        out = jobs.deadline_reminders(session, _run(team, "deadline_reminders", local("2026-10-12", "09:00")))
    by_user = {m.destination: m for m in out}
    zh = by_user["user:U1"]
    assert zh.dedupe_key == f"task:{t1.id}:due-1:2026-10-12"
    assert "截止" in zh.reply.plain() and "带公章" in zh.reply.plain()
    fields = next(p for p in zh.reply.parts if isinstance(p, Fields))
    assert ("截止", "2026-10-13 周二 18:00 Asia/Shanghai") in fields.pairs
    buttons = next(p for p in zh.reply.parts if isinstance(p, Actions)).buttons
    assert [(b.action_id, b.value, b.command) for b in buttons] == [
        ("tasks.done", str(t1.id), f"/task done {t1.id}"), ("tasks.snooze", str(t1.id), f"/task snooze {t1.id}")]
    en = by_user["user:U2"]
    assert en.reply.summary.startswith("⏰ Due Tue 2026-10-13 06:00 America/New_York")
    assert "Snooze 1 day" in en.reply.plain()
    assert not zh.reply.private and not en.reply.private


def test_escalation_skips_away_managers_and_lists_tasks_by_due(uow):
    with uow() as u:
        session = u.session
        team = add_team(session)
        add_member(session, team, "M1", "manager")
        add_member(session, team, "M2", "manager")
        add_member(session, team, "U1")
        set_pref(session, "M2", away_until=local("2026-10-20", "00:00"))
        add_task(session, team, "U1", "later one", local("2026-09-29", "18:00"))
        add_task(session, team, "U1", "older one", local("2026-09-28", "18:00"))
        add_task(session, team, "U1", "only 1 day", local("2026-10-08", "18:00"))
        out = jobs.overdue_nudges(session, _run(team, "overdue_nudges", local("2026-10-09", "09:00")))
    to_mgr = [m for m in out if m.destination.startswith("user:M")]
    assert [m.destination for m in to_mgr] == ["user:M1"]
    table = next(p for p in to_mgr[0].reply.parts if isinstance(p, Table))
    assert [r[1] for r in table.rows] == ["older one", "later one"]
    # Working days after the due date up to Oct 9: Sep 29, 30, Oct 8, 9 | Sep 30, Oct 8, 9.
    assert [r[4] for r in table.rows] == ["4", "3"]
    assert len([m for m in out if m.destination == "user:U1"]) == 3


def test_progress_nudge_counts_only_this_week(uow):
    with uow() as u:
        session = u.session
        team = add_team(session)
        for user in ("U1", "U2", "U3"):
            add_member(session, team, user)
        add_progress(session, team, "U1", local("2026-10-12", "08:00"))  # Monday of the week: counts
        add_progress(session, team, "U2", local("2026-10-11", "23:00"))  # Sunday before: does not
        out = jobs.progress_nudges(session, _run(team, "progress_nudges", local("2026-10-16", "16:00")))
    assert sorted(m.destination for m in out) == ["user:U2", "user:U3"]
    assert all(m.dedupe_key.endswith(":2026-10-16") for m in out)
    assert "2026-10-12" in out[0].reply.plain()
