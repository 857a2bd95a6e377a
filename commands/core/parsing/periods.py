"""Periods (day, week, month, quarter, year): the one containing a moment, the one before, and typed ones."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

from commands.core.errors import UsageError
from commands.core.parsing.days import _MON_EN, _MONTHS_EN, _at, _mkdate, _monday
from commands.core.parsing.numbers import _CN, _cn_int
from commands.core.parsing.text import _MAX_LEN, _nfkc, _shown


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, in tz, inclusive (local midnight)
    end: datetime    # aware, in tz, exclusive
    kind: str        # 'day' | 'week' | 'month' | 'quarter' | 'year'
    label: str       # canonical: '2026-11-26', '2026-W48', '2026-11', '2026-Q4', '2026'


KINDS = ("day", "week", "month", "quarter", "year")


def _period_for(kind: str, d: date, tz: tzinfo) -> Period:
    if kind == "day":
        start, end, label = d, d + timedelta(days=1), d.isoformat()
    elif kind == "week":
        start = _monday(d)
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}"
    elif kind == "month":
        start = d.replace(day=1)
        end = start + relativedelta(months=1)
        label = f"{start.year}-{start.month:02d}"
    elif kind == "quarter":
        q = (d.month - 1) // 3
        start = date(d.year, 3 * q + 1, 1)
        end = start + relativedelta(months=3)
        label = f"{d.year}-Q{q + 1}"
    elif kind == "year":
        start, end, label = date(d.year, 1, 1), date(d.year + 1, 1, 1), str(d.year)
    else:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {KINDS}")
    return Period(_at(start, time(0), tz), _at(end, time(0), tz), kind, label)


def period_of(kind: str, at: datetime | date, tz: tzinfo) -> Period:
    """The day/week/month/quarter/year containing `at` (a naive datetime is taken as local time in tz)."""
    if isinstance(at, datetime):
        d = at.astimezone(tz).date() if at.tzinfo else at.date()
    else:
        d = at
    return _period_for(kind, d, tz)


def previous(p: Period, tz: tzinfo) -> Period:
    """The period of the same kind just before p."""
    return _period_for(p.kind, p.start.astimezone(tz).date() - timedelta(days=1), tz)


def _following(p: Period, tz: tzinfo) -> Period:
    return _period_for(p.kind, p.end.astimezone(tz).date(), tz)


_RELATIVE_PERIODS: dict[str, tuple[str, int]] = {}
for _words, _kind, _shift in (
    (("today", "今天", "今日"), "day", 0),
    (("yesterday", "昨天", "昨日"), "day", -1),
    (("this week", "本周", "这周", "这个星期", "本星期", "这星期", "这礼拜", "这个礼拜", "本礼拜"), "week", 0),
    (("last week", "上周", "上星期", "上个星期", "上礼拜", "上个礼拜"), "week", -1),
    (("next week", "下周", "下星期", "下个星期", "下礼拜", "下个礼拜"), "week", 1),
    (("this month", "本月", "这个月", "这月", "当月"), "month", 0),
    (("last month", "上月", "上个月"), "month", -1),
    (("next month", "下月", "下个月"), "month", 1),
    (("this quarter", "本季度", "这个季度", "这季度", "本季", "当季"), "quarter", 0),
    (("last quarter", "上季度", "上个季度", "上季"), "quarter", -1),
    (("next quarter", "下季度", "下个季度", "下季"), "quarter", 1),
    (("this year", "今年", "本年", "本年度"), "year", 0),
    (("last year", "去年", "上一年", "上年"), "year", -1),
    (("next year", "明年", "下一年"), "year", 1),
):
    for _w in _words:
        _RELATIVE_PERIODS[_w] = (_kind, _shift)

_ZH_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_P_DAY = re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
                    r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]")
_P_WEEK = re.compile(r"(?P<y>\d{4})\s*-?\s*w(?P<w>\d{1,2})|(?P<y2>\d{4})\s*年\s*第\s*(?P<w2>\d{1,2})\s*周")
_P_QUARTER = re.compile(
    r"(?P<y>\d{4})\s*[-/]?\s*q(?P<q>[1-4])"
    r"|q(?P<q2>[1-4])(?:\s*[-/,]?\s*(?P<y2>\d{4}))?"
    r"|(?:(?P<y3>\d{4})\s*年\s*(?:度\s*)?)?第?\s*(?P<q3>[一二三四1-4])\s*季度"
    r"|(?P<y4>\d{4})\s*年\s*q(?P<q4>[1-4])"
)
_P_MONTH = re.compile(
    rf"(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})"
    rf"|(?:(?P<y2>\d{{4}})\s*年\s*)?(?P<m2>{_CN})\s*月份?"
    rf"|(?P<mon>{_MON_EN})\.?(?:,?\s*(?P<y3>\d{{4}}))?"
)
_P_YEAR = re.compile(r"(?P<y>\d{4})\s*(?:年度?)?")


def _year_ok(y: int) -> bool:
    return 1900 <= y <= 2999


def parse_period(text: str, now: datetime, tz: tzinfo) -> Period:
    """'this week', '上个月', '2026-11', '2026年11月', '2026-Q4', '2026年第四季度', '2026', '2026-W48', '2026-11-20'...

    Raises UsageError('parse.bad_period', value=text).
    """
    bad = UsageError("parse.bad_period", value=_shown(text))
    s = " ".join(_nfkc(text).casefold().split())
    if not s or len(s) > _MAX_LEN:
        raise bad
    today = now.astimezone(tz).date()
    try:
        p = _parse_period(s, today, tz)
    except (ValueError, OverflowError):
        p = None
    if p is None:
        raise bad
    return p


def _parse_period(s: str, today: date, tz: tzinfo) -> Period | None:
    if s in _RELATIVE_PERIODS:
        kind, shift = _RELATIVE_PERIODS[s]
        p = _period_for(kind, today, tz)
        for _ in range(abs(shift)):
            p = previous(p, tz) if shift < 0 else _following(p, tz)
        return p

    m = _P_DAY.fullmatch(s)
    if m:
        d = _mkdate(int(m.group("y") or m.group("y2")), int(m.group("m") or m.group("m2")),
                    int(m.group("d") or m.group("d2")))
        return _period_for("day", d, tz) if d else None

    m = _P_WEEK.fullmatch(s)
    if m:
        y, w = int(m.group("y") or m.group("y2")), int(m.group("w") or m.group("w2"))
        if not _year_ok(y):
            return None
        try:
            monday = date.fromisocalendar(y, w, 1)
        except ValueError:
            return None
        return _period_for("week", monday, tz)

    m = _P_QUARTER.fullmatch(s)
    if m:
        y = m.group("y") or m.group("y2") or m.group("y3") or m.group("y4")
        q = m.group("q") or m.group("q2") or m.group("q3") or m.group("q4")
        year = int(y) if y else today.year
        if not _year_ok(year):
            return None
        return _period_for("quarter", date(year, 3 * _ZH_QUARTERS[q] - 2, 1), tz)

    m = _P_MONTH.fullmatch(s)
    if m:
        y = m.group("y") or m.group("y2") or m.group("y3")
        if m.group("mon"):
            month = _MONTHS_EN[m.group("mon")]
        else:
            month = _cn_int(m.group("m") or m.group("m2"))
        year = int(y) if y else today.year
        if month is None or not 1 <= month <= 12 or not _year_ok(year):
            return None
        return _period_for("month", date(year, month, 1), tz)

    m = _P_YEAR.fullmatch(s)
    if m:
        year = int(m.group("y"))
        return _period_for("year", date(year, 1, 1), tz) if _year_ok(year) else None

    return None


def is_period(text: str, now: datetime, tz: tzinfo) -> bool:
    """Whether `text` reads as a period (parse_period would not refuse it)."""
    try:
        parse_period(text, now, tz)
        return True
    except UsageError:
        return False
