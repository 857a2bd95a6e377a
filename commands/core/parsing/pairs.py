"""key=value pairs: `销售额=50万，新客户=1` (full-width separators, several pairs per chunk)."""
from __future__ import annotations

import re

from commands.core.parsing.amounts import is_amount
from commands.core.parsing.text import _nfkc

_URL = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_AMOUNT_START = "0123456789+-−.¥"
# '销售额=50万，新客户=1': a comma (or ; 、) directly followed by another key= starts a new pair.
_CHUNK_SPLIT = re.compile(r"[,;、](?=[^\s,;、=:]+(?:=|:[0-9+\-−.¥]))")


#: Punctuation typed after a value before the next pair ('sales=5k, customers=1').
_TRAILING = ",;、。"


def _pair(token: str) -> tuple[str, str] | None:
    """token is NFKC-normalized (so '＝' and '：' are already '=' and ':')."""
    if _URL.match(token):
        return None
    if token[-1:] in _TRAILING and ("=" in token or ":" in token):
        token = token.rstrip(_TRAILING)
    key, sep, value = token.partition("=")
    if sep:
        if key and value and not any(c.isspace() for c in token):
            return key, value
        return None
    key, sep, value = token.partition(":")
    if (
        sep and key and value
        and not key.isdigit()
        and _amount_like(value)
        and not any(c.isspace() for c in token)
    ):
        return key, value
    return None


def _amount_like(value: str) -> bool:
    """What may follow ':' in a pair: something that starts like a number, or Chinese numerals that
    read as one ('五万'); '备注: 一起去' stays prose."""
    return value[:1] in _AMOUNT_START or is_amount(value)


def _joined(tokens: list[str]) -> list[list[str]]:
    """Tokens with a pair typed around spaces put back together: `销售额 = 5万`, `销售额 =5万`,
    `销售额= 5万`, `sales : 5k`. A spaced ':' joins only before something that reads as an amount and
    ends the text or comes before another pair, so `blocker: 3 deals stuck` and `备注: 带上报价` stay
    prose. -> groups of tokens as typed, each a candidate pair."""
    out: list[list[str]] = []
    n = len(tokens)

    def tok(j: int) -> str:
        return _nfkc(tokens[j]) if j < n else ""

    def ends(j: int) -> bool:
        """Nothing after token j but more pairs."""
        return j >= n or any(c in tok(j) for c in "=:") or tok(j + 1)[:1] in ("=", ":")

    i = 0
    while i < n:
        norm, nxt = tok(i), tok(i + 1)
        if norm in ("=", ":") and out and nxt and _joins(norm, nxt, ends(i + 2)) \
                and not _URL.match(_nfkc(out[-1][0])):
            out[-1] = out[-1] + [tokens[i], tokens[i + 1]]
            i += 2
            continue
        if norm[-1:] in ("=", ":") and len(norm) > 1 and "=" not in norm[:-1] and nxt \
                and _joins(norm[-1], nxt, ends(i + 2)) and not _URL.match(norm):
            out.append([tokens[i], tokens[i + 1]])
            i += 2
            continue
        if nxt[:1] in ("=", ":") and len(nxt) > 1 and "=" not in norm and ":" not in norm \
                and _joins(nxt[0], nxt[1:], ends(i + 2)) and not _URL.match(norm):
            out.append([tokens[i], tokens[i + 1]])
            i += 2
            continue
        if nxt in ("=", ":") and tok(i + 2) and _joins(nxt, tok(i + 2), ends(i + 3)) and "=" not in norm \
                and not _URL.match(norm):
            out.append([tokens[i], tokens[i + 1], tokens[i + 2]])
            i += 3
            continue
        out.append([tokens[i]])
        i += 1
    return out


def _joins(sep: str, value: str, last: bool) -> bool:
    return sep == "=" or (last and _amount_like(_nfkc(value)))


def split_pairs(text: str) -> tuple[str, list[tuple[str, str]]]:
    """'signed ACME sales=500k customers=1' -> ('signed ACME', [('sales', '500k'), ('customers', '1')]).

    '=' / '＝' always makes a pair when both sides are non-empty (a token starting with a URL scheme
    such as 'https://x?a=b' stays in the note). ':' / '：' makes a pair only when the key is not all
    digits and the value looks like an amount ('sales:500k', but not '10:30', 'note:' or a URL).
    Spaces around the sign are allowed (`销售额 = 5万`, `sales : 5k`).
    Keys and values come back NFKC-normalized; the note keeps the words as typed.
    """
    words: list[str] = []
    pairs: list[tuple[str, str]] = []
    for group in _joined((text or "").split()):
        tok = "".join(group)
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
            words.extend(group)
    return " ".join(words), pairs
