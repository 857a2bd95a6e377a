"""The parsing layer every command shares: mentions, key=value pairs, amounts, due dates and periods (EN + ZH).

Everything here is pure: text (plus `now` and a zone where time matters) in, a value or a UsageError out.
No function lets any other exception escape for any input text, and dates are never guessed: the whole
text must be understood, and a date that has already passed is an error rather than next year's.

One module per kind of value; import the names from the package (`from commands.core.parsing import
parse_due`), not from the module that happens to hold them.
"""
from __future__ import annotations

from commands.core.parsing.amounts import Amount, is_amount, parse_amount
from commands.core.parsing.dates import parse_due
from commands.core.parsing.mentions import Mention, parse_mention, take_mentions
from commands.core.parsing.pairs import split_pairs
from commands.core.parsing.periods import KINDS, Period, is_period, parse_period, period_of, previous

# Agenda and goals read names the way the parsers do.
from commands.core.parsing.text import _nfkc  # noqa: F401

__all__ = [
    "Amount", "KINDS", "Mention", "Period", "is_amount", "is_period",
    "parse_amount", "parse_due", "parse_mention", "parse_period",
    "period_of", "previous", "split_pairs", "take_mentions",
]
