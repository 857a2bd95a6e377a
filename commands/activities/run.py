"""Running /activity: record campaigns and their results; compare each with the previous one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from commands.activities.parse import (
    EXAMPLE,
    MAX_ID,
    AddActivity,
    ListActivities,
    RecordResult,
    ShowHelp,
)
from commands.core import fmt
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.people import adopt_team_of, mention, require_member
from commands.core.reply import Reply, Table, Text
from commands.i18n import t
from storage.models import Activity, Goal, Metric
from storage.uow import UnitOfWork

#: Who may record activities and their results.
ROLES = ("marketing", "manager")
#: The seed's target: 活动参与人数增加20%, 以上次活动参与人数为基准.
SEED_PCT = 20.0
METRIC = "event_participants"
LIST_LIMIT = 20


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example(EXAMPLE) from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    if isinstance(req, ShowHelp):
        return Reply.text(t(ctx.lang, "activities.help"))
    session = uow.session
    if ctx.team_id is None and isinstance(req, RecordResult):  # in a DM: the activity says which team
        adopt_team_of(session, ctx, Activity, req.activity_id, MAX_ID)
    require_member(ctx)
    if isinstance(req, ListActivities):
        return _list(session, ctx)
    if ctx.role not in ROLES:
        raise Refused("activities.marketing_only", example="-")
    if isinstance(req, AddActivity):
        return _add(session, req, ctx)
    assert isinstance(req, RecordResult)
    return _result(session, req, ctx)


# -- the comparison -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    activity: Activity
    #: The previous activity with a result (the base), None for the first.
    previous: Activity | None
    #: Target participants: the base raised by the team's percentage; None without a base.
    target: float | None
    pct: float

    @property
    def change(self) -> float | None:
        a, p = self.activity.participants, self.previous.participants if self.previous else None
        if a is None or not p:
            return None
        return 100.0 * (a - p) / p

    @property
    def attainment(self) -> float | None:
        a = self.activity.participants
        if a is None or not self.target:
            return None
        return 100.0 * a / self.target


def target_pct(session, team_id: int) -> float:
    """The team's relative goal on 活动参与人数 (`+20%`), else the seed's 20%."""
    pct = session.scalar(select(Goal.relative_pct).join(Metric, Metric.id == Goal.metric_id)
                   .where(Goal.team_id == team_id, Goal.status == "active", Goal.basis == "relative",
                          Goal.user_id.is_(None), Metric.code == METRIC, Goal.relative_pct.is_not(None))
                   .order_by(Goal.id.desc()).limit(1))
    return float(pct) if pct is not None else SEED_PCT


def compare(session, team_id: int) -> list[ActivityRow]:
    """Every activity of the team in date order, each with the previous one that has a result."""
    pct = target_pct(session, team_id)
    out: list[ActivityRow] = []
    base: Activity | None = None
    for a in session.scalars(select(Activity).where(Activity.team_id == team_id).order_by(Activity.day, Activity.id)):
        target = base.participants * (1 + pct / 100.0) if base is not None else None
        out.append(ActivityRow(a, base, target, pct))
        if a.participants is not None:
            base = a
    return out


def activities_between(session, team_id: int, start: date, end: date) -> list[ActivityRow]:
    """The activities on days in [start, end), compared with their previous ones."""
    return [r for r in compare(session, team_id) if start <= r.activity.day < end]


def latest_result(session, team_id: int, start: date, end: date) -> ActivityRow | None:
    """The last activity with a result on a day in [start, end), compared with the one before it."""
    rows = [r for r in activities_between(session, team_id, start, end) if r.activity.participants is not None]
    return rows[-1] if rows else None


def last_result(session, team_id: int) -> Activity | None:
    """The team's latest activity with a result: the base of the next (以上次活动参与人数为基准)."""
    return session.scalars(select(Activity).where(Activity.team_id == team_id, Activity.participants.is_not(None))
                     .order_by(Activity.day.desc(), Activity.id.desc()).limit(1)).first()


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{fmt.number(round(x, 1))}%"


def _signed(x: float | None) -> str:
    return "—" if x is None else ("+" if x > 0 else "") + _pct(x)


def _count(n: int | None) -> str:
    return "—" if n is None else fmt.number(n)


def _name(a: Activity) -> str:
    return f"#{a.id} {a.name}"


