"""Calendar pieces the date and period parsers share: English month names, a date built only when
it exists, week and month boundaries, a wall time in a zone."""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_MON_EN = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))


def _mkdate(y: int, m: int, d: int) -> date | None:
    if not 1900 <= y <= 2999:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    """d at wall time t in tz; a wall time skipped by DST moves forward to a real one."""
    return datetime.combine(d, t, tzinfo=tz).astimezone(UTC).astimezone(tz)
