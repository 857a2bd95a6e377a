"""The parsing layer every command shares: mentions, key=value pairs, amounts, due dates and periods (EN + ZH).

Everything here is pure: text (plus `now` and a zone where time matters) in, a value or a UsageError out.
No function lets any other exception escape for any input text, and dates are never guessed: the whole
text must be understood, and a date that has already passed is an error rather than next year's.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta

from commands.core import fmt
from commands.core.errors import UsageError

__all__ = [
    "Amount", "Mention", "Period",
    "parse_amount", "parse_due", "parse_mention", "parse_period",
    "period_of", "previous", "split_pairs", "take_mentions",
]

#: Longest text we try to read as an amount, a date or a period; anything longer is an error.
_MAX_LEN = 80


def _nfkc(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _shown(text: str | None) -> str:
    """The text as typed, for an error message (stripped; cut short if absurdly long)."""
    s = (text or "").strip()
    return s if len(s) <= 60 else s[:59] + "…"


# --------------------------------------------------------------------------------------------------
# Mentions
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mention:
    user_id: str | None  # Slack '<@U123|li>' / '<@U123>' -> 'U123'; None for a bare '@name'
    name: str | None     # '<@U123|li>' -> 'li'; '@li' / '@李雷' -> 'li' / '李雷'; '<@U123>' -> None
    raw: str             # the token as typed


_AT = "@＠﹫"
# Characters that end a bare @name: whitespace, another @, and punctuation (ASCII and CJK).
_NAME_STOP = r"\s@＠﹫<>,，;；:：()（）\[\]【】{}!！?？。、\"“”'‘’《》|"
_SLACK_RE = r"<@(?P<uid>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\|(?P<label>[^<>|]*))?>"
# A bare mention is not preceded by something that makes it an e-mail address (li@acme.com).
_BARE_RE = r"(?<![A-Za-z0-9._%+\-" + _AT + r"])[" + _AT + r"](?P<name>[^" + _NAME_STOP + r"]+)"
_MENTION = re.compile(rf"(?P<slack>{_SLACK_RE})|(?P<bare>{_BARE_RE})")
_TRAILING_PUNCT = ".,，;；:：!！?？。、)）"


def _mention_at(m: re.Match[str]) -> tuple[int, int, Mention] | None:
    if m.group("slack"):
        label = (m.group("label") or "").strip()
        return m.start(), m.end(), Mention(m.group("uid"), label or None, m.group(0))
    name = m.group("name").rstrip(".")
    if not name:
        return None
    end = m.start("name") + len(name)
    return m.start(), end, Mention(None, _nfkc(name), m.string[m.start():end])


def parse_mention(token: str) -> Mention | None:
    """One token -> a Mention, or None if it isn't one. Trailing punctuation ('@li,') is allowed."""
    tok = (token or "").strip()
    m = _MENTION.match(tok)
    if not m:
        return None
    found = _mention_at(m)
    if found is None:
        return None
    _, end, mention = found
    if tok[end:].strip(_TRAILING_PUNCT):
        return None
    return Mention(mention.user_id, mention.name, tok)


def take_mentions(text: str) -> tuple[list[Mention], str]:
    """All mentions in order, and the text without them (whitespace collapsed, otherwise as typed)."""
    text = text or ""
    mentions: list[Mention] = []
    rest: list[str] = []
    pos = 0
    for m in _MENTION.finditer(text):
        found = _mention_at(m)
        if found is None:
            continue
        start, end, mention = found
        mentions.append(mention)
        rest.append(text[pos:start])
        pos = end
    rest.append(text[pos:])
    return mentions, " ".join(" ".join(rest).split())


# --------------------------------------------------------------------------------------------------
# key=value pairs
# --------------------------------------------------------------------------------------------------

_URL = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_AMOUNT_START = "0123456789+-−.¥"
# '销售额=50万，新客户=1': a comma (or ; 、) directly followed by another key= starts a new pair.
_CHUNK_SPLIT = re.compile(r"[,;、](?=[^\s,;、=:]+(?:=|:[0-9+\-−.¥]))")


