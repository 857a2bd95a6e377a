"""A due date on a non-working day, said so: "12月20日 周日，非工作日" with the nearest working days
either side, which a feature offers as buttons (the date typed is kept; moving it is the user's call)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from commands.core import fmt, holidays
from commands.i18n import t


@dataclass(frozen=True)
class OffDay:
    day: date
    before: date
    after: date
    text: str


def off_day(due: datetime, ctx) -> OffDay | None:
    """None when `due` falls on a working day of the team's calendar; else what to tell the user."""
    cal = ctx.calendar
    d = due.astimezone(ctx.tz).date()
    try:
        if cal.is_workday(d):
            return None
        before, after = cal.previous_workday(d), cal.next_workday(d)
    except ValueError:  # a calendar with no working day for weeks around: nothing sensible to offer
        return None
    lang = ctx.lang
    name = holidays.holiday_name(d, lang) if (ctx.calendar_code or "CN").upper() == "CN" else None
    text = t(lang, "core.off_day", day=fmt.month_day(d, lang),
             holiday=t(lang, "core.off_day_holiday", name=name) if name else "",
             before=fmt.month_day(before, lang), after=fmt.month_day(after, lang))
    return OffDay(d, before, after, text)
