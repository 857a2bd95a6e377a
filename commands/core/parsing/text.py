"""Typed text as the parsers see it (NFKC), and as an error message shows it back."""
from __future__ import annotations

import unicodedata

#: Longest text we try to read as an amount, a date or a period; anything longer is an error.
_MAX_LEN = 80


def _nfkc(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _shown(text: str | None) -> str:
    """The text as typed, for an error message (stripped; cut short if absurdly long)."""
    s = (text or "").strip()
    return s if len(s) <= 60 else s[:59] + "…"
