""""Assessment due" (SPEC "Scheduled posts"): a DM with each member's sheet summary and Confirm buttons
to whoever confirms the period that has just ended (the seed's 考核机制):

| kind                        | default (team-local)                                   | to                    | period          |
|-----------------------------|--------------------------------------------------------|-----------------------|-----------------|
| assessment_due_monthly      | the 1st 09:30 -> first working day                     | the sales managers    | last month      |
| assessment_due_quarterly    | Jan/Apr/Jul/Oct 1st 09:30 -> first working day (季度末) | the performance admins | last quarter    |
| assessment_due_annual       | Jan 1st 09:30 -> first working day (年度末)            | the performance admins | last year       |

on_holiday="move": a 1st that is not a working day of the team's calendar (National Day, Spring
Festival, a weekend) goes out at 09:30 on the next working day. Like every job it works from the
occurrence, never the wall clock; the fire ledger makes each occurrence fire once across replicas,
and each DM's dedupe key `team:<id>:assessment_due:<period>:<user>` makes it exist once. Members
already confirmed are left out; nothing is sent when nobody is left to confirm, and nothing to a
recipient who is away.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from commands import assess
from commands.core import fmt, parsing
from commands.core.people import recipient_prefs
from commands.core.reply import Outgoing
from commands.i18n import t
from reminders.jobs import JobRun
from storage.models import Member

RULES = {
    "month": "FREQ=MONTHLY;BYMONTHDAY=1",
    "quarter": "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1",
    "year": "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1",
}
LOCAL_TIME = "09:30"
KINDS = {"month": "assessment_due_monthly", "quarter": "assessment_due_quarterly", "year": "assessment_due_annual"}


def _job(period_kind: str) -> Callable[[Session, JobRun], list[Outgoing]]:
    kind = KINDS[period_kind]
    role = assess.CONFIRMER[period_kind]

    def job(session: Session, run: JobRun) -> list[Outgoing]:
        team, tz = run.team, run.tz
        period = parsing.period_of(period_kind, run.slot_day - timedelta(days=1), tz)
        recipients = list(session.scalars(select(Member.user_id).where(Member.team_id == team.id,
                                                                       Member.role == role)
                                          .order_by(Member.user_id)))
        people = recipient_prefs(session, team, recipients)
        out: list[Outgoing] = []
        for user_id in recipients:
            if people.away(user_id, run.fire_at):
                continue
            lang = people.lang(user_id)
            intro = t(lang, "assess.due_intro", period=fmt.period_label(period, lang),
                      role=t(lang, f"roles.{role}.name"))
            reply = assess.overview(session, team, period, run.fire_at, people.tz(user_id), lang, role,
                                    public=True, only_pending=True, heading=(intro,))
            if reply is None:
                continue
            out.append(Outgoing(destination=f"user:{user_id}", reply=reply,
                                dedupe_key=f"team:{team.id}:assessment_due:{period.label}:{user_id}",
                                meta={"kind": kind, "period": period.label}))
        return out

    job.__name__ = kind
    job.__doc__ = f"Assessments of the {period_kind} just over, to confirm: a DM to the {role}s."
    return job


assessment_due_monthly = _job("month")
assessment_due_quarterly = _job("quarter")
assessment_due_annual = _job("year")
JOBS = {"month": assessment_due_monthly, "quarter": assessment_due_quarterly, "year": assessment_due_annual}
