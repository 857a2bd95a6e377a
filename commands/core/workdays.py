"""Working-day calendars and quiet hours.

`calendar_for(code)`:
- "CN": mainland China's statutory holidays AND make-up working days (调休) from the `chinese_calendar`
  package. Beyond the years it has data for, it falls back to `holidays.country_holidays("CN")` plus
  Saturday/Sunday (make-up days unknown there) and logs one warning per year.
- any other ISO 3166 country code the `holidays` package knows ("US", "GB", "JP"; "US-CA" for a
  subdivision): its public holidays plus the country's weekend (Sat/Sun for most).
- "none": every day is a working day.
An unknown code raises ValueError with a message fit to show to the person who typed it.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

log = logging.getLogger("teambot.workdays")

#: Longest run of non-working days we search through before giving up (the longest real one is ~10).
_MAX_SEARCH_DAYS = 60


class WorkdayCalendar(Protocol):
    code: str

    def is_workday(self, d: date) -> bool: ...

    def next_workday(self, d: date, inclusive: bool = True) -> date: ...

    def previous_workday(self, d: date, inclusive: bool = False) -> date: ...

    def workdays_between(self, a: date, b: date) -> int: ...


class _Base(ABC):
    code: str = ""

    def is_workday(self, d: date) -> bool:
        """Memoised: schedules ask about the same few dates on every tick."""
        try:
            return self._memo[d]
        except AttributeError:
            self._memo: dict[date, bool] = {}
        except KeyError:
            pass
        value = self._compute(d)
        if len(self._memo) > 20_000:
            self._memo.clear()
        self._memo[d] = value
        return value

    @abstractmethod
    def _compute(self, d: date) -> bool:
        """Whether `d` is a working day, uncached."""

    def next_workday(self, d: date, inclusive: bool = True) -> date:
        """`d` itself when it is a working day and inclusive, else the first working day after it."""
        day = d if inclusive else d + timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.code}: no working day within {_MAX_SEARCH_DAYS} days after {d}")

    def previous_workday(self, d: date, inclusive: bool = False) -> date:
        """The last working day before `d` (or `d` itself when inclusive and a working day)."""
        day = d if inclusive else d - timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day -= timedelta(days=1)
        raise ValueError(f"calendar {self.code}: no working day within {_MAX_SEARCH_DAYS} days before {d}")

    def workdays_between(self, a: date, b: date) -> int:
        """How many working days come after `a` up to and including `b` (the half-open range (a, b]).
        0 when b <= a. E.g. a task due on `a` is overdue by workdays_between(a, today) working days."""
        if b <= a:
            return 0
        n = 0
        day = a + timedelta(days=1)
        while day <= b:
            n += self.is_workday(day)
            day += timedelta(days=1)
        return n

    def workdays(self, a: date, b: date) -> int:
        """Working days d with a <= d < b (the half-open range [a, b)); 0 when b <= a. For pace and
        forecasts: the working days of a period, or those left in it."""
        return self.workdays_between(a - timedelta(days=1), b - timedelta(days=1))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


class EveryDay(_Base):
    code = "none"

    def _compute(self, d: date) -> bool:
        return True


class CountryCalendar(_Base):
    """Public holidays from the `holidays` package plus the country's weekend."""

    def __init__(self, code: str, holidays_obj) -> None:
        self.code = code
        self._hol = holidays_obj
        self._weekend = frozenset(getattr(holidays_obj, "weekend", None) or {5, 6})
        self._lock = threading.Lock()

    def _compute(self, d: date) -> bool:
        with self._lock:  # the holidays object fills in years lazily; not thread-safe on its own
            if d in self._hol:
                return False
            extra = getattr(self._hol, "weekend_workdays", None) or ()
            return d.weekday() not in self._weekend or d in extra


@lru_cache(maxsize=1)
def cn_schedule_years() -> range:
    """The years chinese_calendar has the State Council's schedule for (it raises outside them)."""
    import chinese_calendar

    return range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


