"""Running a /goal request: set with the SMART check, list, review, adjust, history."""
from __future__ import annotations

import math
from datetime import UTC, datetime, time

from sqlalchemy import func, select

from commands import activities
from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.metrics import metric_name, names_of, team_metrics
from commands.core.people import mention, require_member, resolve_member
from commands.core.reply import Actions, Button, Reply, Table, Text
from commands.goals.attainment import pct, progress_of
from commands.goals.parse import (
    ACHIEVABLE_FACTOR,
    LOOKBACK,
    MAX_ID,
    AdjustGoal,
    GoalHistory,
    ListGoals,
    ReviewGoals,
    SetGoal,
    _day_end,
)
from commands.goals.windows import Window, label, previous_windows
from commands.i18n import t
from storage import queries
from storage.models import Goal, GoalRevision, Metric, Team
from storage.uow import UnitOfWork


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example("goals.example") from None


def _run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    session = uow.session
    if isinstance(req, SetGoal):
        return _set(session, req, ctx)
    if isinstance(req, ListGoals):
        return _list(session, ctx)
    if isinstance(req, ReviewGoals):
        return review(session, ctx.team, ctx.now, ctx.tz, ctx.lang)
    goal = _load(session, ctx, req.goal_id)
    if isinstance(req, GoalHistory):
        return _history(session, goal, ctx)
    return _adjust(session, req, goal, ctx)


def _is_manager(ctx: Ctx) -> bool:
    return ctx.role == "manager"


def _load(session, ctx: Ctx, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id) if 0 < goal_id <= MAX_ID else None
    if goal is None or goal.team_id != ctx.team_id or goal.status != "active":
        raise UsageError("goals.not_found", id=goal_id, example="goals.example_list")
    return goal


def _resolve_metric(metrics: list[Metric], words: str | None) -> Metric | None:
    if not words:
        return None
    key = words.strip().casefold()
    found = next((m for m in metrics if key in (n.casefold() for n in names_of(m))), None)
    if found is None:
        # '销售额 翻倍增长': a metric followed (or preceded) by words that mean nothing here. Name them
        # rather than call the whole phrase an unknown metric.
        parts = words.split()
        for n in range(len(parts) - 1, 0, -1):
            for head, rest in ((parts[:n], parts[n:]), (parts[-n:], parts[:-n])):
                metric = _resolve_metric(metrics, " ".join(head))
                if metric is not None:
                    raise UsageError("goals.unknown_words", words=" ".join(rest), metric=metric_name(metric, "zh"),
                                     example="goals.example_set")
    return found


def smart_check(req: SetGoal, metric: Metric | None) -> list[str]:
    """The SMART letters a goal request misses: "SR" (no known metric), "M" (no number), "T" (no time)."""
    missing = []
    if metric is None:
        missing.append("SR")
    if req.target is None:
        missing.append("M")
    if not req.timed:
        missing.append("T")
    return missing


def _smart_refusal(missing: list[str], req: SetGoal, metrics: list[Metric], lang: str) -> UsageError:
    known = ", ".join(f"{m.code} / {m.name_zh}" for m in metrics)
    lines = []
    for letter in missing:
        if letter == "SR":
            key = "goals.smart_sr_unknown" if req.metric else "goals.smart_sr"
            lines.append(t(lang, key, metric=req.metric or "", known=known))
        else:
            lines.append(t(lang, f"goals.smart_{letter.lower()}"))
    letters = "/".join("S/R" if x == "SR" else x for x in missing)
    return UsageError("goals.not_smart", letters=letters, details="\n".join(lines), example="goals.example_set")


