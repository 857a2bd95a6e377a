"""Formatting helpers for echoing parsed values back to the user, in zh or en.

Pure functions, no locale module: the output is the same on every machine.
"""
from __future__ import annotations

import math
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from commands.core.parsing.periods import Period

_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def _zh(lang: str) -> bool:
    return (lang or "").lower().startswith("zh")


def zone_name(tz: tzinfo) -> str:
    """'Asia/Shanghai' for a ZoneInfo; whatever the zone calls itself otherwise."""
    return getattr(tz, "key", None) or str(tz)


def weekday(d: date, lang: str) -> str:
    """'Fri' / '周五'."""
    return (_WEEKDAYS_ZH if _zh(lang) else _WEEKDAYS_EN)[d.weekday()]


def day(d: date, lang: str) -> str:
    """en 'Fri 2026-12-04', zh '2026-12-04 周五'."""
    if isinstance(d, datetime):
        d = d.date()
    if _zh(lang):
        return f"{d.isoformat()} {weekday(d, lang)}"
    return f"{weekday(d, lang)} {d.isoformat()}"


_MONTHS_EN_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_day(d: date, lang: str) -> str:
    """A day as people say it, without the year: en 'Sun Dec 20', zh '12月20日 周日'."""
    if isinstance(d, datetime):
        d = d.date()
    if _zh(lang):
        return f"{d.month}月{d.day}日 {weekday(d, lang)}"
    return f"{weekday(d, lang)} {_MONTHS_EN_SHORT[d.month - 1]} {d.day}"


def short_date(d: date, lang: str) -> str:
    """A day without year or weekday: en 'Nov 1', zh '11月1日'."""
    if isinstance(d, datetime):
        d = d.date()
    return f"{d.month}月{d.day}日" if _zh(lang) else f"{_MONTHS_EN_SHORT[d.month - 1]} {d.day}"


def when(dt: datetime, tz: tzinfo, lang: str) -> str:
    """en 'Fri 2026-12-04 18:00 Asia/Shanghai', zh '2026-12-04 周五 18:00 Asia/Shanghai'."""
    local = dt.astimezone(tz)
    return f"{day(local.date(), lang)} {local:%H:%M} {zone_name(tz)}"


def stamp(dt: datetime, tz: tzinfo) -> str:
    """Language-neutral '2026-12-04 18:00 Asia/Shanghai' (for error arguments rendered in either language)."""
    local = dt.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {zone_name(tz)}"


def number(value: float) -> str:
    """'500,000', '1,200,000.5', '92.5', '1': thousands separators, at most 2 decimals, no trailing zeros."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:,.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text


def _wan(value: float) -> str:
    """Chinese short form: 50万, 1.2亿."""
    if abs(value) >= 1e8:
        return f"{number(value / 1e8)}亿"
    return f"{number(value / 1e4)}万"


def amount(value: float, unit: str, lang: str) -> str:
    """CNY: '¥500,000' (zh adds '（50万）' from 10,000 up); '%': '92.5%'; anything else: number(value)."""
    u = (unit or "").strip()
    if u.upper() in {"CNY", "RMB", "¥", "￥"}:
        sign = "-" if value < 0 and number(value) != "0" else ""
        text = f"{sign}¥{number(abs(value))}"
        if _zh(lang) and math.isfinite(value) and abs(value) >= 10_000:
            text += f"（{_wan(value)}）"
        return text
    if u == "%":
        return f"{number(value)}%"
    return number(value)


def plan_amount(value: float, unit: str, lang: str) -> str:
    """A planning figure (a target worked out from a percentage, a forecast, a pace): rounded the way
    people plan. CNY in zh: '83.2万' from 10,000 up, '1.25亿' from 100 million, else '¥8,323'; in en
    '¥832,258' (no cents). Counts are whole; percentages keep one decimal."""
    if not math.isfinite(value):
        return number(value)
    u = (unit or "").strip()
    if u.upper() in {"CNY", "RMB", "¥", "￥"}:
        sign = "-" if value < 0 and round(value) != 0 else ""
        v = abs(value)
        if _zh(lang) and v >= 1e8:
            return f"{sign}{number(round(v / 1e8, 2))}亿"
        if _zh(lang) and v >= 1e4:
            return f"{sign}{number(round(v / 1e4, 1))}万"
        return f"{sign}¥{number(round(v))}"
    if u == "%":
        return f"{number(round(value, 1))}%"
    if u == "count":
        return number(round(value))
    return number(round(value, 1))


def axis_amount(value: float, unit: str, lang: str) -> str:
    """A chart axis or bar label: CNY in zh in 万 ('86万', '125万'; below 10,000 as it is), in en
    'k'/'M' ('860k', '1.2M'); percentages with '%'."""
    u = (unit or "").strip()
    if u.upper() in {"CNY", "RMB", "¥", "￥"}:
        if _zh(lang):
            if abs(value) >= 1e8:
                return f"{number(round(value / 1e8, 2))}亿"
            if abs(value) >= 1e4:
                return f"{number(round(value / 1e4, 1))}万"
            return number(round(value))
        if abs(value) >= 1e6:
            return f"{number(round(value / 1e6, 1))}M"
        if abs(value) >= 1e4:
            return f"{number(round(value / 1e3))}k"
    return number(round(value, 1)) + ("%" if u == "%" else "")


def points(change: float, lang: str) -> str:
    """A change of a percentage, in percentage points: zh '+3个百分点', en '+3 pp'."""
    sign = "+" if change > 0 else ""
    n = number(round(change, 1))
    return f"{sign}{n}个百分点" if _zh(lang) else f"{sign}{n} pp"


_ZH_QUARTERS = ("一", "二", "三", "四")


def period_label(p: Period, lang: str) -> str:
    """en 'week of Mon 2026-11-23', 'November 2026', '2026 Q4', '2026';
    zh '2026-11-23 起的一周', '2026年11月', '2026年第四季度', '2026年'; a day is day()."""
    start = p.start.date()
    zh = _zh(lang)
    if p.kind == "day":
        return day(start, lang)
    if p.kind == "week":
        return f"{start.isoformat()} 起的一周" if zh else f"week of {day(start, lang)}"
    if p.kind == "month":
        return f"{start.year}年{start.month}月" if zh else f"{_MONTHS_EN[start.month - 1]} {start.year}"
    if p.kind == "quarter":
        q = (start.month - 1) // 3 + 1
        return f"{start.year}年第{_ZH_QUARTERS[q - 1]}季度" if zh else f"{start.year} Q{q}"
    if p.kind == "year":
        return f"{start.year}年" if zh else str(start.year)
    return p.label