def _pair(token: str) -> tuple[str, str] | None:
    """token is NFKC-normalized (so '＝' and '：' are already '=' and ':')."""
    if _URL.match(token):
        return None
    key, sep, value = token.partition("=")
    if sep:
        if key and value and not any(c.isspace() for c in token):
            return key, value
        return None
    key, sep, value = token.partition(":")
    if (
        sep and key and value
        and not key.isdigit()
        and value[0] in _AMOUNT_START
        and not any(c.isspace() for c in token)
    ):
        return key, value
    return None


def split_pairs(text: str) -> tuple[str, list[tuple[str, str]]]:
    """'signed ACME sales=500k customers=1' -> ('signed ACME', [('sales', '500k'), ('customers', '1')]).

    '=' / '＝' always makes a pair when both sides are non-empty (a token starting with a URL scheme
    such as 'https://x?a=b' stays in the note). ':' / '：' makes a pair only when the key is not all
    digits and the value looks like an amount ('sales:500k', but not '10:30', 'note:' or a URL).
    Keys and values come back NFKC-normalized; the note keeps the words as typed.
    """
    words: list[str] = []
    pairs: list[tuple[str, str]] = []
    for tok in (text or "").split():
        norm = _nfkc(tok)
        chunks = _CHUNK_SPLIT.split(norm)
        if len(chunks) > 1:
            chunk_pairs = [_pair(c) for c in chunks]
            if all(chunk_pairs):
                pairs.extend(p for p in chunk_pairs if p)
                continue
        pair = _pair(norm)
        if pair:
            pairs.append(pair)
        else:
            words.append(tok)
    return " ".join(words), pairs


# --------------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Amount:
    value: float   # '50k' -> 50000, '5万' -> 50000, '12%' -> 12.0
    percent: bool  # True when written with '%'


_MAX_AMOUNT = Decimal("1e15")
_AMOUNT = re.compile(
    r"(?P<s1>[+\-])?\s*(?P<cur>¥)?\s*(?P<s2>[+\-])?\s*"
    r"(?P<num>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"
    r"\s*(?:(?P<mult>万亿|[十百千]?[万亿]|[千百]|[kmw])|(?P<pct>%))?"
    r"\s*(?P<unit>元|块钱|块|人|个|家|位|名|次)?",
    re.IGNORECASE,
)
_MULT_BASE = {"k": 1_000, "千": 1_000, "百": 100, "m": 1_000_000, "w": 10_000, "万": 10_000, "亿": 100_000_000}
_MULT_PREFIX = {"十": 10, "百": 100, "千": 1_000}


def _multiplier(word: str | None) -> Decimal:
    if not word:
        return Decimal(1)
    w = word.lower()
    if w == "万亿":
        return Decimal(10) ** 12
    if len(w) == 2:
        return Decimal(_MULT_PREFIX[w[0]] * _MULT_BASE[w[1]])
    return Decimal(_MULT_BASE[w])


def _bad_amount(text: str) -> UsageError:
    return UsageError("parse.bad_amount", value=_shown(text))


def parse_amount(text: str) -> Amount:
    """'50k', '1.2m', '5万', '5w', '3亿', '1,200,000', '１２', '¥500', '50万元', '3人', '-5k', '+20%'.

    Raises UsageError('parse.bad_amount', value=text) for anything else.
    """
    s = _nfkc(text).strip().replace("−", "-").replace("﹣", "-")
    if not s or len(s) > _MAX_LEN:
        raise _bad_amount(text)
    m = _AMOUNT.fullmatch(s)
    if not m:
        raise _bad_amount(text)
    if m.group("s1") and m.group("s2"):
        raise _bad_amount(text)
    percent = bool(m.group("pct"))
    if percent and (m.group("cur") or m.group("unit")):
        raise _bad_amount(text)
    try:
        value = Decimal(m.group("num").replace(",", "")) * _multiplier(m.group("mult"))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise _bad_amount(text) from None
    if not value.is_finite() or abs(value) > _MAX_AMOUNT:
        raise _bad_amount(text)
    if (m.group("s1") or m.group("s2")) == "-":
        value = -value
    number = float(value)
    return Amount(number if number != 0 else 0.0, percent)