def _scope(session, req: SetGoal, ctx: Ctx) -> tuple[str | None, str]:
    """-> (user id or None for the team, how to name it)."""
    if req.team:
        if not _is_manager(ctx):
            raise Refused("goals.team_needs_manager", example="-")
        return None, t(ctx.lang, "goals.the_team")
    if req.who is None:
        return ctx.actor.user_id, mention(ctx.actor.user_id)
    try:
        user_id = resolve_member(session, ctx, req.who).user_id
    except UsageError as e:
        if not _is_manager(ctx):
            raise Refused("goals.others_need_manager", example="-") from None
        raise UsageError("goals.not_a_member", who=e.args_["who"], example="goals.example_set") \
            .suggesting(e.suggestion) from None
    if user_id != ctx.actor.user_id and not _is_manager(ctx):
        raise Refused("goals.others_need_manager", example="-")
    return user_id, mention(user_id)


def _ask_scope(req: SetGoal, ctx: Ctx) -> Reply:
    """A manager's goal without `for`: for the team or for themselves? Two buttons, nothing written."""
    lang = ctx.lang
    text = (ctx.inv.text or "").strip()
    for_team, for_me = ("为团队", "为我") if lang == "zh" else ("for team", "for me")
    question = t(lang, "goals.ask_scope")
    return Reply(parts=(Text(question), Actions((
        Button(t(lang, "goals.button_for_team"), "goal.scope", "team", command=f"/goal {text} {for_team}",
               style="primary"),
        Button(t(lang, "goals.button_for_me"), "goal.scope", "me", command=f"/goal {text} {for_me}"),
    ))), summary=question)


def _whole_count(metric: Metric, value: float, lang: str, example: str) -> None:
    if metric.unit == "count" and not float(value).is_integer():
        raise UsageError("goals.count_whole", metric=metric_name(metric, lang), value=fmt.number(value),
                         example=example)


def _set(session, req: SetGoal, ctx: Ctx) -> Reply:
    lang, tz, team = ctx.lang, ctx.tz, ctx.team
    metrics = team_metrics(session, team.id)
    metric = _resolve_metric(metrics, req.metric)
    missing = smart_check(req, metric)
    if missing:
        raise _smart_refusal(missing, req, metrics, lang)
    if req.who is None and not req.team and not req.mine and _is_manager(ctx):
        return _ask_scope(req, ctx)
    user_id, who = _scope(session, req, ctx)
    name = metric_name(metric, lang)

    w, kind, start, end = _goal_window(req, ctx)
    notes: list[str] = []
    base = pct_value = None
    if req.relative:
        target, base, pct_value, note = _relative_target(session, req, metric, w, user_id, ctx)
        notes.append(note)
    else:
        target = req.target.value
        if req.target.percent and metric.unit != "%":
            raise UsageError("goals.percent_not_allowed", metric=name, example="goals.example_set")
        if metric.unit == "%" and not 0 < target <= 100:
            raise UsageError("goals.percent_range", metric=name, example="goals.example_set")
        _whole_count(metric, target, lang, "goals.example_set")

    dup = _same_goal(session, team.id, metric.id, user_id, kind, bool(req.recurring), start, end)
    if dup is not None:
        if abs(dup.target - target) < 1e-6 * max(1.0, abs(target)):
            return Reply.text(t(lang, "goals.exists_same", id=dup.id, who=who, metric=name,
                                target=fmt.plan_amount(dup.target, metric.unit, lang), period=label(dup, tz, lang)))
        typed = req.typed if not req.relative else fmt.number(round(target)).replace(",", "")
        raise Refused("goals.exists", id=dup.id, target=typed, example="goals.example_adjust")

    # Achievable: compare with the best of the last LOOKBACK periods.
    history = [queries.actuals(session, team.id, [metric], p.start, p.end, user_id=user_id).get(metric.id)
               for p in previous_windows(w, tz, LOOKBACK)]
    best = max((x for x in history if x is not None), default=None)
    if best is not None and best > 0 and target > ACHIEVABLE_FACTOR * best:
        notes.append(t(lang, "goals.warn_achievable", factor=fmt.number(round(target / best, 1)),
                       best=fmt.amount(best, metric.unit, lang), n=LOOKBACK))

    goal = Goal(team_id=team.id, metric_id=metric.id, user_id=user_id, target=target, kind=kind,
                recurring=bool(req.recurring), period_start=start, period_end=end,
                basis="relative" if req.relative else "absolute", relative_pct=pct_value, base_value=base,
                created_by=ctx.actor.user_id, created_at=ctx.now, updated_at=ctx.now)
    session.add(goal)
    session.flush()
    shown = fmt.plan_amount(target, metric.unit, lang) if req.relative else fmt.amount(target, metric.unit, lang)
    text = t(lang, "goals.set_done", id=goal.id, who=who, metric=name, target=shown, period=label(goal, tz, lang))
    return Reply(parts=tuple(Text(x) for x in [text, *notes]), private=False, summary=text)


