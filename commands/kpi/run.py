"""Running a /kpi request: the KPI table, and adding or listing metrics."""
from __future__ import annotations

from datetime import datetime, timedelta

from commands import goals
from commands.core import fmt, parsing, workdays
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.metrics import metric_name, names_of, team_metrics
from commands.core.people import member_named, mention, require_member, resolve_member
from commands.core.reply import Reply, Table, Text
from commands.core.roles import require_manager
from commands.i18n import t
from commands.kpi import board, weights
from commands.kpi.funnel import SEES_ALL, funnel_parts
from commands.kpi.parse import AddMetric, ListMetrics, keyword_typo
from commands.kpi.rows import Comparison, kpi_rows, kpi_table
from storage.models import Metric
from storage.uow import UnitOfWork

# -- running --------------------------------------------------------------------------------------


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    session = uow.session
    if isinstance(req, AddMetric):
        return _add_metric(session, req, ctx)
    if isinstance(req, ListMetrics):
        return _list_metrics(session, ctx)
    if isinstance(req, (weights.ShowWeights, weights.SetWeights)):
        return weights.run_weights(session, req, ctx)
    lang, tz, team = ctx.lang, ctx.tz, ctx.team
    user_id = None
    scope = t(lang, "kpi.the_team", team=team.name)
    if req.me:
        user_id = ctx.actor.user_id
    elif req.who is not None:
        bare = not req.who.user_id and req.who.raw == req.who.name
        if bare and member_named(session, team.id, req.who.raw) is None:
            # A word that was not a period turns out not to be a member's name either.
            if keyword_typo(req.who.raw):
                raise UsageError("kpi.unknown_keyword", word=req.who.raw, example="kpi.example")
            raise UsageError("kpi.not_person_or_period", value=req.who.raw, example="kpi.example_period")
        user_id = resolve_member(session, ctx, req.who).user_id
    if user_id is not None:
        scope = mention(user_id)
    with_goals = goal_periods(session, team.id, user_id, ctx.now, tz)
    if req.chart:
        period = req.period or (with_goals[0] if with_goals else parsing.period_of("month", ctx.now, tz))
        return board.chart_reply(session, team, period, ctx.now, tz, lang)
    periods = [req.period] if req.period is not None else with_goals or [parsing.period_of("month", ctx.now, tz)]
    parts: list = []
    any_target = False
    for period in periods:
        rows = kpi_rows(session, team, user_id, period, ctx.now, tz)
        any_target = any_target or any(r.target is not None for r in rows)
        parts += _table_parts(rows, period, scope, team, ctx)
    viewer = None if ctx.role in SEES_ALL else ctx.actor.user_id
    parts += funnel_parts(session, team, user_id, ctx.now, tz, lang, viewer=viewer)
    if not any_target:
        elsewhere = [p for p in with_goals if all(p.label != q.label for q in periods)]
        if elsewhere:
            others = ("、" if lang == "zh" else ", ").join(
                t(lang, "kpi.period_with_command", period=fmt.period_label(p, lang), label=p.label) for p in elsewhere)
            parts.append(Text(t(lang, "kpi.targets_elsewhere", period=fmt.period_label(periods[0], lang),
                                others=others)))
        else:
            parts.append(Text(t(lang, "kpi.no_targets")))
    title = parts[0].text
    return Reply(parts=tuple(parts), summary=title)


def _table_parts(rows, period: parsing.Period, scope: str, team, ctx: Ctx) -> list:
    lang, tz = ctx.lang, ctx.tz
    parts: list = [Text(t(lang, "kpi.title", scope=scope, period=fmt.period_label(period, lang))),
                   kpi_table(rows, lang, period.kind)]
    cmp = rows[0].comparison if rows else None
    today_counts = workdays.calendar_for(team.calendar).is_workday(ctx.local_now.date())
    if cmp is not None:
        parts.append(Text(like_for_like_note(cmp, period, lang, tz, today_counts)))
    remaining = rows[0].remaining if rows else 0
    if period.end <= ctx.now:
        parts.append(Text(t(lang, "kpi.period_over")))
    else:
        key = "kpi.remaining" if today_counts else "kpi.remaining_not_today"
        parts.append(Text(t(lang, key, days=remaining, calendar=team.calendar)))
    return parts


