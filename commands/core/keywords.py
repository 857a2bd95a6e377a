"""Sub-command keywords and their aliases (`add`/`新建`), shared by every feature's parse()."""
from __future__ import annotations

Table = dict[str, tuple[str, ...]]


def keyword(word: str, table: Table) -> str | None:
    """'Add' / '新建' -> 'add' when the table lists it under 'add'."""
    w = word.casefold()
    return next((k for k, names in table.items() if w in names), None)


def split_head(text: str, table: Table) -> tuple[str | None, str, str]:
    """-> (keyword, the word as typed, rest). Chinese keywords may run straight into what follows
    ("完成12", "批准7", "新建@李雷 ..."), so a non-ASCII alias also matches as a prefix, longest first."""
    head, _, rest = text.partition(" ")
    kw = keyword(head, table)
    if kw is not None:
        return kw, head, rest.strip()
    for name in sorted((n for names in table.values() for n in names if not n.isascii()), key=len, reverse=True):
        if text.startswith(name):
            return keyword(name, table), name, text[len(name):].strip()
    return None, head, rest.strip()
