"""Scheduled team-channel posts of goals and KPIs (SPEC "Scheduled posts"), as delivery-engine jobs.

Each job is `job(session, run) -> list[Outgoing]` (reminders/jobs.py's contract): it works from the
occurrence (run.slot, run.fire_at), never from the wall clock, and every message has a dedupe key
naming the team, the post and its period, so an occurrence posts once even if a job runs twice.

| kind                  | default (team-local)            | content                                              |
|-----------------------|---------------------------------|------------------------------------------------------|
| weekly_agenda         | Monday 09:00 (or /agenda schedule: 30 min before the meeting) | the /agenda content     |
| kpi_summary_weekly    | Friday 17:00                    | this week so far                                     |
| kpi_summary_monthly   | the 1st 09:00 -> first working day | the previous month, with the honours it proposes    |
| kpi_summary_quarterly | Jan/Apr/Jul/Oct 1st 09:05 -> first working day | the previous quarter                    |
| kpi_summary_annual    | Jan 1st 09:10 -> first working day | the previous year                                  |
| goal_review           | the 1st 10:00 -> first working day | last month's goals met/missed, suggested adjustments |
| quarterly_goal_review | Jan/Apr/Jul/Oct 1st 10:00 -> first working day | last quarter's goals met/missed, the annual goals' outlook and suggested adjustments |

All use on_holiday="move": a slot on a non-working day goes out at the same time on the next working
day. A KPI summary is: the per-metric table (/kpi's numbers for the team), a leaderboard by the
primary metric (public recognition) and a PNG chart of target vs actual per member (an Image part
the platform sender uploads; the console prints its path). The monthly summary adds the month's
marketing activities (each against the previous one), the quarterly one the return on the resources
allocated (投入产出比, per type and per request). Numbers stop at the occurrence's fire
time, so a catch-up run after a restart posts what the on-time run would have.

reminders/schedule.py lists SCHEDULES among its DEFAULT_KINDS.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from commands import activities, agenda, goals, kpi, kudos, meetings
from commands.core import charts, fmt, parsing
from commands.core.metrics import shown_metrics
from commands.core.reply import Image, Outgoing, Reply, Text
from commands.i18n import t
from commands.kpi.funnel import funnel_parts
from commands.resources import returns
from reminders.jobs import JobRun
from storage import queries
from storage.models import Team

log = logging.getLogger("teambot.summaries")
#: Where chart PNGs go (commands/kpi/board.py).
chart_dir = kpi.chart_dir


def _channel(team: Team) -> str:
    return f"channel:{team.channel_id}"


def _capped(p: parsing.Period, run: JobRun) -> parsing.Period:
    """The period, but never past the occurrence (a weekly summary on Friday 17:00 covers Monday up
    to then), so a late catch-up run posts what the on-time run would have."""
    return parsing.Period(p.start, min(p.end, goals.upto(run.fire_at).astimezone(p.end.tzinfo)), p.kind, p.label)


# -- the weekly agenda ------------------------------------------------------------------------------


def weekly_agenda(session: Session, run: JobRun) -> list[Outgoing]:
    team, tz = run.team, run.tz
    plan = agenda.plan_of(session, team.id)
    meeting, before = agenda.next_meeting(plan, team, run.fire_at, tz)
    built = agenda.build(session, team, meeting, before, run.fire_at, tz, team.lang or "zh",
                         minutes=plan.minutes, public=True)
    return [Outgoing(destination=_channel(team), reply=built.reply,
                     dedupe_key=f"team:{team.id}:weekly_agenda:{run.slot_day.isoformat()}",
                     meta={"kind": "weekly_agenda", "meeting": meeting.isoformat(), "boxes": built.boxes})]


# -- KPI summaries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    reply: Reply
    chart: charts.Chart | None


def kpi_summary(session: Session, team: Team, period: parsing.Period, run_key: str, *, now,
                tz, lang: str, folder: Path | None = None, chart: bool = True) -> Summary | None:
    """The team's KPI summary for `period` (already capped at `now`); None when there is nothing
    to say (no value logged and no target set). chart=False leaves the picture out (benchmarks)."""
    metrics = shown_metrics(session, team.id)
    rows = kpi.kpi_rows(session, team, None, period, now, tz, metrics)
    primary, ranked = kpi.leaderboard(session, team, period, metrics, lang)
    has_values = any(r.actual for r in rows if r.metric.aggregation == queries.SUM) or any(
        r.actual is not None for r in rows if r.metric.aggregation != queries.SUM)
    customers = funnel_parts(session, team, None, now, tz, lang)
    # The month's honours (荣誉称号) proposed from the data, each with a Confirm button for the manager.
    honours = kudos.proposal_parts(session, team, period, lang) if period.kind == "month" else []
    if not has_values and not any(r.target is not None for r in rows) and not any(x[2] for x in ranked) \
            and not customers and not honours:
        return None
    plabel = fmt.period_label(period, lang)
    title = t(lang, "kpi.summary_title", team=team.name, period=plabel)
    parts: list = [Text(title), kpi.kpi_table(rows, lang, period.kind), *customers]
    parts += _extras(session, team, period, tz, lang)
    picture = None
    if primary is not None and ranked:
        parts += kpi.board_parts(primary, ranked, lang)
        if chart:
            image, picture = kpi.chart(team, period, primary, ranked, lang, run_key, folder)
            if image is not None:
                parts.append(image)
    # Before the chart: a platform that uploads the picture apart keeps the buttons with the text.
    at = next((i for i, p in enumerate(parts) if isinstance(p, Image)), len(parts))
    parts[at:at] = honours
    return Summary(Reply(parts=tuple(parts), private=False, summary=title), picture)


def _extras(session: Session, team: Team, period: parsing.Period, tz, lang: str) -> list:
    """The month's activities in a monthly summary; the quarter's return on resources in a quarterly one."""
    if period.kind == "month":
        rows = activities.activities_between(session, team.id, period.start.astimezone(tz).date(),
                                             period.end.astimezone(tz).date())
        if rows:
            return [Text(t(lang, "meetings.summary_activities")), activities.rows_table(rows, lang)]
    if period.kind == "quarter":
        return returns.return_parts(session, team.id, lang, start=period.start, end=period.end,
                                    title=t(lang, "resources.returns_title_period",
                                            period=fmt.period_label(period, lang)))
    return []


def _summary_job(kind: str, period_kind: str, *, previous: bool) -> Callable[[Session, JobRun], list[Outgoing]]:
    def job(session: Session, run: JobRun) -> list[Outgoing]:
        team, tz = run.team, run.tz
        day = run.slot_day - timedelta(days=1) if previous else run.slot_day
        period = _capped(parsing.period_of(period_kind, day, tz), run)
        key = f"{kind}-{period.label}"
        summary = kpi_summary(session, team, period, key, now=run.fire_at, tz=tz, lang=team.lang or "zh")
        if summary is None:
            return []
        return [Outgoing(destination=_channel(team), reply=summary.reply,
                         dedupe_key=f"team:{team.id}:{kind}:{period.label}",
                         meta={"kind": kind, "period": period.label,
                               "chart": summary.chart.path if summary.chart else None})]

    job.__name__ = kind
    job.__doc__ = f"KPI summary of the {'previous ' if previous else ''}{period_kind} in the team channel."
    return job


kpi_summary_weekly = _summary_job("kpi_summary_weekly", "week", previous=False)
kpi_summary_monthly = _summary_job("kpi_summary_monthly", "month", previous=True)
kpi_summary_quarterly = _summary_job("kpi_summary_quarterly", "quarter", previous=True)
kpi_summary_annual = _summary_job("kpi_summary_annual", "year", previous=True)


# -- the monthly goal review ------------------------------------------------------------------------


def goal_review(session: Session, run: JobRun) -> list[Outgoing]:
    team, tz = run.team, run.tz
    month = parsing.period_of("month", run.slot_day - timedelta(days=1), tz)
    reply = goals.month_review(session, team, month, tz, team.lang or "zh")
    if reply is None:
        return []
    return [Outgoing(destination=_channel(team), reply=reply,
                     dedupe_key=f"team:{team.id}:goal_review:{month.label}",
                     meta={"kind": "goal_review", "period": month.label})]


# -- the quarterly goal review -------------------------------------------------------------------------


def quarterly_goal_review(session: Session, run: JobRun) -> list[Outgoing]:
    team, tz = run.team, run.tz
    quarter = parsing.period_of("quarter", run.slot_day - timedelta(days=1), tz)
    reply = meetings.quarter_review(session, team, quarter, tz, team.lang or "zh")
    if reply is None:
        return []
    return [Outgoing(destination=_channel(team), reply=reply,
                     dedupe_key=f"team:{team.id}:quarterly_goal_review:{quarter.label}",
                     meta={"kind": "quarterly_goal_review", "period": quarter.label})]


# -- registration -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledPost:
    name: str
    job: Callable[[Session, JobRun], list[Outgoing]]
    rule: str
    local_time: str
    on_holiday: str = "move"


#: Listed in reminders/schedule.py DEFAULT_KINDS.
SCHEDULES: tuple[ScheduledPost, ...] = (
    ScheduledPost(agenda.AGENDA_KIND, weekly_agenda, "FREQ=WEEKLY;BYDAY=MO", "09:00"),
    ScheduledPost("kpi_summary_weekly", kpi_summary_weekly, "FREQ=WEEKLY;BYDAY=FR", "17:00"),
    ScheduledPost("kpi_summary_monthly", kpi_summary_monthly, "FREQ=MONTHLY;BYMONTHDAY=1", "09:00"),
    ScheduledPost("kpi_summary_quarterly", kpi_summary_quarterly, "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1",
                  "09:05"),
    ScheduledPost("kpi_summary_annual", kpi_summary_annual, "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1", "09:10"),
    ScheduledPost("goal_review", goal_review, "FREQ=MONTHLY;BYMONTHDAY=1", "10:00"),
    ScheduledPost("quarterly_goal_review", quarterly_goal_review, "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1",
                  "10:00"),
)
