"""/assess (考核) and /kpi weights: the sheet's numbers, the bands, who confirms what, the member's
answer, and the CSV, in Chinese and English through the real dispatcher and database.

li's November 2026 (targets: sales 200k, customers 5, csat 90%; logged: 220k, 4, 95%; each attainment
counts up to 120%):
  equal weights -> (110 + 80 + 105.6) / 3 = 98.5 A;
  weights 50/30/20 -> 55 + 24 + 21.1 = 100.1 A;
mei's November (target sales 200k, logged 130k): 65 C with equal weights; with 50/30/20 only sales
has a target, so it weighs 100%: 65 C.
"""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from commands.assess import band, parse
from commands.assess.parse import Acknowledge, ConfirmAssessment, Object, ShowSheet
from commands.core.clock import FixedClock
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import File
from storage.models import Assessment
from tests.kit.dialog import Chat, run_dialog

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day} {hm}").replace(tzinfo=SH)


@pytest.fixture
def chat(uow):
    clock = FixedClock(at("2026-11-02"))
    c = Chat(uow, clock)
    for user, line in (("wang", "/team setup 华东一组"), ("wang", "/team add @li rep"), ("wang", "/team add @mei rep"),
                       ("wang", "/team add @zhou performance_admin"), ("wang", "/team add @amy rep"),
                       ("wang", "/goal set sales 200k 2026-11 for @li"), ("wang", "/goal set customers 5 2026-11 for @li"),
                       ("wang", "/goal set csat 90% 2026-11 for @li"), ("wang", "/goal set sales 200k 2026-11 for @mei"),
                       ("wang", "/goal set sales 600k 2026-Q4 for @li"), ("amy", "/teambot lang en")):
        assert c.say(user, line).ok, line
    clock.set(at("2026-11-20"))
    assert c.say("li", "/progress 签约 销售额=22万 新客户=4 满意度=95").ok
    assert c.say("mei", "/progress 回款 sales=130k").ok
    clock.set(at("2026-12-01"))
    return c


def test_the_sheet_and_the_weights(chat):
    run_dialog(chat, [
        ("li", "/考核 上月", ["考核表", "2026年11月", "110%", "80%", "105.6%", "33.3%", "总分：98.5", "A（优秀）",
                            "平均分配", "尚未确认（由销售经理确认）"]),
        ("mei", "/assess 2026-11", ["65%", "100%", "总分：65", "C（合格）"]),
        ("li", "/kpi weights", ["考核权重", "未设置权重", "平均分配"], ["%"]),
        ("li", "/kpi weights sales=100", ["🚫"], [], False),
        ("wang", "/kpi weights sales=50 customers=30 csat=30", ["权重合计为 110，须正好为 100", "/kpi weights"], [], False),
        ("wang", "/kpi weights sales=50 visits=0 csat=50", ["须大于 0"], [], False),
        ("wang", "/kpi weights sales=50 sales=50", ["写了两次"], [], False),
        ("wang", "/kpi weights salse=50 csat=50", ["salse", "sales"], [], False),
        ("wang", "/kpi weights sales=half csat=50", ["不是数字"], [], False),
        ("wang", "/绩效 权重 销售额=50% 新客户：30 满意度=20", ["已更新考核权重", "50%", "30%", "20%"]),
        ("li", "/考核 11月", ["总分：100.1", "A（优秀）", "权重按团队设置"]),
        # Only sales has a target for mei: the other weights are scaled up.
        ("mei", "/考核 上月", ["总分：65", "不计分", "新客户"]),
        ("li", "/考核 上月 @mei", ["🚫", "只有销售经理或绩效管理部"], [], False),
        ("wang", "/考核 上月 @li", ["总分：100.1"]),
        ("wang", "/考核 上月", ["考核", "<@li>", "100.1", "<@mei>", "65", "待确认", "/assess confirm 2026-11 @li"]),
        ("zhou", "/assess 2026-Q4 team", ["2026年第四季度", "<@li>", "/assess confirm 2026-Q4 @li"]),
        ("li", "/考核 团队", ["🚫"], [], False),
        ("wang", "/kpi weights reset", ["已更新考核权重", "平均分配"]),
        ("li", "/考核 2026Q4", ["2026年第四季度", "600,000"]),
        ("li", "/考核 2026-W48", ["考核按月、季度或年度"], [], False),
        ("li", "/考核 下下月", ["下下月", "不是团队成员，也不是周期"], [], False),
        ("amy", "/assess last month", ["Assessment", "November 2026", "no personal targets"]),
        # One windfall counts up to 120%: Q4 sales 2.42m of 600k is 403.3%, scored 120.
        ("li", "/progress 年框大单 销售额=220万", ["220万"]),
        ("li", "/考核 本季度", ["403.3%", "100%", "120", "总分：120", "最多按 120% 计", "本期尚未结束"]),
    ])


