"""Numbers in words (EN) and Chinese numerals, for dates and periods."""
from __future__ import annotations

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


_CN_UNITS = {"十": 10, "百": 100, "千": 1_000}
_CN_SECTIONS = {"万": 10_000, "亿": 100_000_000}


def cn_number(s: str) -> int | None:
    """A whole number in Chinese numerals: '五' 5, '十二' 12, '两千' 2000, '一百二十万' 1,200,000,
    '三亿五千万' 350,000,000, '一万零五百' 10,500; None for anything else."""
    if not s or any(c not in _CN_DIGITS and c not in _CN_UNITS and c not in _CN_SECTIONS for c in s):
        return None
    total = section = 0
    digit: int | None = None
    last_unit = 10**9
    for c in s:
        if c in _CN_DIGITS:
            if digit is not None and digit != 0 and _CN_DIGITS[c] != 0:
                return None  # '五五' is not a number word
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            unit = _CN_UNITS[c]
            if unit >= last_unit or (digit is None and (c != "十" or section)):
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            big = _CN_SECTIONS[c]
            section += digit or 0
            if section == 0 or (total and total < big and big != 100_000_000):
                return None
            total = (total + section) * big if big == 100_000_000 else total + section * big
            section, digit, last_unit = 0, None, 10**9
    return total + section + (digit or 0)