def result_line(r: ActivityRow, lang: str) -> str:
    """'#3 华南展会（12月20日）：参与 120 人，线索 15 条；较上次 #2 春季沙龙（100 人）+20%，目标 120 人，达成 100% ✅'."""
    a = r.activity
    head = t(lang, "activities.line_head", name=_name(a), day=fmt.short_date(a.day, lang))
    if a.participants is None:
        return head + t(lang, "activities.line_no_result")
    text = head + t(lang, "activities.line_result", participants=_count(a.participants))
    if a.leads is not None:
        text += t(lang, "activities.line_leads", leads=_count(a.leads))
    if r.previous is None:
        return text + t(lang, "activities.line_first")
    text += t(lang, "activities.line_vs", previous=_name(r.previous), base=_count(r.previous.participants),
              change=_signed(r.change), pct=fmt.number(r.pct), target=fmt.plan_amount(r.target or 0, "count", lang),
              attainment=_pct(r.attainment))
    return text + (" ✅" if (r.attainment or 0) >= 100 else " ⚠️")


def rows_table(rows: list[ActivityRow], lang: str) -> Table:
    header = tuple(t(lang, f"activities.col_{c}") for c in (
        "id", "name", "day", "budget", "participants", "previous", "change", "target", "attainment", "leads",
        "per_lead"))
    body = []
    for r in rows:
        a = r.activity
        per_lead = (fmt.amount(round(a.budget / a.leads), "CNY", lang) if a.budget and a.leads else "—")
        body.append((f"#{a.id}", a.name, fmt.day(a.day, lang),
                     fmt.amount(a.budget, "CNY", lang) if a.budget is not None else "—",
                     _count(a.participants),
                     _count(r.previous.participants) if r.previous else "—",
                     _signed(r.change),
                     fmt.plan_amount(r.target, "count", lang) if r.target is not None else "—",
                     _pct(r.attainment), _count(a.leads), per_lead))
    return Table(header, tuple(body))


# -- the steps ----------------------------------------------------------------------------------------


def _add(session, req: AddActivity, ctx: Ctx) -> Reply:
    lang = ctx.lang
    row = Activity(team_id=ctx.team_id, name=req.name, day=req.day, budget=req.budget,
                   created_by=ctx.actor.user_id, created_at=ctx.now)
    session.add(row)
    session.flush()
    budget = (t(lang, "activities.budget_part", budget=fmt.amount(req.budget, "CNY", lang))
              if req.budget is not None else "")
    text = t(lang, "activities.added", id=row.id, name=row.name, day=fmt.day(row.day, lang), budget=budget,
             by=mention(ctx.actor.user_id))
    hint = "activities.added_hint" if row.day >= ctx.local_now.date() else "activities.added_hint_past"
    return Reply(parts=(Text(text), Text(t(lang, hint, id=row.id))), private=False, summary=text)


def _load(session, ctx: Ctx, activity_id: int) -> Activity:
    row = None
    if 0 < activity_id <= MAX_ID:
        row = session.scalars(select(Activity).where(Activity.id == activity_id, Activity.team_id == ctx.team_id)
                        .with_for_update()).first()
    if row is None:
        raise UsageError("activities.not_found", id=activity_id, example="activities.example_list")
    return row


def _result(session, req: RecordResult, ctx: Ctx) -> Reply:
    lang = ctx.lang
    row = _load(session, ctx, req.activity_id)
    if row.day > ctx.local_now.date():
        raise Refused("activities.not_yet", id=row.id, name=row.name, day=fmt.day(row.day, lang), example="-")
    again = row.participants is not None
    row.participants = req.participants
    if req.leads is not None or not again:
        row.leads = req.leads
    row.result_by, row.result_at = ctx.actor.user_id, ctx.now
    session.add(row)
    session.flush()
    mine = next(r for r in compare(session, ctx.team_id) if r.activity.id == row.id)
    head = t(lang, "activities.result_corrected" if again else "activities.result_recorded", id=row.id,
             name=row.name)
    return Reply(parts=(Text(head), Text(result_line(mine, lang))), private=False, summary=head)


def _list(session, ctx: Ctx) -> Reply:
    lang = ctx.lang
    rows = compare(session, ctx.team_id)
    if not rows:
        return Reply.text(t(lang, "activities.list_empty"))
    shown = rows[-LIST_LIMIT:]
    title = t(lang, "activities.list_title", team=ctx.team.name, count=len(rows))
    parts: list = [Text(title), rows_table(shown, lang)]
    pct = rows[-1].pct
    parts.append(Text(t(lang, "activities.list_basis", pct=fmt.number(pct))))
    if len(rows) > LIST_LIMIT:
        parts.append(Text(t(lang, "activities.list_more", n=len(rows) - LIST_LIMIT)))
    return Reply(parts=tuple(parts), summary=title.replace("*", ""))
