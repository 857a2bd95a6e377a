"""The approval nudge: 09:00 team time on working days, a DM to whoever must act on a resource request
that has waited more than two working days in one state; once per request, approver and day.

Requests are made through the real /resource command (console users, a FixedClock); the scheduler's
tick() runs the job with the kind this module registers."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from commands.core.clock import FixedClock
from reminders import resource_jobs, schedule
from reminders.jobs import JobRun
from commands.core.workdays import calendar_for
from storage.models import FireLedger, OutboxMessage, Team
from tests.kit.dialog import Chat
from tests.reminders.helpers import local

KINDS = {resource_jobs.KIND: schedule.DEFAULT_KINDS[resource_jobs.KIND]}


def _team(uow, clock) -> Chat:
    chat = Chat(uow, clock)
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"),
                       ("wang", "/team add @ken manager"), ("wang", "/team add @zhao resource_admin"),
                       ("wang", "/team add @amy resource_admin"), ("ken", "/teambot lang en")]:
        assert chat.say(user, text).ok, text
    return chat


def _tick(uow, now):
    report = schedule.tick(uow, now, kinds=KINDS, quiet_hours=None)
    assert not report.errors, report.errors
    return report


def _nudges(uow) -> list[tuple[str, str, dict]]:
    with uow() as u:
        return [(m.destination, m.dedupe_key, json.loads(m.payload))
                for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if ":nudge:" in (m.dedupe_key or "")]


def _text(payload: dict) -> str:
    return "\n".join(p["text"] for p in payload["parts"] if p["type"] == "Text")


def _buttons(payload: dict) -> list[str]:
    return [b["command"] for p in payload["parts"] if p["type"] == "Actions" for b in p["buttons"]]


def _days(uow) -> list[str]:
    return sorted({k.split(":")[3] for _, k, _ in _nudges(uow)})


def test_kind_is_daily_at_nine_on_working_days_only():
    spec = KINDS[resource_jobs.KIND].default
    assert (spec.rule, spec.local_time, spec.on_holiday) == ("FREQ=DAILY", "09:00", "skip")


def test_nudged_after_two_working_days_once_a_day_in_each_approvers_language(uow):
    clock = FixedClock(local("2026-11-23", "10:00"))  # Monday
    chat = _team(uow, clock)
    assert chat.say("li", "/resource 申请 人力 2 用于 华南展会 截止 12月10日").ok
    for day in ("2026-11-24", "2026-11-25"):  # Tue (1), Wed (2): not yet
        _tick(uow, local(day, "09:00"))
    assert _nudges(uow) == []
    _tick(uow, local("2026-11-26", "09:00"))  # Thu (3)
    nudges = _nudges(uow)
    assert [(d, k) for d, k, _ in nudges] == [("user:ken", "resource:1:nudge:2026-11-26:ken"),
                                             ("user:wang", "resource:1:nudge:2026-11-26:wang")]
    ken, wang = nudges[0][2], nudges[1][2]
    assert "Resource request #1 (<@li>: 2 people) has waited 3 working days for your approval" in _text(ken)
    assert "资源申请 #1（<@li>：人力 2 人）已经等你批准 3 个工作日了" in _text(wang)
    assert _buttons(wang) == ["/resource approve 1", "/resource reject 1 "]
    # Once per day: later ticks, and the job run again for the same day, add nothing.
    _tick(uow, local("2026-11-26", "09:05"))
    _tick(uow, local("2026-11-26", "17:00"))
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        again = resource_jobs.approval_nudges(u.session, JobRun(
            team=team, kind=resource_jobs.KIND, slot=local("2026-11-26", "09:00"),
            fire_at=local("2026-11-26", "09:00"), now=local("2026-11-26", "09:00"),
            calendar=calendar_for("CN")))
    assert {m.dedupe_key for m in again} == {k for _, k, _ in nudges}  # the same keys: the outbox keeps one
    assert len(_nudges(uow)) == 2
    # Fri again; nothing on the weekend; Mon again.
    for day in ("2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"):
        _tick(uow, local(day, "09:00"))
    assert _days(uow) == ["2026-11-26", "2026-11-27", "2026-11-30"]


def test_each_stage_nudges_its_own_approvers_counting_from_the_step(uow):
    clock = FixedClock(local("2026-11-23", "10:00"))
    chat = _team(uow, clock)
    assert chat.say("li", "/resource 申请 人力 2 用于 华南展会").ok
    _tick(uow, local("2026-11-26", "09:00"))
    clock.set(local("2026-11-26", "10:00"))
    assert chat.say("wang", "/resource 批准 1").ok  # Thu: now waits for the resource admins
    seen = len(_nudges(uow))
    for day in ("2026-11-27", "2026-11-30"):  # Fri (1), Mon (2)
        _tick(uow, local(day, "09:00"))
    assert len(_nudges(uow)) == seen
    _tick(uow, local("2026-12-01", "09:00"))  # Tue (3)
    new = _nudges(uow)[seen:]
    assert [d for d, _, _ in new] == ["user:amy", "user:zhao"]
    assert "已经等资源管理部审核 3 个工作日了" in _text(new[1][2])
    assert _buttons(new[1][2]) == ["/resource approve 1", "/resource reject 1 "]
    clock.set(local("2026-12-01", "10:00"))
    assert chat.say("zhao", "/resource 审核通过 1").ok
    for day in ("2026-12-02", "2026-12-03", "2026-12-04"):
        _tick(uow, local(day, "09:00"))
    last = _nudges(uow)[-2:]
    assert [k for _, k, _ in last] == ["resource:1:nudge:2026-12-04:amy", "resource:1:nudge:2026-12-04:zhao"]
    assert _buttons(last[1][2]) == ["/resource allocate 1"] and "还在等分配" in _text(last[1][2])
    # Allocated, closed, rejected or cancelled requests are never nudged.
    clock.set(local("2026-12-04", "10:00"))
    assert chat.say("zhao", "/resource 盘点 人力 5").ok and chat.say("zhao", "/resource 分配 1").ok
    before = len(_nudges(uow))
    for day in ("2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"):
        _tick(uow, local(day, "09:00"))
    assert len(_nudges(uow)) == before


def test_working_days_follow_the_team_calendar_with_holidays_and_make_up_days(uow):
    clock = FixedClock(local("2026-09-29", "10:00"))  # Tue before National Day
    chat = _team(uow, clock)
    assert chat.say("li", "/resource 申请 市场 2 用于 国庆推广").ok
    day = local("2026-09-30", "09:00")
    while day <= local("2026-10-12", "09:00"):
        _tick(uow, day)
        day += timedelta(days=1)
    # Wed 9-30 (1), Oct 1-7 holidays, Thu 10-8 (2), Fri 10-9 (3): nudged; Sat 10-10 is a make-up
    # working day (调休): nudged; Sun 10-11 not; Mon 10-12 again.
    assert _days(uow) == ["2026-10-09", "2026-10-10", "2026-10-12"]
    with uow() as u:
        skipped = [r for r in u.session.scalars(select(FireLedger)) if r.status != "fired"]
    assert skipped == []


def test_away_approvers_get_nothing(uow):
    clock = FixedClock(local("2026-11-23", "10:00"))
    chat = _team(uow, clock)
    assert chat.say("ken", "/teambot away until 11月30日").ok
    assert chat.say("li", "/resource 申请 人力 2 用于 华南展会").ok
    _tick(uow, local("2026-11-26", "09:00"))
    assert [d for d, _, _ in _nudges(uow)] == ["user:wang"]


@pytest.mark.parametrize("calendar, expected", [("none", ["2026-11-26", "2026-11-27", "2026-11-28"])])
def test_a_team_without_a_calendar_counts_every_day(uow, calendar, expected):
    clock = FixedClock(local("2026-11-23", "10:00"))
    chat = Chat(uow, clock)
    assert chat.say("wang", f"/team setup 全年无休组 calendar={calendar}").ok
    assert chat.say("wang", "/team add @li rep").ok
    assert chat.say("li", "/resource 申请 客户 10 用于 拜访").ok
    for day in ("2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"):
        _tick(uow, local(day, "09:00"))
    assert _days(uow) == expected
