"""Chinese throughout: catalog labels for every state, type and role in replies, agendas, posts, CSV
files and charts; Chinese punctuation in Chinese text; planning figures in 万 without cents; quarters
as 第三季度; charts in 万 with every series in the legend and without non-sales roles; the chart on
demand with /kpi chart (/绩效 图表). English readers get the same in English.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东一组: wang (manager, zh), bob (manager, en), 李雷
and 韩梅梅 (reps, zh), amy (rep, en), 赵敏 (resource admin), 小马 (marketing).
"""
from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from commands.core.reply import File, Image
from tests.commands.team_world import sales_team
from tests.kit.dialog import Chat, run_dialog

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def uow(sqlite_uow):
    return sqlite_uow


@pytest.fixture
def chat(uow, clock) -> Chat:
    return sales_team(uow, clock, ("wang", "/团队 添加 @赵敏 资源管理部"), ("wang", "/团队 添加 @小马 市场部"))


def _csv(reply) -> list[list[str]]:
    path = next(p for p in reply.parts if isinstance(p, File)).path
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_field_labels_use_chinese_punctuation_in_chinese(chat):
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 下周五", ["负责人：<@李雷>", "截止："], ["负责人:", "截止:"]),
        ("bob", "/task add @amy call ACME due friday", ["Owner: <@amy>", "Due: "], ["Owner："]),
        ("李雷", "/资源 申请 财务 1.5万 用于 展会", ["申请人：", "状态：待经理批准"], ["状态:"]),
    ])


def test_agenda_names_resource_types_and_states_from_the_catalog(chat):
    run_dialog(chat, [
        ("李雷", "/资源 申请 财务 1.5万 用于 展会", ["#1"]),
        ("wang", "/资源 批准 1", ["#1"]),
        ("wang", "/会议", ["财务 ¥15,000（1.5万）（待审核）"], ["budget", "approved"]),
        ("bob", "/agenda", ["budget", "awaiting review"], ["财务", "待审核"]),
    ])


def test_csv_columns_and_cells_are_in_the_readers_language(chat, monkeypatch, tmp_path):
    monkeypatch.setenv("TEAMBOT_EXPORT_DIR", str(tmp_path))
    for user, text in [("赵敏", "/资源 盘点 财务 10万"), ("李雷", "/资源 申请 财务 1.5万 用于 展会"),
                       ("wang", "/资源 批准 1"), ("赵敏", "/资源 审核 1"), ("赵敏", "/资源 分配 1"),
                       ("wang", "/任务 新建 @李雷 拜访客户 截止 下周五"), ("李雷", "/进展 阻塞: 法务审核慢"),
                       ("李雷", "/进展 签约 销售额=5万")]:
        assert chat.say(user, text).ok, text
    resources = _csv(chat.say("wang", "/teambot 导出 资源"))
    row = dict(zip(resources[0], resources[1]))
    assert row["类型"] == "财务" and row["状态"] == "已分配待反馈"
    tasks = _csv(chat.say("wang", "/teambot 导出 任务"))
    assert dict(zip(tasks[0], tasks[1]))["状态"] == "进行中"
    progress = _csv(chat.say("wang", "/teambot 导出 进展"))
    rows = [dict(zip(progress[0], r)) for r in progress[1:]]
    assert {r["阻塞"] for r in rows} == {"是", "否"}
    assert {r["单位"] for r in rows if r["指标"]} == {"元"}
    resources = _csv(chat.say("bob", "/teambot export resources"))
    row = dict(zip(resources[0], resources[1]))
    assert row["Type"] == "budget" and row["State"] == "allocated, awaiting feedback"


def test_planning_figures_are_in_wan_without_cents(chat, clock):
    clock.set(datetime(2026, 8, 10, 10, tzinfo=SHANGHAI))
    assert chat.say("李雷", "/进展 签约 销售额=693548.38").ok
    assert chat.say("amy", "/progress deal sales=693548.38").ok
    clock.set(datetime(2026, 11, 26, 10, tzinfo=SHANGHAI))
    run_dialog(chat, [
        ("李雷", "/目标 设定 销售额 +20% 2026-Q4", ["83.2万"], ["832,258.06", "¥832"]),
        ("amy", "/goal set sales +20% 2026-Q4", ["¥832,258"], ["832,258.06"]),
        ("李雷", "/目标 回顾", ["83.2万"], ["832,258.06"]),
    ])


def test_quarters_are_written_the_chinese_way(chat):
    run_dialog(chat, [
        ("wang", "/绩效 团队 2026-Q3", ["2026年第三季度"], ["第3季度"]),
        ("wang", "/目标 设定 销售额 120万 2026-Q4 为团队", ["第四季度"], ["第4季度"]),
        ("bob", "/kpi team 2026-Q3", ["2026 Q3"]),
    ])


def test_kpi_chart_on_demand(chat, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("TEAMBOT_CHART_DIR", str(tmp_path))
    for user, text in [("李雷", "/进展 签约 销售额=86万"), ("韩梅梅", "/进展 签约 销售额=42万"),
                       ("小马", "/进展 活动 活动参与人数=120"), ("wang", "/目标 设定 销售额 50万 本月 为 @李雷")]:
        assert chat.say(user, text).ok, text
    for user, text in [("wang", "/绩效 图表"), ("bob", "/kpi chart"), ("李雷", "/绩效 图表 本月")]:
        reply = chat.say(user, text)
        assert reply.ok, reply.plain()
        images = [p for p in reply.parts if isinstance(p, Image)]
        assert len(images) == 1 and images[0].path.startswith(str(tmp_path)), reply.plain()
        # The leaderboard beside it lists sales people only.
        assert "@李雷" in reply.plain() and "@小马" not in reply.plain() and "@赵敏" not in reply.plain()


def test_chart_axis_in_wan_and_legend_with_every_series(tmp_path):
    pytest.importorskip("matplotlib")
    from commands.core import charts
    from commands.core.fmt import axis_amount

    assert axis_amount(860_000, "CNY", "zh") == "86万"
    assert axis_amount(1_250_000, "CNY", "zh") == "125万"
    assert axis_amount(5_000, "CNY", "zh") == "5,000"
    assert axis_amount(860_000, "CNY", "en") == "860k"
    chart = charts.render(tmp_path / "c.png", title="华东一组 · 2026年12月 · 销售额 目标与实际",
                          labels=[("李雷", "li"), ("韩梅梅", "han")], actual=[860_000, 420_000],
                          target=[None, 500_000], legend=("实际", "目标"),
                          value_format=lambda v: axis_amount(v, "CNY", "zh"))
    # The first member has no target: the legend still shows the target series.
    assert chart.series == ("实际", "目标")
    assert all(label.endswith("万") or label == "0" for label in chart.y_ticks), chart.y_ticks
