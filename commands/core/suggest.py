"""Did you mean: the closest of a set of words to what was typed (commands, keywords, scopes, metric
names, types, roles), by edit distance with adjacent swaps counted as one edit (Damerau's optimal
string alignment), so `progres`, `porgress`, `lsit`, `任物`, `目表` and `撤俏` each find their word."""
from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b, ignoring case."""
    a, b = a.casefold(), b.casefold()
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def allowed(word: str) -> int:
    """How many edits still count as a typo of a word this long: one in a short word (two Chinese
    characters are a whole keyword), two from five letters, three from nine."""
    n = len(word)
    if not word.isascii():
        return 1 if n <= 4 else 2
    return 1 if n <= 4 else 2 if n <= 8 else 3


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to `word` within allowed(word) edits, preferring one written in the same
    script (a Chinese word suggests a Chinese alias); the first listed wins a tie. An ASCII word of
    three letters or more that starts exactly one candidate also finds it (`prog` -> `progress`).
    None when nothing is close, or when `word` is itself a candidate."""
    word = (word or "").strip()
    if not word or len(word) > 40:
        return None
    cands = [c for c in dict.fromkeys(candidates) if c]
    if any(c.casefold() == word.casefold() for c in cands):
        return None
    same = [c for c in cands if c.isascii() == word.isascii()]
    best, best_d = None, allowed(word) + 1
    for c in same:
        if abs(len(c) - len(word)) >= best_d:
            continue
        d = distance(word, c)
        if d < best_d:
            best, best_d = c, d
    if best is not None:
        return best
    if word.isascii() and len(word) >= 3:
        starts = [c for c in same if c.casefold().startswith(word.casefold())]
        if len(starts) == 1:
            return starts[0]
    return None
