"""The approval nudge (SPEC "Scheduled posts"): 09:00 team time on working days, a DM to whoever must act
on each resource request that has waited more than two working days.

A request waits from the moment it entered its current state (`updated_at`, set by every transition):
submitted -> the sales managers, approved -> the resource admins (review), reviewed -> the resource
admins (allocation). "More than two working days" counts working days of the team's calendar after
the day it entered the state up to the occurrence's day: a request submitted on Monday is nudged on
Thursday at 09:00 (Tue, Wed, Thu = 3), one submitted on the Friday before a long holiday only once
three working days have passed after it.

Like every job it works from the occurrence (run.day, run.fire_at), never from the wall clock, and
each DM carries the dedupe key `resource:<id>:nudge:<day>:<user>`: at most one per request, per
approver, per day, even if the job ran twice. Approvers who are away get nothing; the text is in
each recipient's language (UserPref.lang, else the team's), dates in their time zone.

Registered with the scheduler (reminders/schedule.py) as the kind "approval_nudges":

    Kind("approval_nudges", resource_jobs.approval_nudges, ScheduleSpec("FREQ=DAILY", "09:00", "skip"))

which reminders/schedule.py lists in DEFAULT_KINDS.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from commands.core.people import mention, recipient_prefs
from commands.core.reply import Outgoing, Reply, Text
from commands.i18n import t
from commands.resources import AWAITING_APPROVER, approvers, details, stage_buttons, what
from reminders.jobs import JobRun
from storage.models import ResourceRequest

KIND = "approval_nudges"
#: Local time and rule of the default schedule (on_holiday "skip": no nudges on non-working days).
RULE, LOCAL_TIME, ON_HOLIDAY = "FREQ=DAILY", "09:00", "skip"
#: A request is nudged once it has waited MORE than this many working days in one state.
WAIT_WORKDAYS = 2


def waited_workdays(row: ResourceRequest, run: JobRun) -> int:
    """Working days after the day the request entered its state, up to and including the run's day."""
    entered = row.updated_at.astimezone(run.tz).date()
    return run.calendar.workdays_between(entered, run.day)


def approval_nudges(session: Session, run: JobRun) -> list[Outgoing]:
    team, day = run.team, run.day
    if not run.calendar.is_workday(day):
        return []
    rows = list(session.scalars(select(ResourceRequest)
                                .where(ResourceRequest.team_id == team.id,
                                       ResourceRequest.state.in_(AWAITING_APPROVER),
                                       ResourceRequest.updated_at < run.fire_at)
                                .order_by(ResourceRequest.updated_at, ResourceRequest.id)))
    due = [(row, n) for row in rows if (n := waited_workdays(row, run)) > WAIT_WORKDAYS]
    if not due:
        return []
    by_state = {state: approvers(session, team.id, state) for state in {row.state for row, _ in due}}
    people = recipient_prefs(session, team, {u for users in by_state.values() for u in users})
    out: list[Outgoing] = []
    for row, n in due:
        for user_id in by_state[row.state]:
            if people.away(user_id, run.fire_at):
                continue
            lang, tz = people.lang(user_id), people.tz(user_id)
            head = t(lang, f"resources.nudge_{row.state}", id=row.id, requester=mention(row.requester),
                     what=what(row, lang), days=n)
            parts: list = [Text(head), details(row, tz, lang)]
            buttons = stage_buttons(row, lang)
            if buttons is not None:
                parts.append(buttons)
            out.append(Outgoing(destination=f"user:{user_id}",
                                reply=Reply(parts=tuple(parts), private=False, summary=head),
                                dedupe_key=f"resource:{row.id}:nudge:{day.isoformat()}:{user_id}",
                                meta={"kind": "approval_nudge", "request_id": row.id, "state": row.state,
                                      "days": n}))
    return out
