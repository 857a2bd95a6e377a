"""`/teambot export <progress|tasks|resources|kpi> [period]`: a CSV file for the caller, privately.

The file is UTF-8 with a byte-order mark ("utf-8-sig"), so Excel opens Chinese text correctly, no
cell of it is a formula (commands/core/csv_safe.py: user text like `=HYPERLINK(...)` reads as text), and it
is written under `folder` (argument), else $TEAMBOT_EXPORT_DIR, else <tmp>/teambot-exports. The reply
carries it as a File part; adapters upload it (Slack: files.uploadV2 to the caller's DM), the
console prints its path.

- progress [period, default this month]: one row per metric value (an entry without values: one row);
- tasks [period: due in it; default every task];
- resources [period: requested in it; default every request] -- a manager, resource_admin or
  performance_admin gets the team's, anyone else their own requests;
- assessments [period, default last month; a month, quarter or year] -- what bonus and promotion
  decisions (绩效奖金、晋升) start from: one row per assessed member with the score that counts, band,
  state, who confirmed it and when, the comment and any objection, and each KPI's attainment x
  weight; a manager or performance_admin gets the team's, anyone else their own row;
- kpi [period, default this month]: the team and each member, per metric: actual, target,
  attainment, previous period, 环比, last year, 同比 (the /kpi numbers, from SQL aggregation).
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from commands import assess, kpi, resources
from commands.core import csv_safe, fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.metrics import metric_name, shown_metrics, team_metrics
from commands.core.people import require_member
from commands.core.reply import File, Outgoing, Reply, Text
from commands.i18n import t
from storage.models import Customer, ProgressEntry, ProgressValue, ResourceRequest, Task
from storage.uow import UnitOfWork

KINDS = {
    "progress": ("progress", "进展", "进度"),
    "tasks": ("tasks", "task", "任务"),
    "resources": ("resources", "resource", "资源"),
    "kpi": ("kpi", "kpis", "绩效", "指标"),
    "assessments": ("assessments", "assessment", "assess", "考核", "考评"),
    "customers": ("customers", "customer", "客户"),
}
RESOURCE_READERS = ("manager", "resource_admin", "performance_admin")


def export_dir(folder: str | os.PathLike | None = None) -> Path:
    if folder is not None:
        return Path(folder)
    env = os.environ.get("TEAMBOT_EXPORT_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / "teambot-exports"


def kind_of(word: str) -> str | None:
    w = (word or "").strip().casefold()
    return next((k for k, names in KINDS.items() if w in names), None)


def export(kind: str, period_text: str, uow: UnitOfWork, ctx: Ctx, *,
           folder: str | os.PathLike | None = None) -> Reply:
    """Write the CSV and return a private Reply with a File part. Raises UsageError for bad input."""
    require_member(ctx)
    k = kind_of(kind)
    if k is None:
        raise UsageError("export.unknown_kind", kind=kind, example="export.example")
    period = None
    period_text = (period_text or "").strip()
    if period_text:
        try:
            period = parsing.parse_period(period_text, ctx.now, ctx.tz)
        except UsageError as e:
            e.example = "export.example"
            raise
    elif k in ("progress", "kpi"):
        period = parsing.period_of("month", ctx.now, ctx.tz)
    elif k == "assessments":
        period = parsing.previous(parsing.period_of("month", ctx.now, ctx.tz), ctx.tz)
    if k == "assessments" and period.kind not in assess.CONFIRMER:
        raise UsageError("assess.period_kind", example="export.example_assessments")
    session = uow.session
    header, rows = {"progress": _progress, "tasks": _tasks, "resources": _resources, "kpi": _kpi,
                    "assessments": _assessments, "customers": _customers}[k](session, ctx, period)
    out = export_dir(folder)
    out.mkdir(parents=True, exist_ok=True)
    label = period.label if period else "all"
    stamp = ctx.now.astimezone(ctx.tz).strftime("%Y%m%d-%H%M%S")
    path = out / f"teambot-{k}-team{ctx.team_id}-{label}-{stamp}-{ctx.actor.user_id[:16]}.csv"
    csv_safe.write(path, header, rows)
    what = t(ctx.lang, f"export.kind_{k}")
    scope = fmt.period_label(period, ctx.lang) if period else t(ctx.lang, "export.all_time")
    text = t(ctx.lang, "export.done", what=what, period=scope, rows=len(rows))
    title = f"{ctx.team.name} {what} {scope}.csv"
    file = File(path=str(path), title=title, mime="text/csv")
    # A private reply cannot carry a file on every platform (Slack's ephemeral messages can't), so the
    # file also goes to the caller's DM through the outbox, where the sender uploads it.
    ctx.send(Outgoing(destination=f"user:{ctx.actor.user_id}", reply=Reply(parts=(Text(text), file),
                                                                          summary=text)))
    return Reply(parts=(Text(text), file), private=True, summary=text)


def _local(dt: datetime | None, ctx: Ctx) -> str:
    return "" if dt is None else dt.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:.4f}".rstrip("0").rstrip(".")


def _yes_no(flag: bool, ctx: Ctx) -> str:
    return t(ctx.lang, "export.yes" if flag else "export.no")


def _unit(unit: str, ctx: Ctx) -> str:
    """The catalog's word for the units the bot knows ('元', '个'); a team's own unit as they wrote it."""
    key = {"CNY": "cny", "count": "count", "%": "percent"}.get(unit)
    return t(ctx.lang, f"export.unit_{key}") if key else unit


def _h(ctx: Ctx, *cols: str) -> list[str]:
    return [t(ctx.lang, f"export.col_{c}") for c in cols]


def _progress(session, ctx: Ctx, period):
    metrics = {m.id: m for m in team_metrics(session, ctx.team_id)}
    q = (select(ProgressEntry, ProgressValue)
         .join(ProgressValue, ProgressValue.entry_id == ProgressEntry.id, isouter=True)
         .where(ProgressEntry.team_id == ctx.team_id, ProgressEntry.created_at >= period.start,
                ProgressEntry.created_at < period.end)
         .order_by(ProgressEntry.created_at, ProgressEntry.id, ProgressValue.id))
    rows = []
    for e, v in session.execute(q.execution_options(yield_per=1000)):
        m = metrics.get(v.metric_id) if v is not None else None
        rows.append([_local(e.created_at, ctx), e.user_id, e.note, _yes_no(e.is_blocker, ctx),
                     m.code if m else "", metric_name(m, ctx.lang) if m else "", _num(v.value) if v else "",
                     _unit(m.unit, ctx) if m else ""])
    return _h(ctx, "time", "user", "note", "blocker", "metric_code", "metric", "value", "unit"), rows


def _tasks(session, ctx: Ctx, period):
    q = select(Task).where(Task.team_id == ctx.team_id)
    if period is not None:
        q = q.where(Task.due_at >= period.start, Task.due_at < period.end)
    rows = [[str(x.id), x.title, x.assignee, x.created_by, _local(x.due_at, ctx),
             t(ctx.lang, f"tasks.status_{x.status}"), x.note,
             _local(x.created_at, ctx), _local(x.done_at, ctx)]
            for x in session.scalars(q.order_by(Task.due_at, Task.id))]
    return _h(ctx, "id", "title", "assignee", "created_by", "due", "status", "note", "created", "done"), rows


def _resources(session, ctx: Ctx, period):
    q = select(ResourceRequest).where(ResourceRequest.team_id == ctx.team_id)
    if ctx.role not in RESOURCE_READERS:
        q = q.where(ResourceRequest.requester == ctx.actor.user_id)
    if period is not None:
        q = q.where(ResourceRequest.created_at >= period.start, ResourceRequest.created_at < period.end)
    rows = [[str(r.id), r.requester, resources.type_name(r.type, ctx.lang), _num(r.amount), _num(r.allocated_amount),
             r.purpose, _local(r.needed_by, ctx), resources.state_name(r.state, ctx.lang), _local(r.created_at, ctx),
             _local(r.updated_at, ctx)]
            for r in session.scalars(q.order_by(ResourceRequest.created_at, ResourceRequest.id))]
    return _h(ctx, "id", "requester", "type", "amount", "allocated", "purpose", "needed_by", "state", "created",
              "updated"), rows


def _kpi(session, ctx: Ctx, period):
    team = ctx.team
    metrics = shown_metrics(session, team.id)
    rows = []
    scopes = [(None, t(ctx.lang, "export.team"))] + [(m.user_id, m.display_name or m.user_id)
                                                       for m in kpi.members(session, team.id)]
    for user_id, name in scopes:
        for r in kpi.kpi_rows(session, team, user_id, period, ctx.now, ctx.tz, metrics):
            rows.append([user_id or "", name, r.metric.code, metric_name(r.metric, ctx.lang), _unit(r.metric.unit, ctx),
                         _num(r.actual), _num(r.target), _num(None if r.attainment is None else round(r.attainment, 1)),
                         _num(r.previous), _num(None if r.change is None else round(r.change, 1)),
                         _num(r.last_year), _num(None if r.yoy is None else round(r.yoy, 1))])
    return _h(ctx, "user", "name", "metric_code", "metric", "unit", "actual", "target", "attainment",
              "previous", "change", "last_year", "yoy"), rows


def _assessments(session, ctx: Ctx, period):
    team = ctx.team
    metrics = team_metrics(session, team.id)
    sep = "；" if ctx.lang == "zh" else "; "
    rows = []
    for m in assess.assessed_members(session, team, period):
        if ctx.role not in assess.READERS and m.user_id != ctx.actor.user_id:
            continue
        record = assess.find(session, team.id, m.user_id, period.label)
        stored = assess.Sheet.from_json(record.sheet) if record else None
        sheet = stored or assess.compute(session, team, m.user_id, period, ctx.now, ctx.tz, metrics)
        score = assess.final_score(record) if record else sheet.score
        details = sep.join(f"{x.name(ctx.lang)} {_num(None if x.attainment is None else round(x.attainment, 1))}%"
                           f"×{_num(None if x.weight is None else round(x.weight, 1))}%"
                           for x in sheet.lines)
        rows.append([m.user_id, m.display_name or m.user_id, t(ctx.lang, f"roles.{m.role}.name"), period.label,
                     _num(None if score is None else round(score, 1)), assess.band(score),
                     _num(None if sheet.score is None else round(sheet.score, 1)),
                     _num(record.override if record else None), assess.status_name(record, ctx.lang),
                     record.confirmed_by if record else "", _local(record.confirmed_at, ctx) if record else "",
                     record.comment if record else "", record.response if record else "", details])
    return _h(ctx, "user", "name", "role", "period", "score", "band", "computed", "override", "status",
              "confirmed_by", "confirmed_at", "comment", "objection", "details"), rows


def _customers(session, ctx: Ctx, period):
    """The customers the caller may see (a rep: their own and the pool), phone numbers as /customer show
    gives them (masked unless the caller owns the customer or manages the team). The headers are the
    ones `teambot import customers` reads, so a sheet exported from one team imports into another."""
    from commands.customers.access import may_see, phone_for
    from commands.customers.stages import stage_name

    q = select(Customer).where(Customer.team_id == ctx.team_id)
    if period is not None:
        q = q.where(Customer.created_at >= period.start, Customer.created_at < period.end)
    rows = [[str(c.id), c.name, c.contact, phone_for(c, ctx), stage_name(c.stage, ctx.lang),
             c.owner_id or t(ctx.lang, "export.pool"), c.source, _num(c.amount), c.lost_reason,
             _local(c.last_followup_at, ctx), _local(c.created_at, ctx)]
            for c in session.scalars(q.order_by(Customer.id).execution_options(yield_per=1000)) if may_see(c, ctx)]
    return _h(ctx, "id", "customer", "contact", "phone", "stage", "owner", "source", "deal_amount", "lost_reason",
              "last_followup", "created"), rows
