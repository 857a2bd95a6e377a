"""Amounts with units and percentages: 5万, 1.2k, 30%, ¥300."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from commands.core.errors import UsageError
from commands.core.parsing.numbers import cn_number
from commands.core.parsing.text import _MAX_LEN, _nfkc, _shown


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
_UNITS = "元|块钱|块|人|个|家|位|名|次"
# Chinese numerals: '五万', '两人', '一百二十万元', '百分之二十'.
_CN_AMOUNT = re.compile(
    r"(?P<sign>[+\-])?\s*(?P<cur>¥)?\s*(?P<pct>百分之)?(?P<num>[零〇一二两三四五六七八九十百千万亿]+)"
    rf"\s*(?P<unit>{_UNITS})?"
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
        return _chinese(s, text)
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


def _chinese(s: str, text: str) -> Amount:
    m = _CN_AMOUNT.fullmatch(s)
    n = cn_number(m.group("num")) if m else None
    if m is None or n is None or (m.group("pct") and (m.group("cur") or m.group("unit"))):
        raise _bad_amount(text)
    if n > _MAX_AMOUNT:
        raise _bad_amount(text)
    value = float(-n if m.group("sign") == "-" else n)
    return Amount(value if value != 0 else 0.0, bool(m.group("pct")))


def is_amount(text: str) -> bool:
    """Whether `text` reads as an amount (parse_amount would not refuse it)."""
    try:
        parse_amount(text)
        return True
    except UsageError:
        return False