# --------------------------------------------------------------------------------------------------
# Numbers in words (EN) and Chinese numerals
# --------------------------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_CN = r"(?:[0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_EN_N = r"(?:[0-9]{1,4}|" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + r")"


def _cn_int(s: str) -> int | None:
    """'15' / '十五' / '二十' / '两' / '零五' -> int; None if it isn't a number we read."""
    if not s:
        return None
    if s.isascii() and s.isdigit():
        return int(s)
    if s in _EN_NUMBERS:
        return _EN_NUMBERS[s]
    if "十" in s:
        tens_s, _, ones_s = s.partition("十")
        if "十" in ones_s or len(tens_s) > 1 or len(ones_s) > 1:
            return None
        tens = 1 if not tens_s else _CN_DIGITS.get(tens_s)
        ones = 0 if not ones_s else _CN_DIGITS.get(ones_s)
        if not tens or ones is None:
            return None
        return tens * 10 + ones
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    if len(s) == 2 and s[0] in "零〇":
        return _CN_DIGITS.get(s[1])
    return None


# --------------------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------------------

_WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_WEEKDAYS_ZH = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
}
_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WD_EN = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))
_MON_EN = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
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
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})[-/](?P<d>\d{1,2})")
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
}

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


def _parse_day(s: str, today: date) -> _Day | None:
    """A calendar day written in s (the whole of s), or None."""
    if s in _FIXED_DAYS:
        offset, default = _FIXED_DAYS[s]
        return _Day(today + timedelta(days=offset), default=default)

    if s in _END_OF:
        which = _END_OF[s]
        if which == "month":
            return _Day(_month_end(today))
        if which == "next_month":
            return _Day(_month_end(today + relativedelta(months=1)))
        if which == "week":
            return _Day(_monday(today) + timedelta(days=4))
        if which == "next_week":
            return _Day(_monday(today) + timedelta(days=11))
        return _Day(date(today.year, 12, 31))

    m = _ISO_DATE.fullmatch(s)
    if m:
        d = _mkdate(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        return _Day(d) if d else None

    m = _MONTH_DAY.fullmatch(s)
    if m:
        d = _mkdate(today.year, int(m.group("m")), int(m.group("d")))
        return _Day(d) if d else None

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
        d = _mkdate(year, month, dom)
        return _Day(d) if d else None

    m = _ZH_DAY_OF_MONTH.fullmatch(s)
    if m:
        dom = _cn_int(m.group("d"))
        if dom is None:
            return None
        base = today + relativedelta(months=1) if (m.group("which") or "").startswith("下") else today
        d = _mkdate(base.year, base.month, dom)
        return _Day(d) if d else None

    m = _EN_MONTH_DAY.fullmatch(s) or _EN_DAY_MONTH.fullmatch(s)
    if m:
        year = int(m.group("y")) if m.group("y") else today.year
        d = _mkdate(year, _MONTHS_EN[m.group("mon")], int(m.group("d")))
        return _Day(d) if d else None

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

    return None


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


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    """d at wall time t in tz; a wall time skipped by DST moves forward to a real one."""
    return datetime.combine(d, t, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _after(a: datetime, b: datetime) -> bool:
    """a is later than b in real time (comparing in one zone would compare wall clocks, wrong around DST)."""
    return a.astimezone(UTC) > b.astimezone(UTC)


def _normalize_due(text: str) -> str:
    s = " ".join(_nfkc(text).casefold().split())
    s = re.sub(r"(?<=\d)t(?=\d)", " ", s)           # ISO '2026-12-05T17:00'
    s = re.sub(r"^(?:by|on|due)\s+", "", s)
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


def parse_due(text: str, now: datetime, tz: tzinfo, *, default_time: time = time(18, 0)) -> datetime:
    """A due date/time from EN or ZH text -> an aware datetime in tz, strictly after now.

    Raises UsageError 'parse.bad_date' (value) when the whole text can't be read,
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
            day = _parse_day(day_words, today) if day_words is not None else _Day(today)
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


# --------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------

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
