"""key=value pairs: `销售额=50万，新客户=1` (full-width separators, several pairs per chunk)."""
from __future__ import annotations

import re

from commands.core.parsing.text import _nfkc

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
