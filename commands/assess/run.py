"""Running /assess: the sheet, the team overview, confirmation by the right role, the member's answer."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from commands import goals, kpi
from commands.assess import sheet as sheets
from commands.assess.parse import (
    Acknowledge,
    ConfirmAssessment,
    Object,
    OpenConfirmForm,
    ShowSheet,
)
from commands.core import fmt, forms, parsing
from commands.core.context import Ctx
from commands.core.errors import Refused, UsageError
from commands.core.metrics import team_metrics
from commands.core.people import (
    NAME_IS_ID,
    member_named,
    mention,
    recipient_prefs,
    require_member,
    resolve_member,
)
from commands.core.reply import Actions, Button, Outgoing, Reply, Table, Text
from commands.i18n import t
from storage.models import Assessment, Member, Team
from storage.uow import UnitOfWork

#: Who confirms which assessment (the seed's 考核机制: 每月初 销售经理; 季度末、年度末 绩效管理部).
CONFIRMER = {"month": "manager", "quarter": "performance_admin", "year": "performance_admin"}
#: Who may read every member's sheet (anyone may read their own).
READERS = ("manager", "performance_admin")
#: Roles assessed by default; anyone else is assessed once they have a target of their own or a record.
ASSESSED_ROLES = ("rep", "account_manager", "marketing")
MAX_BUTTONS = 20


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    require_member(ctx)
    session = uow.session
    if isinstance(req, ConfirmAssessment):
        return _confirm(session, req, ctx)
    if isinstance(req, OpenConfirmForm):
        return _form(session, ctx)
    if isinstance(req, (Acknowledge, Object)):
        return _answer(session, req, ctx)
    return _show(session, req, ctx)


# -- helpers --------------------------------------------------------------------------------------


def typed(platform: str, user_id: str) -> str:
    """A member as a button's command names them ('@li' on the console, '<@U1>' elsewhere)."""
    return f"@{user_id}" if platform in NAME_IS_ID else f"<@{user_id}>"


def find(session, team_id: int, user_id: str, label: str) -> Assessment | None:
    return session.scalars(select(Assessment).where(Assessment.team_id == team_id, Assessment.user_id == user_id,
                                              Assessment.period == label)).first()


def final_score(a: Assessment) -> float | None:
    return a.override if a.override is not None else a.computed


def status_name(a: Assessment | None, lang: str) -> str:
    return t(lang, f"assess.status_{a.status if a else 'pending'}")


def assessed_members(session, team: Team, period: parsing.Period) -> list[Member]:
    with_targets = {u for u, _ in goals.user_targets(session, team.id, period)}
    recorded = set(session.scalars(select(Assessment.user_id).where(Assessment.team_id == team.id,
                                                              Assessment.period == period.label)))
    return [m for m in kpi.members(session, team.id)
            if m.role in ASSESSED_ROLES or m.user_id in with_targets or m.user_id in recorded]


def _member(session, ctx: Ctx, who: parsing.Mention) -> Member:
    bare = not who.user_id and who.raw == who.name
    if bare and member_named(session, ctx.team_id, who.raw) is None:
        raise UsageError("assess.not_person", value=who.raw, example="assess.example")
    return resolve_member(session, ctx, who)


def _recipient(session, team: Team, user_id: str) -> tuple[str, ZoneInfo]:
    prefs = recipient_prefs(session, team, [user_id])
    return prefs.lang(user_id), prefs.tz(user_id)


def _by_code(session, team_id: int) -> dict:
    return {m.code: m for m in team_metrics(session, team_id)}


# -- the sheet ------------------------------------------------------------------------------------


def _show(session, req: ShowSheet, ctx: Ctx) -> Reply:
    period = req.period or parsing.period_of("month", ctx.now, ctx.tz)
    reader = ctx.role in READERS
    if req.team or (req.who is None and not req.me and reader):
        if not reader:
            raise Refused("assess.team_readers", example="assess.example")
        return overview(session, ctx.team, period, ctx.now, ctx.tz, ctx.lang, ctx.role, public=False)
    user_id = ctx.actor.user_id
    if req.who is not None:
        user_id = _member(session, ctx, req.who).user_id
        if user_id != ctx.actor.user_id and not reader:
            raise Refused("assess.others_readers", example="assess.example_mine")
    return sheet_reply(session, ctx.team, user_id, period, ctx.now, ctx.tz, ctx.lang, viewer=ctx.actor.user_id)


