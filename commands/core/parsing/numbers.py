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
