"""Dates relative to public holidays, as Chinese offices write them: 元旦前, 国庆后, 春节前, 年后, 五一前.

"<holiday>前" is the last working day before the holiday's break and "<holiday>后" the first working
day after it, in the team's working-day calendar, so the CN calendar's make-up working days (调休)
count: 春节前 in 2026 is Saturday 2026-02-14, a make-up day. The holiday's date comes from the
`holidays` package (lunar dates included, for any year); the break is the run of non-working days
around it in the team's calendar. The next such day still ahead is meant.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

from commands.core.workdays import cn_schedule_years

#: What people write -> the name the `holidays` package gives the holiday's first day (CN).
_NAMES: dict[str, str] = {}
for _words, _name in (
    (("元旦", "新年", "new year", "new years", "new year's", "new year's day", "new years day"), "New Year's Day"),
    (("春节", "过年", "年", "春节假期", "chinese new year", "spring festival", "cny", "lunar new year"),
     "Chinese New Year (Spring Festival)"),
    (("清明", "清明节", "tomb-sweeping day", "tomb sweeping day", "qingming", "qingming festival"),
     "Tomb-Sweeping Day"),
    (("五一", "劳动节", "五一劳动节", "labor day", "labour day", "may day"), "Labor Day"),
    (("端午", "端午节", "dragon boat festival", "dragon boat"), "Dragon Boat Festival"),
    (("中秋", "中秋节", "mid-autumn festival", "mid-autumn", "mid autumn", "moon festival"), "Mid-Autumn Festival"),
    (("国庆", "国庆节", "十一", "national day", "golden week"), "National Day"),
):
    for _w in _words:
        _NAMES[_w] = _name

#: Chinese names for the holidays the calendars report (chinese_calendar and `holidays` use English).
ZH_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Chinese New Year": "春节", "Tomb-sweeping Day": "清明节",
    "Tomb-Sweeping Day": "清明节", "Labour Day": "劳动节", "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "Mid-Autumn Festival": "中秋节",
    "National Day": "国庆节",
}

_SIDES = (("之前", "before"), ("以前", "before"), ("前", "before"), ("之后", "after"), ("以后", "after"),
          ("后", "after"))
_SUFFIX = re.compile(r"(?:节|假期|长假|假)$")
_EN = re.compile(r"(?P<side>before|after)\s+(?:the\s+)?(?P<name>.+?)(?:\s+(?:holidays?|break|festival holiday))?")


def holiday_words(text: str) -> tuple[str, str] | None:
    """'元旦前' -> ("New Year's Day", 'before'); 'after national day' -> ('National Day', 'after');
    the bare name -> (name, '') (a holiday is a span, not a day); None when `text` names no holiday.
    `text` is NFKC-normalised, casefolded and whitespace-collapsed."""
    s = text.strip()
    if s in _NAMES and s != "年":
        return _NAMES[s], ""
    m = _EN.fullmatch(s)
    if m:
        return (_NAMES[m.group("name")], m.group("side")) if m.group("name") in _NAMES else None
    for word, side in _SIDES:
        if s.endswith(word):
            name = s[: -len(word)].strip()
            for candidate in (name, _SUFFIX.sub("", name)):
                if candidate in _NAMES:
                    return _NAMES[candidate], side
            return None
    return None


@lru_cache(maxsize=64)
def _anchor(name: str, year: int) -> date | None:
    """The first day of the holiday `name` in `year` (China's dates, lunar ones included)."""
    import holidays

    days = sorted(d for d, n in holidays.country_holidays("CN", years=year).items()
                  if any(part.strip() == name for part in n.split(";")) or n.startswith(name))
    return days[0] if days else None


def holiday_break(name: str, year: int, cal) -> tuple[date, date] | None:
    """The run of non-working days (in `cal`) around the holiday `name` of `year`: (first, last).
    A holiday that is a working day in `cal` (another country's calendar) is a break of its own day."""
    anchor = _anchor(name, year)
    if anchor is None:
        return None
    first = last = anchor
    if not cal.is_workday(anchor):
        for _ in range(20):
            if cal.is_workday(first - timedelta(days=1)):
                break
            first -= timedelta(days=1)
        for _ in range(20):
            if cal.is_workday(last + timedelta(days=1)):
                break
            last += timedelta(days=1)
    return first, last


def day_around(name: str, side: str, today: date, cal) -> date | None:
    """The last working day before (side 'before') or the first after ('after') the next break of
    holiday `name` whose day is still ahead of (or is) `today`."""
    for year in (today.year - 1, today.year, today.year + 1, today.year + 2):
        span = holiday_break(name, year, cal)
        if span is None:
            continue
        day = (cal.previous_workday(span[0]) if side == "before"
               else cal.next_workday(span[1] + timedelta(days=1)))
        if day >= today:
            return day
    return None


def holiday_name(d: date, lang: str) -> str | None:
    """The public holiday `d` belongs to, in `lang` (CN dates), or None."""
    if d.year in cn_schedule_years():
        import chinese_calendar

        on, name = chinese_calendar.get_holiday_detail(d)
        if on and name:
            return ZH_NAMES.get(name, name) if lang == "zh" else name
    import holidays

    name = holidays.country_holidays("CN", years=d.year).get(d)
    if not name:
        return None
    base = re.sub(r"\s*\(observed\)|'s Eve", "", name.split(";")[0]).strip()
    base = "Chinese New Year" if base.startswith("Chinese New Year") else base
    return ZH_NAMES.get(base, base) if lang == "zh" else base