def _goal_window(req: SetGoal, ctx: Ctx) -> tuple[Window, str, datetime | None, datetime | None]:
    """The goal's current window, and its kind and period as stored (a recurring goal stores none)."""
    if req.recurring:
        cur = parsing.period_of(req.recurring, ctx.now, ctx.tz)
        return Window(cur.start, cur.end, cur.kind), req.recurring, None, None
    if req.period is not None:
        w = Window(req.period.start, req.period.end, req.period.kind)
        return w, w.kind, w.start, w.end
    start = datetime.combine(ctx.local_now.date(), time(0), ctx.tz)
    end = _day_end(req.deadline, ctx)
    return Window(start, end, "deadline"), "deadline", start, end


def _relative_target(session, req: SetGoal, metric: Metric, w: Window, user_id: str | None, ctx: Ctx):
    """A change on the previous period ('+20%', '增长20万') as a target: -> (target, the previous
    period's actual, the change in percent, the line echoing how it was worked out)."""
    lang, tz, team = ctx.lang, ctx.tz, ctx.team
    name = metric_name(metric, lang)
    prev = previous_windows(w, tz, 1)[0]
    base = queries.actuals(session, team.id, [metric], prev.start, prev.end, user_id=user_id).get(metric.id)
    prev_label = fmt.period_label(prev.period(), lang)
    last = activities.last_result(session, team.id) if metric.code == activities.METRIC and user_id is None else None
    if last is not None:  # 以上次活动参与人数为基准: the base is the previous activity, not the period
        base, prev_label = float(last.participants), t(lang, "activities.goal_base", name=f"#{last.id} {last.name}")
    if not base or base <= 0:
        raise UsageError("goals.relative_no_base", metric=name, period=prev_label,
                         example="goals.example_set")
    if req.delta:  # '增长20万': the previous period plus that amount
        _whole_count(metric, abs(req.target.value), lang, "goals.example_relative")
        target = base + req.target.value
        pct_value = 100.0 * req.target.value / base
        change = ("+" if req.target.value >= 0 else "-") + fmt.plan_amount(abs(req.target.value), metric.unit, lang)
    else:
        pct_value = req.target.value
        target = base * (1 + pct_value / 100.0)
        change = ("+" if pct_value >= 0 else "") + pct(pct_value)
    if metric.unit == "count":
        # Counts are whole: a growth target rounds up to the next whole one, a cut to the nearest.
        target = float(math.ceil(target - 1e-9) if pct_value >= 0 else round(target))
    elif metric.unit.upper() == "CNY":
        target = float(round(target))  # no cents in a plan
    if target <= 0:
        raise UsageError("goals.target_positive", example="goals.example_set")
    note = t(lang, "goals.relative_echo", target=fmt.plan_amount(target, metric.unit, lang),
             base=fmt.amount(base, metric.unit, lang), period=prev_label, change=change)
    return target, base, pct_value, note