def test_confirm_ack_object(chat):
    run_dialog(chat, [
        ("li", "/assess confirm 2026-11 @mei", ["🚫", "月度考核由销售经理确认", "每月初 销售经理；季度末、年度末 绩效管理部"],
         [], False),
        ("zhou", "/assess confirm 2026-11 @li", ["🚫", "月度考核由销售经理确认"], [], False),
        ("wang", "/assess confirm 2026-Q4 @li", ["🚫", "季度考核由绩效管理部确认"], [], False),
        ("wang", "/assess confirm 2026 @li", ["🚫", "年度考核由绩效管理部确认"], [], False),
        ("wang", "/assess confirm 2027-01 @li", ["还没开始"], [], False),
        ("wang", "/assess confirm 2026-11", ["@"], [], False),
        ("wang", "/assess confirm @li", ["考核周期"], [], False),
        ("wang", "/assess confirm 2026-11 @li score=abc", ["分数“abc”不对"], [], False),
        ("wang", "/assess confirm 2026-11 @li score=300", ["0 到 200"], [], False),
        ("wang", "/assess confirm 2026-11 @wang", ["不能确认自己的考核"], [], False),
        ("wang", "/assess confirm 2026-11 @zhou", ["没有可计分的指标", "score=80"], [], False),
        ("wang", "/考核 确认 上月 @li score=88 表现稳定", ["已确认 <@li> 2026年11月的考核：88 分，等级 B（良好）"]),
        ("li", "/考核 上月", ["总分：88", "按指标计算为 98.5", "已由 <@wang>", "评语：表现稳定", "[认可]", "[提出异议]"]),
        ("li", "/考核 异议 11月", ["请写明异议的理由"], [], False),
        ("li", "/考核 异议 11月 新客户少算了一家", ["异议转给 <@wang>"]),
        ("wang", "/考核 上月 @li", ["有异议", "异议：新客户少算了一家"]),
        ("wang", "/考核 确认 上月 @li", ["已重新确认", "98.5 分，等级 A"]),
        ("li", "/考核 认可", ["已认可2026年11月的考核"]),
        ("li", "/考核 认可 2026-11", ["已经认可过"]),
        ("li", "/考核 异议 2026-11 还是不对", ["不能再提出异议"], [], False),
        ("mei", "/assess ack", ["还没有已确认的考核"], [], False),
        ("mei", "/assess ack 2026-10", ["还没有确认"], [], False),
        ("zhou", "/assess confirm 2026-Q4 @li 季度表现好", ["已确认 <@li> 2026年第四季度"]),
        ("zhou", "/考核 确认 2026 @mei score=70", ["2026年", "70 分", "C（合格）"]),
    ])
    with chat.uow() as u:
        rows = {(a.user_id, a.period): a for a in u.session.scalars(select(Assessment))}
    li = rows[("li", "2026-11")]
    assert (li.status, li.computed, li.override, li.band, li.confirmed_by) == ("acknowledged", 98.5, None, "A", "wang")
    assert '"code": "sales"' in li.sheet and rows[("li", "2026-Q4")].comment == "季度表现好"
    assert rows[("mei", "2026")].override == 70 and rows[("mei", "2026")].confirmed_by == "zhou"


def test_the_member_and_the_confirmer_are_told(chat):
    dms = {}

    def outgoing(user, line):
        reply = chat.say(user, line)
        assert reply.ok, reply.plain()
        with chat.uow() as u:
            from storage.models import OutboxMessage
            rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for m in rows:
            dms.setdefault(m.destination, []).append(m.payload)

    outgoing("wang", "/考核 确认 2026-11 @li 不错")
    li = " ".join(dms["user:li"])
    assert "确认了你在“华东一组”2026年11月的考核" in li and "/assess ack 2026-11" in li and "/assess object 2026-11" in li
    dms.clear()
    outgoing("li", "/assess object 2026-11 csat was 97")
    wang = " ".join(dms["user:wang"])
    assert "对“华东一组”2026年11月的考核有异议：csat was 97" in wang


