"""/teambot export: CSV files with a BOM so Excel opens Chinese text intact."""
from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.core.clock import FixedClock
from commands.core.errors import UsageError
from commands.core.reply import File
from commands.export import export
from storage.models import ResourceRequest, Team
from tests.commands import kpi_data as K


def _run(chat, user, kind, period, folder):
    """What the /teambot export route does: the dispatcher's context, one unit of work."""
    from commands.core.context import Actor, Invocation

    inv = Invocation(actor=Actor("console", user, user), channel=chat.channel, command="teambot",
                     text=f"export {kind} {period}", received_at=chat.clock.now())
    with chat.uow() as uow:
        ctx = chat.dispatcher.context(uow, inv)
        return export(kind, period, uow, ctx, folder=folder)


def _read(path):
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def world(uow):
    clock = FixedClock(K.NOW)
    chat, data, team_id = K.world(uow, clock)
    return chat, data, team_id


def test_progress_export(world, tmp_path):
    chat, data, _ = world
    reply = _run(chat, "李雷", "进展", "2026-09", tmp_path)
    assert reply.private and reply.ok
    files = [p for p in reply.parts if isinstance(p, File)]
    assert len(files) == 1 and files[0].mime == "text/csv" and files[0].path.startswith(str(tmp_path))
    rows = _read(files[0].path)
    assert rows[0] == ["时间", "用户ID", "内容", "阻塞", "指标代码", "指标", "数值", "单位"]
    start, end = K.month(2026, 9)
    values = [v for v in data.values if start <= v.at < end]
    blockers = [e for e in data.entries if e.blocker and start <= e.at < end]
    assert len(rows) - 1 == len(values) + len(blockers)
    assert f"{len(values) + len(blockers)} 行" in reply.plain()
    assert any(r[2].startswith("韩梅梅 跟进") and r[5] == "销售额" for r in rows[1:])
    total = sum(float(r[6]) for r in rows[1:] if r[4] == "sales")
    assert total == K.actual(data, "sales", start, end)


def test_kpi_export_matches_kpi(world, tmp_path):
    chat, data, _ = world
    chat.say("wang", "/goal set sales 1m 2026-10 for @李雷")
    reply = _run(chat, "wang", "kpi", "本月", tmp_path)
    rows = _read(next(p for p in reply.parts if isinstance(p, File)).path)
    assert rows[0][:6] == ["用户ID", "姓名", "指标代码", "指标", "单位", "实际"]
    by = {(r[0], r[2]): r for r in rows[1:]}
    start, end = K.month(2026, 10)
    li = by[("李雷", "sales")]
    assert li[1] == "李雷" and float(li[5]) == K.actual(data, "sales", start, end, "李雷") and li[6] == "1000000"
    assert float(by[("", "visits")][5]) == K.actual(data, "visits", start, end)
    assert by[("", "visits")][1] == "团队"


def test_tasks_and_resources_exports_and_who_sees_what(world, tmp_path):
    chat, _, team_id = world
    chat.say("wang", "/task add @李雷 回访“华东”客户, 带报价 due 2026-10-30 note 含税")
    with chat.uow() as u:
        for who in ("李雷", "alice"):
            u.session.add(ResourceRequest(team_id=team_id, requester=who, type="budget", amount=5000,
                                          purpose=f"{who}的展会预算", state="submitted",
                                          created_at=K.NOW - timedelta(days=1), updated_at=K.NOW))
    rows = _read(next(p for p in _run(chat, "alice", "tasks", "", tmp_path).parts if isinstance(p, File)).path)
    assert rows[1][1] == "回访“华东”客户, 带报价" and rows[1][6] == "含税" and rows[1][5] == "进行中"
    mine = _read(next(p for p in _run(chat, "alice", "资源", "", tmp_path).parts if isinstance(p, File)).path)
    assert [r[1] for r in mine[1:]] == ["alice"]
    everyone = _read(next(p for p in _run(chat, "wang", "resources", "本月", tmp_path).parts
                          if isinstance(p, File)).path)
    assert sorted(r[1] for r in everyone[1:]) == ["alice", "李雷"]
    assert everyone[1][5].endswith("的展会预算")


def test_bad_input(world, tmp_path):
    chat, _, _ = world
    with pytest.raises(UsageError):
        _run(chat, "wang", "salaries", "", tmp_path)
    with pytest.raises(UsageError):
        _run(chat, "wang", "kpi", "someday", tmp_path)
    with chat.uow() as u:
        assert u.session.scalars(select(Team)).one()