def _same_goal(session, team_id: int, metric_id: int, user_id: str | None, kind: str, recurring: bool,
               start: datetime | None, end: datetime | None) -> Goal | None:
    """The active goal with the same scope, metric and period (recurring kind, calendar period or
    deadline day) as the one being set, if any. Periods are compared as instants, so the same quarter
    typed as 2026-Q4 or 本季度 is the same goal whatever the database does with time zones."""
    q = select(Goal).where(Goal.team_id == team_id, Goal.metric_id == metric_id, Goal.kind == kind,
                           Goal.status == "active", Goal.recurring.is_(recurring),
                           Goal.user_id.is_(None) if user_id is None else Goal.user_id == user_id)
    for g in session.scalars(q.order_by(Goal.id)):
        if recurring:
            return g
        if kind == "deadline" and _instant(g.period_end) == _instant(end):
            return g
        if kind != "deadline" and _instant(g.period_start) == _instant(start):
            return g
    return None


def _instant(dt: datetime | None):
    if dt is None:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _who(goal: Goal, lang: str) -> str:
    return t(lang, "goals.the_team") if goal.user_id is None else mention(goal.user_id)


def current_goals(session, team_id: int, now: datetime) -> list[Goal]:
    """Active goals that are not over: recurring ones, and those whose period ends after now."""
    q = (select(Goal).where(Goal.team_id == team_id, Goal.status == "active")
         .where((Goal.recurring.is_(True)) | (Goal.period_end > now)))
    rows = list(session.scalars(q))
    rows.sort(key=lambda g: (g.user_id is not None, g.user_id or "", g.metric_id, g.id))
    return rows


def _revisions(session, goal_ids: list[int]) -> dict[int, int]:
    if not goal_ids:
        return {}
    q = (select(GoalRevision.goal_id, func.count()).where(GoalRevision.goal_id.in_(goal_ids))
         .group_by(GoalRevision.goal_id))
    return dict(session.execute(q).all())


def _basis(goal: Goal, metric: Metric, lang: str) -> str:
    if goal.basis != "relative":
        return t(lang, "goals.basis_absolute")
    sign = "+" if (goal.relative_pct or 0) >= 0 else ""
    return t(lang, "goals.basis_relative", change=sign + pct(goal.relative_pct),
             base=fmt.amount(goal.base_value or 0, metric.unit, lang))


def _list(session, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    goals = current_goals(session, ctx.team_id, ctx.now)
    if not goals:
        return Reply.text(t(lang, "goals.list_empty"))
    metrics = {m.id: m for m in team_metrics(session, ctx.team_id)}
    revs = _revisions(session, [g.id for g in goals])
    rows = []
    for g in goals:
        m = metrics[g.metric_id]
        target = fmt.plan_amount(g.target, m.unit, lang) if g.basis == "relative" else fmt.amount(g.target, m.unit, lang)
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), target,
                     label(g, tz, lang), _basis(g, m, lang), str(revs.get(g.id, 0))))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "target", "period", "basis",
                                                        "revisions"))
    title = t(lang, "goals.list_title", team=ctx.team.name, count=len(goals))
    return Reply(parts=(Text(title), Table(header, tuple(rows))), summary=title)


def review_rows(session, team: Team, goals: list[Goal], now: datetime, tz, lang: str) -> list[tuple[str, ...]]:
    metrics = {m.id: m for m in team_metrics(session, team.id)}
    rows = []
    for g in goals:
        m = metrics[g.metric_id]
        w, p = progress_of(session, g, m, team, now, tz)
        if w.start > now:
            continue
        def a(v: float | None, m: Metric = m) -> str:
            return "—" if v is None else fmt.amount(v, m.unit, lang)

        def plan(v: float | None, m: Metric = m) -> str:
            return "—" if v is None else fmt.plan_amount(v, m.unit, lang)

        if p.actual is None and m.aggregation != queries.SUM:
            status = "—"
        elif (p.actual or 0.0) >= p.expected:
            status = t(lang, "goals.on_track")
        else:
            status = t(lang, "goals.behind")
        # The target of a relative goal, what is expected by now and the forecast are planning figures.
        rows.append((f"#{g.id}", _who(g, lang), metric_name(m, lang), label(g, tz, lang),
                     plan(p.target) if g.basis == "relative" else a(p.target),
                     a(p.actual if p.actual is not None or m.aggregation != queries.SUM else 0.0),
                     pct(p.attainment), plan(p.expected), status, plan(p.forecast)))
    return rows