def sheet_reply(session, team: Team, user_id: str, period: parsing.Period, now: datetime, tz, lang: str, *,
                viewer: str) -> Reply:
    record = find(session, team.id, user_id, period.label)
    stored = sheets.Sheet.from_json(record.sheet) if record else None
    sheet = stored or sheets.compute(session, team, user_id, period, now, tz)
    plabel = fmt.period_label(period, lang)
    title = t(lang, "assess.title", who=mention(user_id), period=plabel)
    parts: list = [Text(title)]
    if not sheet.lines:
        parts.append(Text(t(lang, "assess.no_targets", who=mention(user_id), period=plabel)))
    else:
        parts.append(sheets.table(sheet, lang))
    score = final_score(record) if record else sheet.score
    summary = t(lang, "assess.total", score=sheets.score_text(score), band=sheets.band_label(sheets.band(score), lang))
    if record and record.override is not None:
        summary += t(lang, "assess.overridden", computed=sheets.score_text(record.computed))
    lines = [summary, *sheets.notes(sheet, _by_code(session, team.id), lang)]
    if record is None:
        if period.end > now:
            lines.append(t(lang, "assess.in_progress"))
        lines.append(t(lang, "assess.not_confirmed", role=t(lang, f"roles.{CONFIRMER[period.kind]}.name")))
    else:
        lines.append(_record_line(record, tz, lang))
    parts.append(Text("\n".join(lines)))
    if record and record.user_id == viewer and record.status == "confirmed":
        parts.append(answer_buttons(period.label, lang))
    return Reply(parts=tuple(parts), summary=title)


def _record_line(record: Assessment, tz, lang: str) -> str:
    text = t(lang, f"assess.record_{record.status}", by=mention(record.confirmed_by),
             at=fmt.short_date(record.confirmed_at.astimezone(tz).date(), lang))
    if record.comment:
        text += "\n" + t(lang, "assess.comment_line", comment=record.comment)
    if record.status == "objected" and record.response:
        text += "\n" + t(lang, "assess.objection_line", reason=record.response)
    return text


def answer_buttons(label: str, lang: str) -> Actions:
    return Actions((
        Button(t(lang, "assess.button_ack"), "assess.ack", label, command=f"/assess ack {label}", style="primary"),
        # Needs a reason: on Slack the click opens a form asking for it.
        Button(t(lang, "assess.button_object"), "assess.object", label, command=f"/assess object {label} ",
               style="danger"),
    ))


def overview(session, team: Team, period: parsing.Period, now: datetime, tz, lang: str, role: str | None, *,
             public: bool, only_pending: bool = False, heading: tuple[str, ...] = ()) -> Reply | None:
    """Every assessed member's score, band and state; Confirm buttons for whoever confirms this period."""
    plabel = fmt.period_label(period, lang)
    metrics = team_metrics(session, team.id)
    rows, buttons = [], []
    for m in assessed_members(session, team, period):
        record = find(session, team.id, m.user_id, period.label)
        if only_pending and record is not None:
            continue
        sheet = None if record else sheets.compute(session, team, m.user_id, period, now, tz, metrics)
        score = final_score(record) if record else sheet.score
        b = sheets.band(score)
        rows.append((mention(m.user_id), sheets.score_text(score), sheets.band_label(b, lang),
                     status_name(record, lang)))
        if record is None and role == CONFIRMER[period.kind] and len(buttons) < MAX_BUTTONS:
            buttons.append(Button(t(lang, "assess.button_confirm", who=m.display_name or m.user_id, band=b),
                                  "assess.confirm", f"{period.label} {m.user_id}",
                                  command=f"/assess confirm {period.label} {typed(team.platform, m.user_id)}"))
    if only_pending and not rows:
        return None
    role_name = t(lang, f"roles.{CONFIRMER[period.kind]}.name")
    title = t(lang, "assess.due_title" if heading else "assess.overview_title", team=team.name, period=plabel)
    header = tuple(t(lang, f"assess.col_{c}") for c in ("member", "score", "band", "status"))
    parts: list = [Text(title), *(Text(h) for h in heading)]
    if rows:
        parts.append(Table(header, tuple(rows)))
    else:
        parts.append(Text(t(lang, "assess.nobody")))
    hint = t(lang, "assess.due_hint" if heading else "assess.overview_hint", role=role_name, label=period.label)
    parts.append(Text(hint))
    if buttons:
        parts.append(Actions(tuple(buttons)))
    return Reply(parts=tuple(parts), private=not public, summary=title)


# -- confirming -----------------------------------------------------------------------------------


def _confirm(session, req: ConfirmAssessment, ctx: Ctx) -> Reply:
    period, lang = req.period, ctx.lang
    needed = CONFIRMER[period.kind]
    if ctx.role != needed:
        raise Refused(f"assess.confirm_{period.kind}_role", example="-")
    if period.start > ctx.now:
        raise UsageError("assess.future_period", period=fmt.period_label(period, lang),
                         example="assess.example_confirm")
    member = _member(session, ctx, req.who)
    if member.user_id == ctx.actor.user_id:
        raise Refused("assess.not_yourself", example="-")
    team = ctx.team
    sheet = sheets.compute(session, team, member.user_id, period, ctx.now, ctx.tz)
    if sheet.score is None and req.score is None:
        raise UsageError("assess.nothing_to_score", who=mention(member.user_id),
                         period=fmt.period_label(period, lang), label=period.label,
                         typed=typed(ctx.actor.platform, member.user_id), example="assess.example_confirm")
    record = find(session, team.id, member.user_id, period.label)
    again = record is not None
    if record is None:
        record = Assessment(team_id=team.id, user_id=member.user_id, period=period.label, kind=period.kind,
                            confirmed_by=ctx.actor.user_id, confirmed_at=ctx.now)
    record.computed, record.override = sheet.score, req.score
    record.band = sheets.band(final_score(record))
    record.sheet, record.comment = sheet.to_json(), req.comment
    record.confirmed_by, record.confirmed_at = ctx.actor.user_id, ctx.now
    record.status, record.response, record.responded_at = "confirmed", "", None
    session.add(record)
    session.flush()
    _tell_member(session, team, record, period, ctx)
    score = sheets.score_text(final_score(record))
    text = t(lang, "assess.confirmed_again" if again else "assess.confirmed", who=mention(member.user_id),
             period=fmt.period_label(period, lang), score=score, band=sheets.band_label(record.band, lang))
    if period.end > ctx.now:
        text += "\n" + t(lang, "assess.confirmed_in_progress")
    return Reply(parts=(Text(text), sheets.table(sheet, lang)), summary=text)