class ChinaCalendar(_Base):
    """chinese_calendar where it has data (statutory holidays and 调休), else `holidays` + weekends."""

    code = "CN"

    def __init__(self) -> None:
        import chinese_calendar  # local: importing it is cheap but keeps module import light

        self._cc = chinese_calendar
        # The years the package has the State Council's schedule for (it raises outside them).
        self._years = cn_schedule_years()
        self._fallback: CountryCalendar | None = None
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    def _compute(self, d: date) -> bool:
        if d.year in self._years:
            return bool(self._cc.is_workday(d))
        return self._fallback_is_workday(d)

    def _fallback_is_workday(self, d: date) -> bool:
        with self._lock:
            if d.year not in self._warned:
                self._warned.add(d.year)
                log.warning("chinese_calendar has no data for %s; using the holidays package and weekends "
                            "(make-up working days 调休 unknown). Upgrade chinese-calendar when the State "
                            "Council publishes the %s schedule.", d.year, d.year)
            if self._fallback is None:
                import holidays

                self._fallback = CountryCalendar("CN", holidays.country_holidays("CN"))
        return self._fallback.is_workday(d)


def _supported() -> dict[str, list[str]]:
    import holidays

    return holidays.list_supported_countries()


@lru_cache(maxsize=128)
def _calendar_for(code: str) -> WorkdayCalendar:
    if code == "NONE":
        return EveryDay()
    if code == "CN":
        return ChinaCalendar()
    import holidays

    country, _, subdiv = code.partition("-")
    supported = _supported()
    if country not in supported:
        raise ValueError(
            f"unknown calendar '{code}': use CN (China, with make-up working days), none (every day "
            f"is a working day) or a country code such as US, GB, JP, SG, DE")
    if subdiv and subdiv not in supported[country]:
        sample = ", ".join(f"{country}-{s}" for s in supported[country][:5])
        raise ValueError(f"unknown calendar '{code}': {country} has no subdivision {subdiv}"
                         + (f" (e.g. {sample})" if sample else ""))
    obj = holidays.country_holidays(country, subdiv=subdiv or None)
    return CountryCalendar(code, obj)


def calendar_for(code: str | None) -> WorkdayCalendar:
    """The working-day calendar for a team's `calendar` setting. Raises ValueError for unknown codes."""
    norm = (code or "").strip().upper()
    if not norm:
        raise ValueError("empty calendar: use CN, none or a country code such as US")
    return _calendar_for(norm)


def validate_calendar(code: str) -> str:
    """The normalised code ("cn" -> "CN", "None" -> "none"), or ValueError. For config and /team setup."""
    calendar_for(code)
    norm = code.strip().upper()
    return "none" if norm == "NONE" else norm


# --- quiet hours -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which nothing is delivered; a message due inside them waits for their end.
    start > end spans midnight (the default 21:00-08:00). start == end means no quiet hours."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """"21:00-08:00" -> QuietHours; "" / "off" / None -> None (no quiet hours)."""
        if text is None or text.strip().lower() in ("", "off", "none"):
            return None
        try:
            a, b = (x.strip() for x in text.split("-"))
            return cls(time.fromisoformat(a), time.fromisoformat(b))
        except ValueError:
            raise ValueError(f"quiet hours '{text}': expected HH:MM-HH:MM, e.g. 21:00-08:00") from None

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, at: datetime, tz: ZoneInfo) -> datetime:
        """`at` (aware) unchanged when outside quiet hours in `tz`, else the end of those quiet hours (UTC)."""
        local = at.astimezone(tz)
        if not self.contains(local.time().replace(tzinfo=None)):
            return at.astimezone(UTC)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        end = datetime.combine(day, self.end).replace(tzinfo=tz)
        return end.astimezone(UTC)


DEFAULT_QUIET_HOURS = QuietHours()
