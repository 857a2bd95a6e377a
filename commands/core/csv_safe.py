"""CSV files that open safely in a spreadsheet: UTF-8 with a byte-order mark, no cell a formula.

Every export writes through `write()`. A spreadsheet (Excel, WPS, LibreOffice, Numbers) runs a cell
that starts with `=`, `+`, `-` or `@` as a formula, and tab or carriage return can smuggle one in,
so such a cell gets a leading `'` and reads as the text the user typed (OWASP's CSV injection
rule). The full-width forms (＝＋－＠) are neutralised too: Chinese input methods type them and
spreadsheets in CJK locales may read them as their ASCII twins. A cell that is a plain number,
`-12.5` included, stays a number.
"""
from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable

TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value: object) -> str:
    """The text of one cell: None as empty, a number as itself, any other text never a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and text[0] in TRIGGERS and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write(path: str | os.PathLike, header: Iterable[object], rows: Iterable[Iterable[object]]) -> int:
    """Write header and rows, every cell through `cell()`; returns the number of data rows."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([cell(v) for v in header])
        for row in rows:
            w.writerow([cell(v) for v in row])
            n += 1
    return n
