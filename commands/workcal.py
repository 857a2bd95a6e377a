"""Read-only working-day counts for commands (/kpi pace, /goal forecasts, /agenda dates).

The layer rule is bot -> reminders -> commands -> storage, so commands cannot use
reminders/workdays.py (the scheduler's calendars). This module answers the two questions commands
ask -- "is this a working day?" and "how many working days in [a, b)?" -- from the same packages
and with the same rules:

- "CN": `chinese_calendar` (statutory holidays and make-up working days 调休); for years it has no
  data for, `holidays.country_holidays("CN")` plus Saturday/Sunday;
- any other code the `holidays` package knows ("US", "GB", "US-CA"): its holidays plus its weekend;
- "none" (or an unknown code, so a command never fails over a calendar): every day works.

If reminders/workdays.py moves down into commands/, this module becomes a two-line re-export.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

log = logging.getLogger("teambot.workcal")

_MAX_SEARCH_DAYS = 60


class WorkCalendar:
    def __init__(self, code: str, is_workday: Callable[[date], bool]):
        self.code = code
        self._is_workday = lru_cache(maxsize=4096)(is_workday)

    def is_workday(self, d: date) -> bool:
        return bool(self._is_workday(d))

    def workdays(self, a: date, b: date) -> int:
        """Working days d with a <= d < b (0 when b <= a)."""
        n, d = 0, a
        while d < b:
            n += self.is_workday(d)
            d += timedelta(days=1)
        return n

    def next_workday(self, d: date) -> date:
        """d itself when it is a working day, else the first one after it."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_workday(d):
                return d
            d += timedelta(days=1)
        return d

    def __repr__(self) -> str:
        return f"<WorkCalendar {self.code}>"


def _country(code: str) -> Callable[[date], bool] | None:
    import holidays

    country, _, subdiv = code.partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported or (subdiv and subdiv not in supported[country]):
        return None
    hol = holidays.country_holidays(country, subdiv=subdiv or None)
    weekend = frozenset(getattr(hol, "weekend", None) or {5, 6})
    extra = getattr(hol, "weekend_workdays", None) or ()
    return lambda d: d not in hol and (d.weekday() not in weekend or d in extra)


def _china() -> Callable[[date], bool]:
    import chinese_calendar

    fallback = _country("CN")

    def is_workday(d: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:
            return fallback(d) if fallback else d.weekday() < 5

    return is_workday


@lru_cache(maxsize=64)
def _calendar(code: str) -> WorkCalendar:
    if code == "CN":
        return WorkCalendar(code, _china())
    if code and code != "NONE":
        fn = _country(code)
        if fn is not None:
            return WorkCalendar(code, fn)
        log.warning("unknown calendar %r: counting every day as a working day", code)
    return WorkCalendar("none", lambda d: True)


def calendar_for(code: str | None) -> WorkCalendar:
    return _calendar((code or "none").strip().upper())
