"""Due dates and times (EN + ZH): absolute, relative, weekdays, ends of weeks and months, exact moments."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

from commands.core import fmt, holidays, workdays
from commands.core.errors import UsageError
from commands.core.parsing.days import _MON_EN, _MONTHS_EN, _at, _mkdate, _monday, _month_end
from commands.core.parsing.numbers import _CN, _EN_N, _cn_int
from commands.core.parsing.text import _MAX_LEN, _nfkc, _shown

_WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_WEEKDAYS_ZH = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
}
_WD_EN = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"

#: Evening default, as in 'tonight' / '今晚'.
_EVENING = time(20, 0)
_NOON = time(12, 0)
_AMBIGUOUS = object()  # a Chinese hour like '3点' that could be 03:00 or 15:00


@dataclass(frozen=True)
class _Day:
    day: date
    #: Bare weekday: today only while the time is still ahead, otherwise the same day next week.
    roll: bool = False
    #: A time implied by the words themselves ('tonight' -> 20:00), used when no time is written.
    default: time | None = None


# Whole-text date patterns (the text is NFKC-normalized, casefolded and whitespace-collapsed).
_FIXED_DAYS: dict[str, tuple[int, time | None]] = {
    "today": (0, None), "今天": (0, None), "今日": (0, None), "eod": (0, None), "end of day": (0, None),
    "tonight": (0, _EVENING),
    "tomorrow": (1, None), "tmr": (1, None), "tmrw": (1, None), "明天": (1, None), "明日": (1, None),
    "day after tomorrow": (2, None), "the day after tomorrow": (2, None), "后天": (2, None),
    "大后天": (3, None),
    "yesterday": (-1, None), "昨天": (-1, None), "昨日": (-1, None), "前天": (-2, None),
}
_ISO_DATE = re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})")
# '12/20', '12-20', '12.20' and '12、20' (、 is what a Chinese keyboard types for /).
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})[-/.、](?P<d>\d{1,2})")
_YEAR_END = re.compile(r"(?P<y>\d{4})\s*年\s*(?:年\s*)?(?:底|末)|end\s+of\s+(?:the\s+year\s+)?(?P<y2>\d{4})")
_ZH_DATE = re.compile(
    rf"(?:(?P<y>\d{{4}})\s*年|(?P<rel>今年|明年))?\s*(?P<m>{_CN})\s*月\s*(?P<d>{_CN})\s*(?P<suffix>[日号])?"
)
_ZH_DAY_OF_MONTH = re.compile(rf"(?:(?P<which>本月|这个月|下个?月)\s*)?(?P<d>{_CN})\s*[日号]")
_EN_MONTH_DAY = re.compile(rf"(?P<mon>{_MON_EN})\.?\s*(?P<d>\d{{1,2}}){_ORD}(?:(?:,\s*|\s+)(?P<y>\d{{4}}))?")
_EN_DAY_MONTH = re.compile(
    rf"(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\s*(?:of\s+)?(?P<mon>{_MON_EN})\.?(?:(?:,\s*|\s+)(?P<y>\d{{4}}))?"
)
_EN_WEEKDAY = re.compile(rf"(?:(?P<q>next|this|last)\s+)?(?P<wd>{_WD_EN})")
_EN_WEEKDAY_WEEK = re.compile(rf"(?P<wd>{_WD_EN})\s+(?P<q>next|this|last)\s+week")
_ZH_WEEKDAY = re.compile(r"(?P<q>下下个?|下个?|本|这个?|上个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])")
_EN_RELATIVE = re.compile(
    rf"(?:(?:in|within)\s+(?P<n1>{_EN_N})\s+(?P<u1>days?|weeks?|wks?|months?)"
    rf"|(?P<n2>{_EN_N})\s+(?P<u2>days?|weeks?|wks?|months?)\s+(?:from\s+(?:now|today)|later))"
)
_ZH_RELATIVE = re.compile(
    rf"(?P<n>{_CN})\s*(?P<u>个月|个?(?:天|日|周|星期|礼拜))\s*(?:后|以后|之后|内|以内|之内)"
)
_END_OF = {
    "end of month": "month", "end of the month": "month", "eom": "month",
    "月底": "month", "月末": "month", "本月底": "month", "本月末": "month", "这个月底": "month", "这月底": "month",
    "end of next month": "next_month", "下月底": "next_month", "下个月底": "next_month",
    "下月末": "next_month", "下个月末": "next_month",
    "end of week": "week", "end of the week": "week", "eow": "week",
    "end of next week": "next_week",
    "end of year": "year", "end of the year": "year", "eoy": "year",
    "年底": "year", "年末": "year", "今年底": "year", "今年年底": "year", "今年年末": "year",
    "月中": "mid_month", "本月中": "mid_month", "这个月中": "mid_month", "月中旬": "mid_month",
    "下月中": "next_mid_month", "下个月中": "next_mid_month", "下月中旬": "next_mid_month",
    "月初": "month_start", "下月初": "next_month_start", "下个月初": "next_month_start",
    "beginning of next month": "next_month_start", "start of next month": "next_month_start",
    "季度末": "quarter", "季末": "quarter", "本季度末": "quarter", "本季末": "quarter", "这季度末": "quarter",
    "季度底": "quarter", "end of quarter": "quarter", "end of the quarter": "quarter", "eoq": "quarter",
    "下季度末": "next_quarter", "下个季度末": "next_quarter", "end of next quarter": "next_quarter",
    "周末": "weekend", "本周末": "weekend", "这周末": "weekend", "这个周末": "weekend", "weekend": "weekend",
    "this weekend": "weekend", "下周末": "next_weekend", "下个周末": "next_weekend", "next weekend": "next_weekend",
    "本周内": "week", "这周内": "week", "这个星期内": "week", "本月内": "month", "这个月内": "month",
    "今年内": "year", "本季度内": "quarter",
}
# A named month's part, as offices set deadlines: '12月底', '十二月末', '3月初', '6月中', '9月上旬', 'end of December'.
_ZH_MONTH_PART = re.compile(rf"(?:(?P<y>\d{{4}})\s*年\s*|(?P<rel>明年))?(?P<m>{_CN})\s*月\s*份?\s*"
                            r"(?P<part>底|末|初|中旬|中|上旬|下旬)")
_EN_MONTH_END = re.compile(rf"(?:the\s+)?end\s+of\s+(?P<mon>{_MON_EN})(?:\s+(?P<y>\d{{4}}))?")

# Exact moments: now + a duration.
_EN_EXACT = re.compile(
    rf"(?:(?:in|within)\s+(?P<n1>{_EN_N})\s+(?P<u1>hours?|hrs?|h|minutes?|mins?)"
    rf"|(?P<n2>{_EN_N})\s+(?P<u2>hours?|hrs?|minutes?|mins?)\s+(?:from\s+now|later)"
    r"|(?P<half>in\s+half\s+an\s+hour))"
)
_ZH_EXACT = re.compile(
    rf"(?:(?P<n>{_CN})\s*(?P<u>个?小时|个?钟头|分钟)|(?P<half>半个?小时))\s*(?:后|以后|之后|内|以内|之内)"
)

# Times of day.
_EN_TIME_AMPM = re.compile(r"(?:at\s+)?(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*(?P<ap>am|pm|a\.m\.?|p\.m\.?)")
_ZH_PERIOD = r"上午|早上|早晨|清晨|早|中午|下午|午后|傍晚|晚上|夜里|夜间|晚|凌晨"
_TIME_24H = re.compile(r"(?:at\s+)?(?P<p>" + _ZH_PERIOD + r")?\s*(?P<h>\d{1,2}):(?P<mi>\d{2})")
_ZH_TIME = re.compile(
    rf"(?P<p>{_ZH_PERIOD})?\s*(?P<h>{_CN})\s*(?:点钟?|时)\s*"
    rf"(?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|整|(?P<mi>{_CN})\s*分?)?"
)
_PERIOD_ALONE = {"noon": _NOON, "at noon": _NOON, "midday": _NOON, "中午": _NOON, "晚上": _EVENING}


def _zh_hour(period: str | None, h: int) -> int | object | None:
    """Apply a Chinese period word to an hour; None if impossible, _AMBIGUOUS if it needs one."""
    if period is None:
        if 1 <= h <= 6:
            return _AMBIGUOUS
        return h if 0 <= h <= 23 else None
    if period in {"上午", "早上", "早晨", "清晨", "早"}:
        return h if 0 <= h <= 12 else None
    if period == "中午":
        if h in (11, 12):
            return h
        return h + 12 if 1 <= h <= 2 else None
    if period in {"下午", "午后", "傍晚"}:
        if 1 <= h <= 11:
            return h + 12
        return h if 12 <= h <= 23 else None
    if period in {"晚上", "夜里", "夜间", "晚"}:
        if 5 <= h <= 11:
            return h + 12
        return h if 17 <= h <= 23 else None
    if period == "凌晨":
        return h if 0 <= h <= 6 else None
    return None  # pragma: no cover


def _parse_time(s: str) -> time | object | None:
    """A time of day, _AMBIGUOUS for '3点' with no 上午/下午, or None."""
    if s in _PERIOD_ALONE:
        return _PERIOD_ALONE[s]
    m = _EN_TIME_AMPM.fullmatch(s)
    if m:
        h, mi = int(m.group("h")), int(m.group("mi") or 0)
        if not 1 <= h <= 12 or mi > 59:
            return None
        h %= 12
        if m.group("ap").startswith("p"):
            h += 12
        return time(h, mi)
    m = _TIME_24H.fullmatch(s)
    if m:
        h, mi = int(m.group("h")), int(m.group("mi"))
        if m.group("p"):
            h = _zh_hour(m.group("p"), h)
            if h is None or h is _AMBIGUOUS:
                return None
        if not 0 <= h <= 23 or mi > 59:
            return None
        return time(h, mi)
    m = _ZH_TIME.fullmatch(s)
    if m:
        h = _cn_int(m.group("h"))
        if h is None:
            return None
        mi = 0
        if m.group("half"):
            mi = 30
        elif m.group("q1"):
            mi = 15
        elif m.group("q3"):
            mi = 45
        elif m.group("mi"):
            mi = _cn_int(m.group("mi"))
            if mi is None or mi > 59:
                return None
        hour = _zh_hour(m.group("p"), h)
        if hour is None or hour is _AMBIGUOUS:
            return hour
        return time(hour, mi)
    return None


def _relative(today: date, n: int, unit: str) -> date:
    if unit.startswith(("d", "天", "日", "个天", "个日")):
        return today + timedelta(days=n)
    if unit.startswith(("w", "周", "星期", "礼拜", "个周", "个星期", "个礼拜")):
        return today + timedelta(weeks=n)
    return today + relativedelta(months=n)


def _quarter_end(d: date) -> date:
    return _month_end(date(d.year, 3 * ((d.month - 1) // 3) + 3, 1))


def _end_of(which: str, today: date, cal) -> date:
    if which == "month":
        return _month_end(today)
    if which == "next_month":
        return _month_end(today + relativedelta(months=1))
    if which == "week":
        return _monday(today) + timedelta(days=4)
    if which == "next_week":
        return _monday(today) + timedelta(days=11)
    if which == "mid_month":
        return today.replace(day=15)
    if which == "next_mid_month":
        return (today + relativedelta(months=1)).replace(day=15)
    if which == "month_start":
        # The first working day of this month while it is still ahead, else of the next.
        first = cal.next_workday(today.replace(day=1))
        return first if first >= today else cal.next_workday((today + relativedelta(months=1)).replace(day=1))
    if which == "next_month_start":
        return cal.next_workday((today + relativedelta(months=1)).replace(day=1))
    if which == "quarter":
        return _quarter_end(today)
    if which == "next_quarter":
        return _quarter_end(today + relativedelta(months=3))
    if which == "weekend":
        return _monday(today) + timedelta(days=6)
    if which == "next_weekend":
        return _monday(today) + timedelta(days=13)
    return date(today.year, 12, 31)


def _parse_day(s: str, today: date, cal=None) -> _Day | None:
    """A calendar day written in s (the whole of s), or None. `cal`: the team's working-day calendar
    (holidays and 月初 depend on it; CN when not given). The first way of writing a day that s
    matches decides (a match that is no real day, 2月30日, is None)."""
    cal = cal or workdays.calendar_for("CN")
    for read in (_named_day, _written_date, _weekday_or_relative):
        found = read(s, today, cal)
        if found is not _UNMATCHED:
            return found
    return None


#: What a reader of _parse_day returns when s is not written its way (None: its way, but no day).
_UNMATCHED: Any = object()


def _day(d: date | None) -> _Day | None:
    return _Day(d) if d else None


def _named_day(s: str, today: date, cal) -> _Day | None:
    """Days with names: 今天, 月底, 国庆节前, 12月初, end of December, 年底."""
    if s in _FIXED_DAYS:
        offset, default = _FIXED_DAYS[s]
        return _Day(today + timedelta(days=offset), default=default)
    if s in _END_OF:
        return _Day(_end_of(_END_OF[s], today, cal))
    named = holidays.holiday_words(s)
    if named is not None and named[1]:
        return _day(holidays.day_around(named[0], named[1], today, cal))
    m = _ZH_MONTH_PART.fullmatch(s)
    if m:
        month = _cn_int(m.group("m"))
        year = int(m.group("y")) if m.group("y") else today.year + (m.group("rel") == "明年")
        first = _mkdate(year, month, 1) if month else None
        if first is None:
            return None
        part = m.group("part")
        if part in ("底", "末", "下旬"):
            return _Day(_month_end(first))
        if part == "初":
            return _Day(cal.next_workday(first))
        return _Day(first.replace(day={"上旬": 10, "中": 15, "中旬": 20}[part]))
    m = _EN_MONTH_END.fullmatch(s)
    if m:
        first = _mkdate(int(m.group("y")) if m.group("y") else today.year, _MONTHS_EN[m.group("mon")], 1)
        return _Day(_month_end(first)) if first else None
    m = _YEAR_END.fullmatch(s)
    if m:
        return _day(_mkdate(int(m.group("y") or m.group("y2")), 12, 31))
    return _UNMATCHED


def _written_date(s: str, today: date, cal) -> _Day | None:
    """Dates written out: 2026-12-05, 12/5, 十月一日, 明年3月1日, 15号, 下个月5号, Dec 5, 5 December."""
    m = _ISO_DATE.fullmatch(s)
    if m:
        return _day(_mkdate(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    m = _MONTH_DAY.fullmatch(s)
    if m:
        return _day(_mkdate(today.year, int(m.group("m")), int(m.group("d"))))
    m = _ZH_DATE.fullmatch(s)
    if m:
        if not m.group("suffix") and not m.group("d").isdigit():
            return None  # '十月一' must be written '十月一日'
        month, dom = _cn_int(m.group("m")), _cn_int(m.group("d"))
        if month is None or dom is None:
            return None
        year = today.year
        if m.group("y"):
            year = int(m.group("y"))
        elif m.group("rel") == "明年":
            year += 1
        return _day(_mkdate(year, month, dom))
    m = _ZH_DAY_OF_MONTH.fullmatch(s)
    if m:
        dom = _cn_int(m.group("d"))
        if dom is None:
            return None
        base = today + relativedelta(months=1) if (m.group("which") or "").startswith("下") else today
        return _day(_mkdate(base.year, base.month, dom))
    m = _EN_MONTH_DAY.fullmatch(s) or _EN_DAY_MONTH.fullmatch(s)
    if m:
        year = int(m.group("y")) if m.group("y") else today.year
        return _day(_mkdate(year, _MONTHS_EN[m.group("mon")], int(m.group("d"))))
    return _UNMATCHED


def _weekday_or_relative(s: str, today: date, cal) -> _Day | None:
    """Weekdays and counted days: next friday, 下周三, in 3 days, 三天后."""
    m = _EN_WEEKDAY.fullmatch(s) or _EN_WEEKDAY_WEEK.fullmatch(s)
    if m:
        return _weekday(today, _WEEKDAYS_EN[m.group("wd")], {"next": 1, "this": 0, "last": -1}.get(m.group("q")))
    m = _ZH_WEEKDAY.fullmatch(s)
    if m:
        q = m.group("q")
        week = None if q is None else 2 if q.startswith("下下") else 1 if q.startswith("下") else \
            -1 if q.startswith("上") else 0
        return _weekday(today, _WEEKDAYS_ZH[m.group("wd")], week)
    m = _EN_RELATIVE.fullmatch(s)
    if m:
        n = _cn_int(m.group("n1") or m.group("n2"))
        return _Day(_relative(today, n, m.group("u1") or m.group("u2"))) if n is not None else None
    m = _ZH_RELATIVE.fullmatch(s)
    if m:
        n = _cn_int(m.group("n"))
        return _Day(_relative(today, n, m.group("u"))) if n is not None else None
    return _UNMATCHED


def _weekday(today: date, wd: int, week: int | None) -> _Day:
    """week None: the next such day (maybe today); 0 this calendar week, 1 next, -1 last (weeks start Monday)."""
    if week is None:
        return _Day(today + timedelta(days=(wd - today.weekday()) % 7), roll=True)
    return _Day(_monday(today) + timedelta(weeks=week, days=wd))


def _parse_exact(s: str, now: datetime) -> datetime | None:
    """'in 2 hours', '30分钟后', '半小时后' -> now + that long."""
    now = now.astimezone(UTC)  # elapsed time, not wall-clock time (aware arithmetic in one zone is wall-clock)
    m = _EN_EXACT.fullmatch(s)
    if m:
        if m.group("half"):
            return now + timedelta(minutes=30)
        n = _cn_int(m.group("n1") or m.group("n2"))
        unit = m.group("u1") or m.group("u2")
        if n is None:
            return None
        return now + (timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n))
    m = _ZH_EXACT.fullmatch(s)
    if m:
        if m.group("half"):
            return now + timedelta(minutes=30)
        n = _cn_int(m.group("n"))
        if n is None:
            return None
        return now + (timedelta(minutes=n) if m.group("u") == "分钟" else timedelta(hours=n))
    return None


def _after(a: datetime, b: datetime) -> bool:
    """a is later than b in real time (comparing in one zone would compare wall clocks, wrong around DST)."""
    return a.astimezone(UTC) > b.astimezone(UTC)


def _normalize_due(text: str) -> str:
    s = " ".join(_nfkc(text).casefold().split())
    s = re.sub(r"(?<=\d)t(?=\d)", " ", s)           # ISO '2026-12-05T17:00'
    if holidays.holiday_words(s) is not None:
        return s  # '元旦前', 'before new year': the word before/前 is part of the date
    s = re.sub(r"^(?:by|on|due|before)\s+", "", s)
    s = re.sub(r"\s*(?:之前|以前|前)$", "", s)      # '10月15日前' is the deadline 10月15日
    s = s.replace("今晚", "今天晚上").replace("明晚", "明天晚上")
    return s.strip(" ,")


def _boundary(s: str, i: int) -> bool:
    """Where a date may end and a time begin: at a space or comma, or next to a CJK character."""
    a, b = s[i - 1], s[i]
    return a in " ," or b in " ," or not a.isascii() or not b.isascii()


def _readings(s: str):
    """Every way to read s as (date words, time words); None means 'not written'."""
    yield s, None
    yield None, s
    for i in range(1, len(s)):
        if not _boundary(s, i):
            continue
        left, right = s[:i].strip(" ,"), s[i:].strip(" ,")
        if left and right:
            yield left, right
            yield right, left


def parse_due(text: str, now: datetime, tz: tzinfo, *, default_time: time = time(18, 0),
              calendar=None) -> datetime:
    """A due date/time from EN or ZH text -> an aware datetime in tz, strictly after now.
    `calendar` is the team's working-day calendar (commands/core/workdays.py; CN when not given):
    '元旦前' is the last working day before the New Year break in it, '下月初' its first working day.

    Raises UsageError 'parse.bad_date' (value) when the whole text can't be read,
    'parse.holiday_side' (value) for a holiday named without 前/后 (a holiday is a span of days),
    'parse.ambiguous_time' (value) for a Chinese hour 1-6 without 上午/下午/晚上/凌晨,
    'parse.past_date' (value, when) when the result is not after now.
    """
    if now.tzinfo is None:
        raise ValueError("parse_due needs an aware `now`")
    shown = _shown(text)
    local_now = now.astimezone(tz)
    today = local_now.date()
    s = _normalize_due(text)
    if not s or len(s) > _MAX_LEN:
        raise UsageError("parse.bad_date", value=shown)
    named = holidays.holiday_words(s)
    if named is not None and not named[1]:
        raise UsageError("parse.holiday_side", value=shown)
    cal = calendar or workdays.calendar_for("CN")

    results: set[datetime] = set()
    ambiguous = False
    try:
        exact = _parse_exact(s, local_now)
    except (ValueError, OverflowError):
        exact = None
    if exact is not None:
        results.add(exact.astimezone(tz))
    for day_words, time_words in _readings(s):
        try:
            day = _parse_day(day_words, today, cal) if day_words is not None else _Day(today)
            if day is None:
                continue
            t = None
            if time_words is not None:
                t = _parse_time(time_words)
                if t is None:
                    continue
                if t is _AMBIGUOUS:
                    ambiguous = True
                    continue
            results.add(_resolve(day, t, local_now, tz, default_time))
        except (ValueError, OverflowError):
            continue

    if len(results) != 1:
        if not results and ambiguous:
            raise UsageError("parse.ambiguous_time", value=shown)
        raise UsageError("parse.bad_date", value=shown)
    due = results.pop()
    if not _after(due, local_now):
        raise UsageError("parse.past_date", value=shown, when=fmt.stamp(due, tz))
    return due


def _resolve(day: _Day, t: time | None, now: datetime, tz: tzinfo, default_time: time) -> datetime:
    at = t or day.default or default_time
    d = day.day
    if day.roll and d == now.date() and not _after(_at(d, at, tz), now):
        d += timedelta(days=7)
    if not 1900 <= d.year <= 2999:
        raise ValueError("year out of range")
    return _at(d, at, tz)
