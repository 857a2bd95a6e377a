"""/teambot: help, and a person's own language, time zone and away dates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from commands import export
from commands.core import fmt, parsing, router
from commands.core.context import Ctx
from commands.core.errors import UsageError
from commands.core.keywords import keyword
from commands.core.people import BAD_ZONE
from commands.core.reply import Reply, Text
from commands.i18n import normalize_lang, t
from storage.models import UserPref
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class SetLang:
    lang: str


@dataclass(frozen=True)
class SetTz:
    tz: str


@dataclass(frozen=True)
class ExportData:
    kind: str
    period: str


@dataclass(frozen=True)
class SetAway:
    #: Local date after the last away day; None clears it.
    until: datetime | None


KEYWORDS = {
    "help": ("help", "帮助", "?", "？"),
    "lang": ("lang", "language", "语言"),
    "tz": ("tz", "timezone", "时区"),
    "away": ("away", "休假", "请假", "外出"),
    "export": ("export", "导出"),
}


def parse(text: str, ctx: Ctx):
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    kw = keyword(head, KEYWORDS) if head else "help"
    if kw == "help":
        return ShowHelp()
    if kw == "lang":
        lang = normalize_lang(rest)
        if lang is None:
            raise UsageError("settings.bad_lang", value=rest, example="settings.example_lang")
        return SetLang(lang)
    if kw == "tz":
        try:
            ZoneInfo(rest)
        except BAD_ZONE:
            raise UsageError("settings.bad_tz", tz=rest, example="settings.example_tz") from None
        return SetTz(rest)
    if kw == "away":
        if rest.casefold() in ("off", "back", "cancel", "取消", "结束", "回来了"):
            return SetAway(None)
        for prefix in ("until ", "till ", "到", "至", "直到"):
            if rest.casefold().startswith(prefix):
                rest = rest[len(prefix):].strip()
                break
        if not rest:
            raise UsageError("settings.away_date_required", example="settings.example_away")
        last_day = parsing.parse_due(rest, ctx.now, ctx.tz, default_time=time(23, 59),
                                     calendar=ctx.calendar).date()
        back = datetime.combine(last_day + timedelta(days=1), time(0), ctx.tz)
        return SetAway(back)
    if kw == "export":
        kind, _, period = rest.partition(" ")
        if export.kind_of(kind) is None:
            raise UsageError("export.unknown_kind", kind=kind, example="export.example")
        return ExportData(kind, period.strip())
    raise UsageError("settings.unknown_keyword", word=head, example="settings.example")


def run(req, uow: UnitOfWork, ctx: Ctx) -> Reply:
    if isinstance(req, ShowHelp):
        return help_reply(ctx.lang)
    if isinstance(req, ExportData):
        return export.export(req.kind, req.period, uow, ctx)
    session = uow.session
    pref = session.get(UserPref, (ctx.actor.platform, ctx.actor.user_id))
    if pref is None:
        pref = UserPref(platform=ctx.actor.platform, user_id=ctx.actor.user_id, updated_at=ctx.now)
    pref.updated_at = ctx.now
    if isinstance(req, SetLang):
        pref.lang = req.lang
        session.add(pref)
        return Reply.text(t(req.lang, "settings.lang_set"))
    if isinstance(req, SetTz):
        pref.tz = req.tz
        session.add(pref)
        now_there = ctx.now.astimezone(ZoneInfo(req.tz))
        return Reply.text(t(ctx.lang, "settings.tz_set", tz=req.tz, now=now_there.strftime("%H:%M")))
    pref.away_until = req.until
    session.add(pref)
    if req.until is None:
        return Reply.text(t(ctx.lang, "settings.away_cleared"))
    last_day = (req.until - timedelta(days=1)).date()
    return Reply.text(t(ctx.lang, "settings.away_set", last_day=fmt.day(last_day, ctx.lang)))


def help_reply(lang: str) -> Reply:
    lines = [t(lang, "settings.help_title")]
    for route in router.ROUTES:
        # Each feature's catalog carries its own help line, so a new command needs no edit here.
        lines.append(t(lang, f"{route.module.rsplit('.', 1)[-1]}.help"))
    text = "\n".join(lines)
    return Reply(parts=(Text(text),), summary=lines[0])
