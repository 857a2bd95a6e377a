"""/agenda (会议, 议程): the weekly meeting's agenda, and when the meeting is.

Grammar:

    (nothing) | preview | next | weekly    预览 / 下次 / 周会: the next weekly meeting's agenda, now (private)
    monthly [<month>]                      月度 / 月会 / 月度总结会: the monthly review of last month (or <month>)
    kickoff <project>                      启动会 / 项目启动会 <项目>: a project kick-off
    schedule weekly <weekday> <HH:MM> [<length>]     manager only
        安排 每周 周一 09:30 60分钟;  weekday: mon..sun, monday.., 周一..周日, 星期一..;
        length: 60m, 45min, 1h, 45分钟, 1小时 (15-60 minutes, default 60): the guide keeps a meeting
        within an hour (会议时间控制在1小时以内), so a longer one is refused with that reason

The monthly review and the kick-off are built in commands/meetings/.

The meeting lives in the `meeting` table (no row: Monday 09:30, 60 minutes). The agenda post is the
delivery engine's "weekly_agenda" schedule: /agenda schedule writes its `schedule` override, posting
AGENDA_LEAD before the meeting on the meeting's day (moved to the next working day on holidays).

Sections (the seed's): 目标回顾 goal review; 进展汇报 per member since the last meeting (entries,
blockers and the summed metrics, from storage/queries.py); 问题讨论 blockers since the last meeting,
overdue open tasks, pending resource requests; 经验分享 the biggest wins and the kudos (/kudos). Each has a time box; the
boxes add up to the meeting length exactly (time_boxes()).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from commands import activities, goals, kpi, kudos, pipeline, resources
from commands.core import fmt, parsing, workdays
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import split_head
from commands.core.metrics import metric_name, shown_metrics
from commands.core.people import mention, require_member
from commands.core.reply import Reply, Table, Text
from commands.core.roles import require_manager
from commands.core.schedules import ScheduleSpec, upsert_schedule
from commands.i18n import t
from storage import queries
from storage.models import Meeting, ResourceRequest, Task, Team
from storage.uow import UnitOfWork

DEFAULT_WEEKDAY, DEFAULT_TIME, DEFAULT_MINUTES = 0, "09:30", 60
#: The agenda goes out this long before the meeting.
AGENDA_LEAD = timedelta(minutes=30)
#: The delivery engine's kind for the weekly agenda post (reminders/summary_jobs.py).
AGENDA_KIND = "weekly_agenda"
PENDING_RESOURCE_STATES = ("submitted", "approved", "reviewed")
LIST_LIMIT = 8
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3,
    "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6,
    "sunday": 6,
}
for _i, _c in enumerate("一二三四五六日"):
    for _p in ("周", "星期", "礼拜"):
        WEEKDAYS[_p + _c] = _i
WEEKDAYS.update({"周天": 6, "星期天": 6, "礼拜天": 6})
KEYWORDS = {
    "preview": ("preview", "next", "show", "weekly", "week", "预览", "下次", "查看", "周会", "周例会", "例会", "每周"),
    "monthly": ("monthly", "month", "review", "月度", "月会", "月度总结会", "月度总结", "总结会", "月度会议"),
    "kickoff": ("kickoff", "kick-off", "kick_off", "launch", "启动会", "项目启动会", "启动", "立项会"),
    "schedule": ("schedule", "set", "安排", "设置", "设定"),
}
#: 会议时间控制在1小时以内: the longest meeting the guide allows.
MAX_MINUTES = 60
MAX_PROJECT = 80
WEEKLY_WORDS = ("weekly", "every", "每周", "每星期")
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})|(\d{1,2})点(半|(\d{1,2})分?)?")
_LENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|mins|minutes|分钟|分|h|hr|hrs|hours?|小时)", re.IGNORECASE)


@dataclass(frozen=True)
class PreviewAgenda:
    pass


@dataclass(frozen=True)
class MonthlyAgenda:
    #: None: last month.
    period: parsing.Period | None = None


@dataclass(frozen=True)
class KickoffAgenda:
    project: str


@dataclass(frozen=True)
class ScheduleMeeting:
    weekday: int
    local_time: str  # HH:MM
    minutes: int


def parse(text: str, ctx: Ctx):
    if not text:
        return PreviewAgenda()
    kw, head, rest = split_head(text, KEYWORDS)
    if kw is None:
        raise UsageError("agenda.unknown_keyword", word=head, example="agenda.example")
    if kw == "preview":
        if rest.strip():
            raise UsageError("agenda.unexpected_text", text=rest.strip(), example="agenda.example")
        return PreviewAgenda()
    if kw == "monthly":
        return _parse_monthly(rest.strip(), ctx)
    if kw == "kickoff":
        project = " ".join(rest.split()).strip(" ：:，,")
        if not project:
            raise UsageError("agenda.project_required", example="agenda.example_kickoff")
        if len(project) > MAX_PROJECT:
            raise UsageError("agenda.project_too_long", max=MAX_PROJECT, example="agenda.example_kickoff")
        return KickoffAgenda(project)
    return _parse_schedule(rest.split())


def _parse_monthly(rest: str, ctx: Ctx) -> MonthlyAgenda:
    if not rest:
        return MonthlyAgenda()
    try:
        period = parsing.parse_period(rest, ctx.now, ctx.tz)
    except UsageError as e:
        raise e.with_example("agenda.example_monthly") from None
    if period.kind != "month":
        raise UsageError("agenda.month_required", value=rest, example="agenda.example_monthly")
    return MonthlyAgenda(period)


def _parse_schedule(words: list[str]) -> ScheduleMeeting:
    example = "agenda.example_schedule"
    weekday = hm = minutes = None
    for w in words:
        low = parsing._nfkc(w).casefold()
        if low in WEEKLY_WORDS:
            continue
        if low in WEEKDAYS and weekday is None:
            weekday = WEEKDAYS[low]
            continue
        m = _TIME.fullmatch(low)
        if m and hm is None:
            if m.group(1):
                hh, mm = int(m.group(1)), int(m.group(2))
            else:
                hh = int(m.group(3))
                mm = 30 if m.group(4) == "半" else int(m.group(5) or 0)
            if not (0 <= hh <= 23 and 0 <= mm <= 59):
                raise UsageError("agenda.bad_time", value=w, example=example)
            hm = f"{hh:02d}:{mm:02d}"
            continue
        m = _LENGTH.fullmatch(low)
        if m and minutes is None:
            n = float(m.group(1))
            minutes = round(n * 60 if m.group(2).startswith(("h", "小")) else n)
            if minutes > MAX_MINUTES:
                raise UsageError("agenda.too_long", value=w, minutes=minutes, example=example)
            if minutes < 15:
                raise UsageError("agenda.bad_length", value=w, example=example)
            continue
        raise UsageError("agenda.unexpected_text", text=w, example=example)
    if weekday is None:
        raise UsageError("agenda.weekday_required", example=example)
    if hm is None:
        raise UsageError("agenda.time_required", example=example)
    return ScheduleMeeting(weekday=weekday, local_time=hm, minutes=minutes or DEFAULT_MINUTES)


# -- the meeting's time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingPlan:
    weekday: int
    local_time: str
    minutes: int

    @property
    def at(self) -> time:
        return time.fromisoformat(self.local_time)


def plan_of(session, team_id: int) -> MeetingPlan:
    row = session.scalars(select(Meeting).where(Meeting.team_id == team_id)).first()
    if row is None:
        return MeetingPlan(DEFAULT_WEEKDAY, DEFAULT_TIME, DEFAULT_MINUTES)
    return MeetingPlan(row.weekday, row.local_time, row.minutes)


def meeting_at(plan: MeetingPlan, slot_day: date, team: Team, tz) -> datetime:
    """The meeting of the week slot `slot_day` (its scheduled weekday), moved to the next working day."""
    day = workdays.calendar_for(team.calendar).next_workday(slot_day)
    return datetime.combine(day, plan.at, tz)


def next_meeting(plan: MeetingPlan, team: Team, after: datetime, tz) -> tuple[datetime, datetime]:
    """-> (the next meeting starting at or after `after`, the one before it)."""
    local = after.astimezone(tz)
    slot = local.date() + timedelta(days=(plan.weekday - local.weekday()) % 7) - timedelta(days=7)
    for _ in range(10):
        at = meeting_at(plan, slot, team, tz)
        if at >= local:
            return at, meeting_at(plan, slot - timedelta(days=7), team, tz)
        slot += timedelta(days=7)
    raise ValueError("no meeting found")  # pragma: no cover - a week always has one


# -- time boxes -----------------------------------------------------------------------------------


def time_boxes(total: int, weights: list[float], minimum: int = 5) -> list[int]:
    """Split `total` minutes by weight into whole boxes (multiples of 5 when total allows) that add
    up to exactly `total`, each at least `minimum` (or an equal share when total is too short)."""
    n = len(weights)
    if n == 0:
        return []
    unit = 5 if total % 5 == 0 and total >= 5 * n else 1
    units = total // unit
    floor_units = min(max(1, minimum // unit), units // n)
    rest = units - floor_units * n
    ws = [max(w, 0.0) for w in weights]
    wsum = sum(ws) or float(n)
    raw = [rest * (w if sum(ws) else 1.0) / wsum for w in ws]
    base = [int(x) for x in raw]
    left = rest - sum(base)
    for i in sorted(range(n), key=lambda i: (-(raw[i] - base[i]), i))[:left]:
        base[i] += 1
    return [(floor_units + b) * unit for b in base]


# -- building the agenda --------------------------------------------------------------------------


@dataclass(frozen=True)
class Agenda:
    meeting: datetime
    since: datetime
    boxes: list[int]
    reply: Reply


def _problems(session, team: Team, since: datetime, end: datetime, now: datetime, tz, lang: str
              ) -> tuple[list[str], int]:
    """问题讨论: (lines, how many problems): blockers since the last meeting, overdue open tasks,
    pending resource requests, deals stuck in a stage, customers about to return to the pool."""
    blockers = queries.blockers(session, team.id, since, end, limit=LIST_LIMIT)
    overdue_q = (select(Task).where(Task.team_id == team.id, Task.status == "open", Task.due_at < now)
                 .order_by(Task.due_at, Task.id))
    overdue = list(session.scalars(overdue_q.limit(LIST_LIMIT)))
    overdue_n = session.scalar(select(func.count()).select_from(overdue_q.subquery()))
    pending_q = (select(ResourceRequest)
                 .where(ResourceRequest.team_id == team.id, ResourceRequest.state.in_(PENDING_RESOURCE_STATES))
                 .order_by(ResourceRequest.created_at, ResourceRequest.id))
    pending = list(session.scalars(pending_q.limit(LIST_LIMIT)))
    pending_n = session.scalar(select(func.count()).select_from(pending_q.subquery()))
    lines = []
    if blockers:
        lines.append(t(lang, "agenda.blockers", count=len(blockers)))
        lines.extend(f"• 🚧 {mention(b.user_id)} {b.note}" for b in blockers)
    if overdue_n:
        lines.append(t(lang, "agenda.overdue", count=overdue_n))
        lines.extend(f"• ⏰ #{x.id} {x.title} — {mention(x.assignee)} "
                     + t(lang, "agenda.due", due=fmt.day(x.due_at.astimezone(tz).date(), lang)) for x in overdue)
    if pending_n:
        lines.append(t(lang, "agenda.pending", count=pending_n))
        lines.extend(f"• 📦 #{r.id} " + t(lang, "agenda.resource_line", what=resources.what(r, lang),
                                           state=resources.state_name(r.state, lang),
                                           who=mention(r.requester), purpose=r.purpose) for r in pending)
    customer_lines, customer_n = pipeline.problem_lines(session, team, now, tz, lang)
    return lines + customer_lines, len(blockers) + overdue_n + pending_n + customer_n


def build(session, team: Team, meeting: datetime, since: datetime, now: datetime, tz, lang: str, *,
          minutes: int, public: bool) -> Agenda:
    """The agenda of the meeting at `meeting`, covering what happened from `since` up to `now`."""
    end = goals.upto(now)
    metrics = shown_metrics(session, team.id)
    people = kpi.members(session, team.id)

    # 1. goal review
    goal_rows = goals.review_rows(session, team, goals.current_goals(session, team.id, now), now, tz, lang)

    # 2. progress since the last meeting, per member
    per_user = queries.actuals_by_user(session, team.id, metrics, since, end)
    act = queries.activity(session, team.id, since, end)
    shown = [m for m in metrics if m.aggregation == queries.SUM
             and any(m.id in per_user.get(p.user_id, {}) for p in people)]
    progress_rows = []
    for p in people:
        a = act.get(p.user_id)
        vals = per_user.get(p.user_id, {})
        progress_rows.append((mention(p.user_id), str(a.entries if a else 0), str(a.blockers if a else 0),
                              *(fmt.amount(vals.get(m.id, 0.0), m.unit, lang) for m in shown)))

    # 3. problems: blockers, overdue tasks, pending resource requests, stuck deals, customers leaving
    problem_lines, problems_n = _problems(session, team, since, end, now, tz, lang)

    # 4. wins: the biggest deals, the activities and the deals won since the last meeting
    wins = _wins(session, team, metrics, since, end, tz, lang)
    won = pipeline.win_lines(session, team, since, end, lang)
    wins += [t(lang, "agenda.won", count=len(won))] + won if won else []
    # The kudos since the last meeting (公开表彰 在团队会议上), the latest LIST_LIMIT of them.
    praise = kudos.between(session, team.id, since, end)
    if praise:
        wins.append(t(lang, "agenda.kudos", count=len(praise)))
        wins.extend(t(lang, "agenda.kudos_line", giver=mention(k.giver), whom=mention(k.receiver), reason=k.reason)
                    for k in praise[-LIST_LIMIT:])

    weights = [1 + 0.5 * min(len(goal_rows), 6), 1 + 0.5 * len(people), 1 + 1.0 * min(problems_n, 8),
               1 + 0.5 * min(len(wins), 12)]
    boxes = time_boxes(minutes, weights)
    names = [t(lang, f"agenda.section_{x}") for x in ("goals", "progress", "problems", "wins")]

    day = fmt.when(meeting, tz, lang)
    title = t(lang, "agenda.title", team=team.name, when=day, minutes=minutes)
    parts: list = [Text(title), Text(t(lang, "agenda.since", since=fmt.when(since, tz, lang)))]

    parts.append(Text(t(lang, "agenda.section", n=1, name=names[0], minutes=boxes[0])))
    if goal_rows:
        parts.append(Table(goals.review_header(lang), tuple(goal_rows)))
    else:
        parts.append(Text(t(lang, "agenda.no_goals")))

    parts.append(Text(t(lang, "agenda.section", n=2, name=names[1], minutes=boxes[1])))
    header = (t(lang, "agenda.col_who"), t(lang, "agenda.col_entries"), t(lang, "agenda.col_blockers"),
              *(metric_name(m, lang) for m in shown))
    parts.append(Table(header, tuple(progress_rows)) if progress_rows else Text(t(lang, "agenda.no_members")))

    parts.append(Text(t(lang, "agenda.section", n=3, name=names[2], minutes=boxes[2])))
    parts.append(Text("\n".join(problem_lines) if problem_lines else t(lang, "agenda.no_problems")))

    parts.append(Text(t(lang, "agenda.section", n=4, name=names[3], minutes=boxes[3])))
    parts.append(Text("\n".join(wins)) if wins else Text(t(lang, "agenda.no_wins")))
    reply = Reply(parts=tuple(parts), private=not public, summary=title)
    return Agenda(meeting=meeting, since=since, boxes=boxes, reply=reply)


def _wins(session, team: Team, metrics, since: datetime, end: datetime, tz, lang: str) -> list[str]:
    by_id = {m.id: m for m in metrics}
    primary = kpi.primary_metric(metrics)
    deals = queries.biggest(session, team.id, primary.id, since, end, limit=3) if primary else []
    lines = [f"• 🏆 {mention(d.user_id)} {fmt.amount(d.value, by_id[d.metric_id].unit, lang)} — {d.note or '—'}"
             for d in deals]
    campaigns = activities.activities_between(session, team.id, since.astimezone(tz).date(),
                                              (end.astimezone(tz) + timedelta(days=1)).date())
    return lines + [f"• 📣 {activities.result_line(r, lang)}" for r in campaigns]


# -- running --------------------------------------------------------------------------------------


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    session = uow.session
    team, tz, lang = ctx.team, ctx.tz, ctx.lang
    if isinstance(req, ScheduleMeeting):
        return _schedule(session, req, ctx)
    plan = plan_of(session, team.id)
    minutes = min(plan.minutes, MAX_MINUTES)
    if isinstance(req, MonthlyAgenda):
        from commands.meetings import monthly_agenda

        month = req.period or parsing.period_of("month", ctx.local_now.replace(day=1) - timedelta(days=1), tz)
        return monthly_agenda(session, team, month, min(ctx.now, month.end), tz, lang, minutes=minutes)
    if isinstance(req, KickoffAgenda):
        from commands.meetings import kickoff_agenda

        return kickoff_agenda(session, team, req.project, ctx.now, tz, lang, minutes=minutes)
    meeting, before = next_meeting(plan, team, ctx.now, tz)
    return build(session, team, meeting, before, ctx.now, tz, lang, minutes=minutes, public=False).reply


def post_time(plan: MeetingPlan) -> str:
    at = datetime.combine(date(2000, 1, 3), plan.at) - AGENDA_LEAD
    if at.date() != date(2000, 1, 3):
        return "00:00"
    return at.strftime("%H:%M")


def _schedule(session, req: ScheduleMeeting, ctx: Ctx) -> Reply:
    require_manager(ctx)
    team, lang = ctx.team, ctx.lang
    row = session.scalars(select(Meeting).where(Meeting.team_id == team.id)).first()
    if row is None:
        row = Meeting(team_id=team.id, updated_by=ctx.actor.user_id, updated_at=ctx.now)
    row.weekday, row.local_time, row.minutes = req.weekday, req.local_time, req.minutes
    row.updated_by, row.updated_at = ctx.actor.user_id, ctx.now
    session.add(row)
    plan = MeetingPlan(req.weekday, req.local_time, req.minutes)
    posted = post_time(plan)
    # The agenda is posted AGENDA_LEAD before the meeting, on its weekday (moved off a holiday).
    spec = ScheduleSpec(f"FREQ=WEEKLY;BYDAY={RRULE_DAYS[req.weekday]}", posted, "move", True)
    upsert_schedule(session, team.id, AGENDA_KIND, spec, by=ctx.actor.user_id, now=ctx.now, rule=spec.rule,
                    local_time=spec.local_time, on_holiday=spec.on_holiday, enabled=spec.enabled)
    session.flush()
    meeting, _ = next_meeting(plan, team, ctx.now, ctx.tz)
    text = t(lang, "agenda.scheduled", weekday=fmt.weekday(date(2000, 1, 3) + timedelta(days=req.weekday), lang),
             time=req.local_time, minutes=req.minutes, posted=posted, next=fmt.when(meeting, ctx.tz, lang))
    return Reply.text(text, private=False)