def like_for_like_note(cmp: Comparison, period: parsing.Period, lang: str, tz, today_counts: bool) -> str:
    """'截至今日，与上月同期相比：…' naming the days compared."""
    kind = period.kind

    def span(a: datetime, b: datetime) -> str:
        first, last = a.astimezone(tz).date(), (b.astimezone(tz) - timedelta(days=1)).date()
        return t(lang, "kpi.span", first=fmt.short_date(first, lang), last=fmt.short_date(last, lang))

    this = t(lang, f"kpi.kind_this_{kind}")
    return t(lang, "kpi.like_for_like", n=cmp.elapsed, previous=t(lang, f"kpi.kind_previous_{kind}"),
             so_far=t(lang, "kpi.so_far_today" if today_counts else "kpi.so_far", n=cmp.elapsed, this=this),
             this=this, end=t(lang, f"kpi.kind_end_{kind}"),
             previous_span=span(*cmp.previous) if cmp.elapsed else "—",
             last_year_span=span(*cmp.last_year) if cmp.elapsed else "—")


def goal_periods(session, team_id: int, user_id: str | None, now: datetime, tz) -> list[parsing.Period]:
    """The calendar periods of the scope's current goals (a Q4 team goal in December: 2026-Q4),
    shortest first; empty when the scope has none."""
    kinds: dict[str, parsing.Period] = {}
    for g in goals.current_goals(session, team_id, now):
        if g.user_id != user_id or g.kind not in goals.CALENDAR_KINDS:
            continue
        p = parsing.period_of(g.kind, now if g.recurring else g.period_start.astimezone(tz), tz)
        if p.start <= now < p.end:
            kinds.setdefault(p.label, p)
    order = {k: i for i, k in enumerate(goals.CALENDAR_KINDS)}
    return sorted(kinds.values(), key=lambda p: (order[p.kind], p.start))


def _add_metric(session, req: AddMetric, ctx: Ctx) -> Reply:
    require_manager(ctx)
    lang = ctx.lang
    existing = team_metrics(session, ctx.team_id)
    if any(m.code == req.code for m in existing):
        raise Refused("kpi.metric_exists", code=req.code, example="kpi.example_metric_list")
    taken = {n.casefold(): m for m in existing for n in names_of(m)}
    for name in (req.code, req.name_zh, req.name_en, *req.aliases):
        if name.casefold() in taken:
            raise UsageError("kpi.metric_name_taken", name=name, code=taken[name.casefold()].code,
                             example="kpi.example_metric_add")
    m = Metric(team_id=ctx.team_id, code=req.code, name_zh=req.name_zh, name_en=req.name_en, unit=req.unit,
               aggregation=req.aggregation, aliases=",".join(req.aliases))
    session.add(m)
    session.flush()
    text = t(lang, "kpi.metric_added", code=m.code, name=metric_name(m, lang), unit=m.unit,
             aggregation=t(lang, f"kpi.agg_{m.aggregation}"), aliases=", ".join(req.aliases) or "—")
    return Reply.text(text, private=False)


def _list_metrics(session, ctx: Ctx) -> Reply:
    lang = ctx.lang
    metrics = team_metrics(session, ctx.team_id)
    header = tuple(t(lang, f"kpi.col_{c}") for c in ("code", "name_zh", "name_en", "unit", "aggregation",
                                                     "aliases"))
    rows = tuple((m.code, m.name_zh, m.name_en, m.unit, t(lang, f"kpi.agg_{m.aggregation}"), m.aliases or "—")
                 for m in metrics)
    title = t(lang, "kpi.metrics_title", team=ctx.team.name, count=len(metrics))
    return Reply(parts=(Text(title), Table(header, rows)), summary=title)