def review_header(lang: str) -> tuple[str, ...]:
    return tuple(t(lang, f"goals.col_{c}") for c in ("id", "who", "metric", "period", "target", "actual",
                                                     "attainment", "expected", "status", "forecast"))


def review(session, team: Team, now: datetime, tz, lang: str) -> Reply:
    rows = review_rows(session, team, current_goals(session, team.id, now), now, tz, lang)
    if not rows:
        return Reply.text(t(lang, "goals.review_empty"))
    title = t(lang, "goals.review_title", team=team.name, day=fmt.day(now.astimezone(tz).date(), lang))
    return Reply(parts=(Text(title), Table(review_header(lang), tuple(rows)),
                        Text(t(lang, "goals.review_note"))), summary=title)


def _adjust(session, req: AdjustGoal, goal: Goal, ctx: Ctx) -> Reply:
    lang = ctx.lang
    if not _is_manager(ctx) and (goal.user_id is None or goal.user_id != ctx.actor.user_id):
        raise Refused("goals.adjust_not_allowed", id=goal.id, example="-")
    metric = session.get(Metric, goal.metric_id)
    name = metric_name(metric, lang)
    if req.target.percent and metric.unit != "%":
        raise UsageError("goals.percent_not_allowed", metric=name, example="goals.example_adjust")
    if metric.unit == "%" and not 0 < req.target.value <= 100:
        raise UsageError("goals.percent_range", metric=name, example="goals.example_adjust")
    if req.target.value <= 0:
        raise UsageError("goals.target_positive", example="goals.example_adjust")
    _whole_count(metric, req.target.value, lang, "goals.example_adjust")
    old = goal.target
    session.add(GoalRevision(goal_id=goal.id, old_target=old, new_target=req.target.value, reason=req.reason,
                       changed_by=ctx.actor.user_id, changed_at=ctx.now))
    goal.target = req.target.value
    goal.updated_at = ctx.now
    session.add(goal)
    session.flush()
    count = session.scalar(select(func.count()).select_from(GoalRevision).where(GoalRevision.goal_id == goal.id))
    text = t(lang, "goals.adjusted", id=goal.id, who=_who(goal, lang), metric=name,
             old=fmt.amount(old, metric.unit, lang), new=fmt.amount(goal.target, metric.unit, lang),
             reason=req.reason, count=count)
    return Reply.text(text, private=False)


def _history(session, goal: Goal, ctx: Ctx) -> Reply:
    lang, tz = ctx.lang, ctx.tz
    metric = session.get(Metric, goal.metric_id)
    revs = list(session.scalars(select(GoalRevision).where(GoalRevision.goal_id == goal.id)
                          .order_by(GoalRevision.changed_at, GoalRevision.id)))
    first = revs[0].old_target if revs else goal.target
    rows = [(fmt.when(goal.created_at, tz, lang), mention(goal.created_by), "—",
             fmt.amount(first, metric.unit, lang), t(lang, "goals.history_created"))]
    for r in revs:
        rows.append((fmt.when(r.changed_at, tz, lang), mention(r.changed_by),
                     fmt.amount(r.old_target, metric.unit, lang), fmt.amount(r.new_target, metric.unit, lang),
                     r.reason))
    title = t(lang, "goals.history_title", id=goal.id, who=_who(goal, lang), metric=metric_name(metric, lang),
              period=label(goal, tz, lang))
    header = tuple(t(lang, f"goals.col_{c}") for c in ("when", "by", "old", "new", "reason"))
    return Reply(parts=(Text(title), Table(header, tuple(rows))), summary=title)
