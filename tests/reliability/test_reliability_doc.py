"""RELIABILITY.md names the test that proves each guarantee: every test it names must exist."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def test_every_test_named_in_reliability_md_exists():
    doc = (ROOT / "RELIABILITY.md").read_text(encoding="utf-8")
    checked = 0
    current = None
    for m in REF.finditer(doc):
        path, name, same_file = m.groups()
        if path:
            current = path
            assert (ROOT / path).is_file(), f"RELIABILITY.md names a missing file: {path}"
        if name or same_file:
            source = (ROOT / current).read_text(encoding="utf-8")
            fn = name or same_file
            assert re.search(rf"^(async )?def {fn}\(", source, re.MULTILINE), f"RELIABILITY.md: no {current}::{fn}"
            checked += 1
    assert checked >= 40