def test_export_assessments(chat, tmp_path, monkeypatch):
    monkeypatch.setenv("TEAMBOT_EXPORT_DIR", str(tmp_path))
    assert chat.say("wang", "/考核 确认 2026-11 @li score=88 =HYPERLINK(\"x\")").ok
    reply = chat.say("wang", "/teambot export assessments 2026-11")
    assert reply.ok and "3 行" in reply.plain()  # li, mei, amy (reps)
    path = next(p for p in reply.parts if isinstance(p, File)).path
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:6] == ["用户ID", "姓名", "角色", "周期", "得分", "等级"]
    li = next(r for r in rows if r[0] == "li")
    assert li[3:9] == ["2026-11", "88", "B", "98.5", "88", "已确认"] and li[9] == "wang"
    assert li[11].startswith("'=HYPERLINK")  # a comment is never a formula
    assert "销售额 110%×33.3%" in li[13]
    mei = next(r for r in rows if r[0] == "mei")
    assert mei[4:6] == ["65", "C"] and mei[8] == "待确认"
    mine = chat.say("li", "/teambot 导出 考核 上月")
    with open(next(p for p in mine.parts if isinstance(p, File)).path, encoding="utf-8-sig") as f:
        assert [r[0] for r in csv.reader(f)] == ["用户ID", "li"]
    assert not chat.say("wang", "/teambot export assessments 2026-W48").ok


@pytest.mark.parametrize("score,expected", [(None, "—"), (90, "A"), (89.95, "B"), (75, "B"), (74.9, "C"),
                                            (60, "C"), (59.9, "D"), (0, "D"), (130, "A")])
def test_bands(score, expected):
    assert band(score) == expected


def _ctx():
    inv = Invocation(actor=Actor("console", "wang", "wang"), channel="C", command="assess", text="",
                     received_at=at("2026-12-01"))
    return Ctx(inv=inv, lang="zh", tz=SH, now=at("2026-12-01").astimezone(ZoneInfo("UTC")))


@pytest.mark.parametrize("text,label", [("上月", "2026-11"), ("last month", "2026-11"), ("11月", "2026-11"),
                                        ("2026-11", "2026-11"), ("2026Q4", "2026-Q4"), ("Q3", "2026-Q3"),
                                        ("上季度", "2026-Q3"), ("2025", "2025"), ("去年", "2025"),
                                        ("2026年11月", "2026-11"), ("本季度", "2026-Q4")])
def test_periods(text, label):
    req = parse(text, _ctx())
    assert isinstance(req, ShowSheet) and req.period.label == label
    req = parse(f"confirm {text} @li score=85 很好", _ctx())
    assert isinstance(req, ConfirmAssessment) and req.period.label == label
    assert (req.who.name, req.score, req.comment) == ("li", 85, "很好")
    assert parse(f"认可 {text}", _ctx()) == Acknowledge(req.period)
    assert parse(f"异议 {text} 数据有误", _ctx()) == Object(req.period, "数据有误")


@pytest.mark.parametrize("text", ["confirm 上月 @li score=85 很好", "确认 上月 @li 得分 85 很好", "确认 上月 @li 85分 很好",
                                  "确认 上月 @li 分数：85 很好", "confirm last month @li SCORE = 85 很好"])
def test_score_spellings(text):
    req = parse(text, _ctx())
    assert (req.period.label, req.who.name, req.score, req.comment) == ("2026-11", "li", 85, "很好")


@pytest.mark.parametrize("text", ["confirm 2026-W48 @li", "confirm 下下月 @li", "confirm 2026-11 @li @mei",
                                  "异议", "ack 上月 多余", "confirm 2026-11 @li score=-1", "@li @mei"])
def test_parse_refusals(text):
    with pytest.raises(UsageError):
        parse(text, _ctx())


def test_a_quarter_scores_the_monthly_targets(chat):
    """mei has a recurring monthly customers target (5 a month: 15 for Q4) and one exact November
    sales target (no October or December one: no quarterly sales target is made up)."""
    run_dialog(chat, [
        ("wang", "/goal set customers 5 monthly for @mei", ["5"]),
        ("mei", "/progress 新签 新客户=3", ["新客户 3"]),
        ("zhou", "/考核 2026Q4 @mei", ["新客户", "15", "20%", "总分：20", "D（待改进）", "按各月目标合计"],
         ["¥200,000"]),
        ("zhou", "/assess confirm 2026-Q4 @mei", ["20 分", "D"]),
        ("wang", "/kpi weights sales 60 customers 40", ["已更新考核权重", "60%", "40%"]),
        ("wang", "/kpi weights sales=0.5 customers=0.3 csat=0.2", ["50%", "30%", "20%"]),
        ("wang", "/kpi weights sales 60 customers", ["不是 指标=权重 的写法"], [], False),
    ])