def _tell_member(session, team: Team, record: Assessment, period: parsing.Period, ctx: Ctx) -> None:
    lang, tz = _recipient(session, team, record.user_id)
    sheet = sheets.Sheet.from_json(record.sheet)
    plabel = fmt.period_label(period, lang)
    head = t(lang, "assess.dm_confirmed", by=mention(ctx.actor.user_id), team=team.name, period=plabel,
             score=sheets.score_text(final_score(record)), band=sheets.band_label(record.band, lang))
    lines = []
    if record.override is not None:
        lines.append(t(lang, "assess.overridden", computed=sheets.score_text(record.computed)).strip(" ；;()（）"))
    if record.comment:
        lines.append(t(lang, "assess.comment_line", comment=record.comment))
    lines.append(t(lang, "assess.dm_answer", label=period.label))
    parts: list = [Text(head)]
    if sheet and sheet.lines:
        parts.append(sheets.table(sheet, lang))
    parts += [Text("\n".join(lines)), answer_buttons(period.label, lang)]
    ctx.send(Outgoing(destination=f"user:{record.user_id}", reply=Reply(parts=tuple(parts), private=False,
                                                                        summary=head),
                      dedupe_key=f"assessment:{record.id}:confirmed:{record.confirmed_at.isoformat()}"))


# -- the member's answer --------------------------------------------------------------------------


def _answer(session, req, ctx: Ctx) -> Reply:
    lang, team = ctx.lang, ctx.team
    kw = "ack" if isinstance(req, Acknowledge) else "object"
    q = select(Assessment).where(Assessment.team_id == team.id, Assessment.user_id == ctx.actor.user_id)
    if req.period is not None:
        q = q.where(Assessment.period == req.period.label)
    record = session.scalars(q.order_by(Assessment.confirmed_at.desc(), Assessment.id.desc())).first()
    if record is None:
        if req.period is None:
            raise UsageError("assess.none_confirmed", example=f"assess.example_{kw}")
        raise UsageError("assess.not_confirmed_yet", period=fmt.period_label(req.period, lang),
                         example=f"assess.example_{kw}")
    period = parsing.parse_period(record.period, ctx.now, ctx.tz)
    plabel = fmt.period_label(period, lang)
    if kw == "ack":
        if record.status == "acknowledged":
            return Reply.text(t(lang, "assess.already_acknowledged", period=plabel))
        record.status, record.response = "acknowledged", ""
    else:
        if record.status == "acknowledged":
            raise Refused("assess.object_after_ack", period=plabel, example="-")
        record.status, record.response = "objected", req.reason
    record.responded_at = ctx.now
    session.add(record)
    to_lang, _ = _recipient(session, team, record.confirmed_by)
    to_plabel = fmt.period_label(period, to_lang)
    if kw == "ack":
        note = t(to_lang, "assess.dm_acknowledged", who=mention(record.user_id), period=to_plabel)
        parts: list = [Text(note)]
    else:
        note = t(to_lang, "assess.dm_objected", who=mention(record.user_id), team=team.name, period=to_plabel,
                 reason=req.reason)
        again = Button(t(to_lang, "assess.button_review"), "assess.review", f"{record.period} {record.user_id}",
                       command=f"/assess {record.period} {typed(team.platform, record.user_id)}")
        parts = [Text(note), Text(t(to_lang, "assess.dm_objected_hint", label=record.period,
                                    who=typed(team.platform, record.user_id))), Actions((again,))]
    ctx.send(Outgoing(destination=f"user:{record.confirmed_by}", reply=Reply(parts=tuple(parts), private=False,
                                                                             summary=note),
                      dedupe_key=f"assessment:{record.id}:{kw}:{ctx.now.isoformat()}"))
    key = "assess.acknowledged" if kw == "ack" else "assess.objected"
    return Reply.text(t(lang, key, period=plabel, by=mention(record.confirmed_by)))


# -- the confirm form -----------------------------------------------------------------------------


def _form(session, ctx: Ctx) -> Reply:
    if ctx.role not in READERS:
        raise Refused("assess.confirm_any_role", example="-")
    return forms.form_reply("assess", session, ctx)
