"""/followup (跟进): log a follow-up of a customer, and plan the next one.

    /followup <customer> <how> <note> [next <date>]     /跟进 杭州云帆 拜访 确认了采购预算 下次 下周三
        how: call 电话, visit 拜访, wechat 微信, email 邮件, meeting 会议
        next: next, next:, 下次, 下次跟进 — the owner gets a DM at 09:00 that day (reminders job)
/followup snooze <customer> [to <date>]              /跟进 推迟 杭州云帆 [到 下周一]
    the pending reminder moves to that day (default: the next working day)

A follow-up is activity: the customer's pool clock starts again. A visit (拜访) also counts 1 in the
team's `visits` metric, as a progress entry of the person who logged it. Logging a follow-up settles
the reminders it answers: with a new next date the earlier pending one is replaced (cancelled);
without, earlier pending ones due by today are done.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select, update

from commands.core import fmt, parsing
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.people import mention, require_member
from commands.core.reply import Reply, Text
from commands.customers import access
from commands.customers.form import FOLLOWUP_FORM as FORM  # noqa: F401 - the router reads it
from commands.customers.notify import dm
from commands.customers.parse import MAX_REASON, Ref, take_ref
from commands.customers.stages import HOWS, how_name, how_of
from commands.i18n import t
from storage.models import FollowUp, Metric, ProgressEntry, ProgressValue
from storage.uow import UnitOfWork

MAX_NOTE = 2000
_NEXT = re.compile(r"(?:(?<!\S)(?:next(?:\s+follow-?up)?|then)(?=[\s:]|$)|下次跟进|下一次|下次|下回)\s*:?\s*", re.IGNORECASE)
_TRIM = " \t\n,，;；、。"
#: The hour of the due day the owner hears of it (the reminders job reads next_on and sends then).
REMIND_AT = "09:00"


@dataclass(frozen=True)
class SnoozeFollowUp:
    """`/followup snooze <customer> [to <date>]`: its pending reminder moves to that day (default: the
    next working day) and stays pending."""
    ref: Ref
    until: date | None = None


SNOOZE_WORDS = ("snooze", "later", "推迟", "稍后", "延后", "改天", "延期")


@dataclass(frozen=True)
class LogFollowUp:
    ref: Ref
    how: str
    note: str
    next_on: date | None = None


def parse(text: str, ctx: Ctx) -> LogFollowUp:
    try:
        return _parse(text, ctx)
    except UsageError as e:
        raise e.with_example("followup.example") from None


def _unglue(words: list[str]) -> list[str]:
    """'拜访，确认了预算' / '拜访确认了预算' after the customer: the way of following up runs into the note."""
    if any(how_of(w) for w in words[1:]):
        return words
    cn = sorted((w for ws in HOWS.values() for w in ws if not w.isascii()), key=len, reverse=True)
    for i, w in enumerate(words[1:], start=1):
        head = next((h for h in cn if w.startswith(h) and len(w) > len(h)), None)
        if head is not None:
            return [*words[:i], head, w[len(head):].lstrip("，,:：。、 "), *words[i + 1:]]
    return words


def _parse(text: str, ctx: Ctx) -> LogFollowUp | SnoozeFollowUp:
    words = _unglue(text.split())
    if not words:
        raise UsageError("followup.details_required", id="12")
    if words[0].casefold() in SNOOZE_WORDS:
        return _parse_snooze(" ".join(words[1:]), ctx)
    at = next((i for i in range(1, len(words)) if how_of(words[i])), None)
    if at is not None:
        ref, _ = take_ref(words[0])
        if at > 1:
            ref = Ref(None, " ".join(words[:at]))
        how, rest = how_of(words[at]), " ".join(words[at + 1:])
    elif how_of(words[0]) and len(words) > 1:  # '/followup 电话 云帆 …'
        how = how_of(words[0])
        ref, rest = take_ref(" ".join(words[1:]))
    else:
        ref, rest = take_ref(text)
        if not rest:
            raise UsageError("followup.details_required", id=ref.text.lstrip("#"))
        raise UsageError("followup.how_required", hows=_hows(ctx.lang))
    note, next_on = _take_next(rest, ctx)
    if not note:
        raise UsageError("followup.note_required", how=how_name(how, ctx.lang))
    if len(note) > MAX_NOTE:
        raise UsageError("followup.note_too_long", max=MAX_NOTE)
    return LogFollowUp(ref, how, note, next_on)


def _parse_snooze(rest: str, ctx: Ctx) -> SnoozeFollowUp:
    ref, when = take_ref(rest)
    for prefix in ("to ", "until ", "到", "至", "改到"):
        if when.casefold().startswith(prefix):
            when = when[len(prefix):].strip()
            break
    if not when:
        return SnoozeFollowUp(ref)
    due = parsing.parse_due(when, ctx.now, ctx.tz, default_time=time(23, 59), calendar=ctx.calendar)
    return SnoozeFollowUp(ref, due.astimezone(ctx.tz).date())


def _hows(lang: str) -> str:
    return "、".join(f"{t(lang, f'customers.how_{c}')}" for c in HOWS) if lang == "zh" else ", ".join(HOWS)


def _take_next(rest: str, ctx: Ctx) -> tuple[str, date | None]:
    found = list(_NEXT.finditer(rest))
    if not found:
        return rest.strip(_TRIM), None
    m = found[-1]
    when = rest[m.end():].strip(_TRIM)
    if not when:
        raise UsageError("followup.next_date_required")
    try:
        due = parsing.parse_due(when, ctx.now, ctx.tz, default_time=time(23, 59), calendar=ctx.calendar)
    except UsageError as e:
        raise e.with_example("followup.example") from None
    return rest[:m.start()].strip(_TRIM), due.astimezone(ctx.tz).date()


def run(req: LogFollowUp, uow: UnitOfWork, ctx: Ctx) -> Reply:
    try:
        return _run(req, uow, ctx)
    except UsageError as e:
        raise e.with_example("followup.example") from None


def _snooze(session, req: SnoozeFollowUp, ctx: Ctx) -> Reply:
    c = access.find(session, ctx, req.ref, lock=True)
    access.refuse("followup", c, ctx)
    pending = list(session.scalars(select(FollowUp).where(FollowUp.customer_id == c.id,
                                                          FollowUp.next_state == "pending")))
    if not pending:
        raise UsageError("followup.nothing_to_snooze", id=c.id, name=c.name, example="followup.example")
    today = ctx.local_now.date()
    for f in pending:
        # The working day after the one it was due (or after today, for one already due).
        f.next_on = req.until or ctx.calendar.next_workday(max(today, f.next_on) + timedelta(days=1))
    day = max(f.next_on for f in pending)
    return Reply.text(t(ctx.lang, "followup.snoozed", id=c.id, name=c.name, day=fmt.day(day, ctx.lang),
                        at=REMIND_AT))


def _run(req: LogFollowUp | SnoozeFollowUp, uow: UnitOfWork, ctx: Ctx) -> Reply:
    session, lang, now, me = uow.session, ctx.lang, ctx.now, ctx.actor.user_id
    require_member(ctx)
    if isinstance(req, SnoozeFollowUp):
        return _snooze(session, req, ctx)
    c = access.find(session, ctx, req.ref, lock=True)
    access.refuse("followup", c, ctx)
    _settle(session, c.id, req.next_on, ctx)
    f = FollowUp(team_id=ctx.team_id, customer_id=c.id, by=me, how=req.how, note=req.note, at=now,
                 next_on=req.next_on, next_state="pending" if req.next_on else None)
    if req.how == "visit":
        f.entry_id = _count_visit(session, ctx, c.name, req.note)
    session.add(f)
    c.last_followup_at, c.active_at, c.pool_warned_at = now, now, None
    c.updated_at, c.version = now, (c.version or 0) + 1
    lines = [t(lang, "followup.logged", id=c.id, name=c.name, how=how_name(req.how, lang), note=req.note)]
    if req.next_on is not None:
        lines.append(t(lang, "followup.next_planned", day=fmt.day(req.next_on, lang), at=REMIND_AT,
                       owner=mention(c.owner_id or me)))
        if not ctx.calendar.is_workday(req.next_on):
            lines.append(t(lang, "followup.next_off_day", day=fmt.day(req.next_on, lang),
                           workday=fmt.day(ctx.calendar.next_workday(req.next_on), lang)))
    if f.entry_id is not None:
        lines.append(t(lang, "followup.visit_counted"))
    if c.owner_id and c.owner_id != me:
        dm(session, ctx, c.owner_id, "followup.dm_logged", c, by=mention(me), how="@customers.how_" + req.how,
           note=req.note)
    return Reply.text("\n".join(lines))


def _settle(session, customer_id: int, next_on: date | None, ctx: Ctx) -> None:
    """The reminders this follow-up answers: all pending ones when it plans a new date, else those due."""
    q = update(FollowUp).where(FollowUp.customer_id == customer_id, FollowUp.next_state == "pending")
    if next_on is None:
        q = q.where(FollowUp.next_on <= ctx.local_now.date()).values(next_state="done")
    else:
        q = q.values(next_state="cancelled")
    session.execute(q.execution_options(synchronize_session=False))


def _count_visit(session, ctx: Ctx, name: str, note: str) -> int | None:
    """A visit counts 1 in the team's `visits` metric (a progress entry of the visitor)."""
    metric_id = session.scalar(select(Metric.id).where(Metric.team_id == ctx.team_id, Metric.code == "visits"))
    if metric_id is None:
        return None
    text = t(ctx.team.lang, "followup.visit_entry", name=name, note=note)[:MAX_REASON * 4]
    entry = ProgressEntry(team_id=ctx.team_id, user_id=ctx.actor.user_id, note=text, is_blocker=False,
                          created_at=ctx.now)
    session.add(entry)
    session.flush()
    session.add(ProgressValue(entry_id=entry.id, team_id=ctx.team_id, metric_id=metric_id, user_id=ctx.actor.user_id,
                        value=1.0, created_at=ctx.now))
    return entry.id
