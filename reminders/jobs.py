"""Scheduled jobs: plain functions `job(session, run) -> list[Outgoing]`.

The scheduler (schedule.py) claims an occurrence in the fire ledger, calls the job inside the same
unit of work and queues what it returns in the outbox, so the claim and the messages commit together.
Jobs work from the occurrence (`run.day`, `run.fire_at`), never from the wall clock, so a late
catch-up run sends what the on-time run would have sent. Every message carries a dedupe_key naming
what it is about and for which day, so it exists once even if a job ran twice.

Rules shared by the jobs:
- done and cancelled tasks are never reminded (only status "open" is read);
- a task snoozed until day X is not reminded before day X (the local date of snoozed_until, so
  "Snooze 1 day" at 09:05 does not swallow the next morning's 09:00 reminder);
- a person whose away_until is later than the occurrence gets nothing;
- text is in the recipient's language (UserPref.lang, else the team's), dates in their time zone
  (UserPref.tz, else the team's).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from commands.core import fmt
from commands.core.people import mention, recipient_prefs
from commands.core.reply import Actions, Button, Fields, Outgoing, Reply, Table, Text
from commands.core.workdays import WorkdayCalendar
from commands.i18n import t
from storage.models import Member, ProgressEntry, Task, Team


@dataclass(frozen=True)
class JobRun:
    """One occurrence of one schedule for one team."""

    team: Team
    kind: str
    #: The scheduled slot (aware UTC) before any move off a non-working day: the ledger key.
    slot: datetime
    #: When it is due after moving to a working day (aware UTC); == slot when not moved.
    fire_at: datetime
    #: The tick that runs it (>= fire_at; later when catching up).
    now: datetime
    calendar: WorkdayCalendar

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.team.tz)

    @property
    def day(self) -> date:
        """The team-local working day the occurrence belongs to."""
        return self.fire_at.astimezone(self.tz).date()

    @property
    def slot_day(self) -> date:
        return self.slot.astimezone(self.tz).date()


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """Start of local day `d` as aware UTC."""
    return datetime.combine(d, time(0)).replace(tzinfo=tz).astimezone(UTC)


# --- recipients ---------------------------------------------------------------------------------------


def recipient_tz(session: Session, team: Team, user_ids: set[str]) -> Callable[[str], ZoneInfo]:
    """user id -> the time zone a job writes to them in (UserPref.tz, else the team's); one query."""
    return recipient_prefs(session, team, user_ids).tz


# --- formatting ---------------------------------------------------------------------------------------


def _task_buttons(task: Task, lang: str) -> Actions:
    return Actions((
        Button(label=t(lang, "reminders.btn_done"), action_id="tasks.done", value=str(task.id),
               command=f"/task done {task.id}", style="primary"),
        Button(label=t(lang, "reminders.btn_snooze"), action_id="tasks.snooze", value=str(task.id),
               command=f"/task snooze {task.id}"),
    ))


def _task_reply(task: Task, headline: str, lang: str, tz: ZoneInfo) -> Reply:
    pairs = [(t(lang, "reminders.field_task"), f"#{task.id} {task.title}"),
             (t(lang, "reminders.field_due"), fmt.when(task.due_at, tz, lang))]
    if task.note:
        pairs.append((t(lang, "reminders.field_note"), task.note))
    return Reply(parts=(Text(headline), Fields(tuple(pairs)), _task_buttons(task, lang)),
                 private=False, summary=headline.replace("*", ""))


def _snoozed(task: Task, day: date, tz: ZoneInfo) -> bool:
    return task.snoozed_until is not None and task.snoozed_until.astimezone(tz).date() > day


def _open_tasks(session: Session, team_id: int, due_from: datetime | None, due_to: datetime) -> list[Task]:
    q = select(Task).where(Task.team_id == team_id, Task.status == "open", Task.due_at < due_to)
    if due_from is not None:
        q = q.where(Task.due_at >= due_from)
    return list(session.scalars(q.order_by(Task.due_at, Task.id)))


# --- jobs ---------------------------------------------------------------------------------------------


def deadline_reminders(session: Session, run: JobRun) -> list[Outgoing]:
    """09:00 one working day before the due date, and on the due date, DM to the assignee.

    A due date on a non-working day counts as due on the next working day: the "before" reminder goes
    out the working day before the due date and the "due" reminder on the first working day on or
    after it (so a task due during National Day is announced on Sep 30 and again on Oct 8)."""
    team, cal, day, tz = run.team, run.calendar, run.day, run.tz
    if not cal.is_workday(day):
        return []
    prev_wd = cal.previous_workday(day)
    next_wd = cal.next_workday(day, inclusive=False)
    # Due dates whose "due" reminder lands today: (prev_wd, day]; whose "before" one does: (day, next_wd].
    tasks = _open_tasks(session, team.id, local_midnight(prev_wd + timedelta(days=1), tz),
                        local_midnight(next_wd + timedelta(days=1), tz))
    people = recipient_prefs(session, team, {x.assignee for x in tasks})
    out: list[Outgoing] = []
    for task in tasks:
        due_day = task.due_at.astimezone(tz).date()
        if _snoozed(task, day, tz) or people.away(task.assignee, run.fire_at):
            continue
        lang, utz = people.lang(task.assignee), people.tz(task.assignee)
        due_text = fmt.when(task.due_at, utz, lang)
        if due_day > day:
            headline, tag = t(lang, "reminders.due_soon", due=due_text, title=task.title), "due-1"
        elif due_day == day:
            headline, tag = t(lang, "reminders.due_today", title=task.title), "due"
        else:
            headline, tag = t(lang, "reminders.due_in_holiday", due=due_text, title=task.title), "due"
        out.append(Outgoing(destination=f"user:{task.assignee}",
                            reply=_task_reply(task, headline, lang, utz),
                            dedupe_key=f"task:{task.id}:{tag}:{day.isoformat()}",
                            meta={"kind": "deadline_reminder", "task_id": task.id, "tag": tag}))
    return out


def overdue_working_days(task: Task, day: date, cal: WorkdayCalendar, tz: ZoneInfo) -> int:
    """How many working days `task` is overdue on `day`: counted from its effective due day (the due
    date, or the next working day when that is a holiday), so the first overdue working day is 1."""
    effective_due = cal.next_workday(task.due_at.astimezone(tz).date())
    return cal.workdays_between(effective_due, day)


def overdue_nudges(session: Session, run: JobRun) -> list[Outgoing]:
    """09:00 each working day while a task is overdue: a DM to the assignee; from the 2nd overdue
    working day also one digest DM per manager listing every such task of the team.

    Snoozing is the assignee's choice about their own reminders; it does not hold back the
    managers' digest. An away manager gets no digest; the assignee's own absence does not hide the
    task from the managers."""
    team, cal, day, tz = run.team, run.calendar, run.day, run.tz
    if not cal.is_workday(day):
        return []
    tasks = _open_tasks(session, team.id, None, local_midnight(day, tz))
    overdue = [(task, n) for task in tasks if (n := overdue_working_days(task, day, cal, tz)) >= 1]
    if not overdue:
        return []
    managers = list(session.scalars(select(Member.user_id).where(Member.team_id == team.id,
                                                                 Member.role == "manager")
                                    .order_by(Member.user_id)))
    people = recipient_prefs(session, team, {x.assignee for x, _ in overdue} | set(managers))
    out: list[Outgoing] = []
    for task, n in overdue:
        if _snoozed(task, day, tz) or people.away(task.assignee, run.fire_at):
            continue
        lang, utz = people.lang(task.assignee), people.tz(task.assignee)
        headline = t(lang, "reminders.overdue", days=n, title=task.title)
        out.append(Outgoing(destination=f"user:{task.assignee}",
                            reply=_task_reply(task, headline, lang, utz),
                            dedupe_key=f"task:{task.id}:overdue:{day.isoformat()}",
                            meta={"kind": "overdue_nudge", "task_id": task.id, "days": n}))
    escalated = [(task, n) for task, n in overdue if n >= 2]
    if escalated:
        for mgr in managers:
            if people.away(mgr, run.fire_at):
                continue
            mine = [(task, n) for task, n in escalated if task.assignee != mgr]
            if not mine:
                continue
            lang, mtz = people.lang(mgr), people.tz(mgr)
            title = t(lang, "reminders.escalation_title", team=team.name, count=len(mine))
            header = tuple(t(lang, "reminders.escalation_header").split(","))
            rows = tuple((f"#{task.id}", task.title, mention(task.assignee),
                          fmt.when(task.due_at, mtz, lang), str(n)) for task, n in mine)
            reply = Reply(parts=(Text(title), Table(header, rows), Text(t(lang, "reminders.escalation_hint"))),
                          private=False, summary=title)
            out.append(Outgoing(destination=f"user:{mgr}", reply=reply,
                                dedupe_key=f"team:{team.id}:overdue-mgr:{mgr}:{day.isoformat()}",
                                meta={"kind": "overdue_escalation", "task_ids": [x.id for x, _ in mine]}))
    return out


def progress_nudges(session: Session, run: JobRun) -> list[Outgoing]:
    """Friday 16:00: a DM to every member of the team who logged no progress that week (team time
    zone, from Monday 00:00 of the scheduled slot's week up to the occurrence; when the slot moved
    off a holiday, up to the day it moved to)."""
    team, tz = run.team, run.tz
    week_start_day = run.slot_day - timedelta(days=run.slot_day.weekday())
    since = local_midnight(week_start_day, tz)
    members = list(session.scalars(select(Member.user_id).where(Member.team_id == team.id)
                                   .order_by(Member.user_id)))
    if not members:
        return []
    logged = set(session.scalars(select(ProgressEntry.user_id).where(
        ProgressEntry.team_id == team.id, ProgressEntry.created_at >= since,
        ProgressEntry.created_at <= run.fire_at).group_by(ProgressEntry.user_id)))
    people = recipient_prefs(session, team, set(members))
    out: list[Outgoing] = []
    for user in members:
        if user in logged or people.away(user, run.fire_at):
            continue
        lang = people.lang(user)
        text = t(lang, "reminders.progress_nudge", since=fmt.day(week_start_day, lang))
        out.append(Outgoing(destination=f"user:{user}", reply=Reply.text(text, private=False),
                            dedupe_key=f"progress:{team.id}:{user}:{run.slot_day.isoformat()}",
                            meta={"kind": "progress_nudge"}))
    return out

