"""KPIs from the customer records (qualified 高质量客户, followups 跟进次数, won 赢单 and its amount), the
sales funnel under /kpi and in the KPI summary, with a fixed clock, in Chinese and English.

The records are written directly (the storage model /customer and /followup write); the numbers are
read back through the real /kpi command and the scheduled summary job."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commands.core import parsing
from commands.core.clock import FixedClock
from commands.kpi.funnel import stage_label
from commands.core.reply import Table
from reminders import summary_jobs
from storage import customer_queries as cq
from storage.models import Customer, CustomerStageChange, FollowUp, Team
from tests.kit.dialog import Chat, run_dialog
from tests.reminders.helpers import SHANGHAI, local

NOW = local("2026-11-26", "10:00")  # Thursday


def _team(uow, clock) -> Chat:
    chat = Chat(uow, clock)
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"), ("wang", "/team add @han rep"),
                       ("wang", "/team add @amy account_manager"), ("amy", "/teambot lang en")]:
        assert chat.say(user, text).ok, text
    return chat


def _customer(session, team_id, cid_name, owner, stage, *, amount=None, active=NOW, history=()):
    c = Customer(team_id=team_id, name=cid_name, name_key=cid_name, owner_id=owner, created_by="wang",
                 created_at=local("2026-09-01", "10:00"), stage=stage, amount=amount,
                 stage_changed_at=active, active_at=active, updated_at=active)
    session.add(c)
    session.flush()
    for frm, to, owner_then, day, amt in history:
        session.add(CustomerStageChange(customer_id=c.id, team_id=team_id, from_stage=frm, to_stage=to, amount=amt,
                                  owner_id=owner_then, by=owner_then or "teambot", at=local(day, "11:00")))
    return c


def _followups(session, team_id, c, by, days):
    for d in days:
        session.add(FollowUp(team_id=team_id, customer_id=c.id, by=by, how="call", note="电话", at=local(d, "15:00")))


def _seed(uow) -> int:
    with uow() as u:
        session = u.session
        team = session.scalars(select(Team)).one()
        tid = team.id
        yf = _customer(session, tid, "杭州云帆科技", "li", "won", amount=500_000, history=(
            (None, "lead", "li", "2026-11-02", None), ("lead", "contacted", "li", "2026-11-05", None),
            ("contacted", "qualified", "li", "2026-11-10", None), ("qualified", "proposal", "li", "2026-11-15", None),
            ("proposal", "won", "li", "2026-11-20", 500_000)))
        # Qualified while li owned it, then handed to han: li's KPI.
        my = _customer(session, tid, "苏州明远", "han", "qualified", amount=200_000, history=(
            (None, "contacted", "han", "2026-10-20", None), ("contacted", "qualified", "li", "2026-11-12", None)))
        _customer(session, tid, "宁波海联", "han", "lost", history=(
            (None, "lead", "han", "2026-11-03", None), ("lead", "lost", "han", "2026-11-18", None)))
        # In the pool: its release row (lead -> lead) is no stage reached.
        _customer(session, tid, "上海老客户", None, "lead", history=(
            (None, "lead", "li", "2026-10-01", None), ("lead", "lead", "li", "2026-11-01", None)))
        # Added straight into negotiation; no follow-up since 10-28: returns to the pool on Fri 11-27.
        bj = _customer(session, tid, "北京远景", "li", "negotiation", amount=300_000, active=local("2026-10-28", "10:00"),
                       history=((None, "negotiation", "li", "2026-11-04", 300_000),))
        _customer(session, tid, "广州老客户", "han", "qualified", history=((None, "qualified", "han", "2026-09-15", None),))
        _followups(session, tid, yf, "li", ("2026-11-03", "2026-11-09", "2026-11-19"))
        _followups(session, tid, my, "han", ("2026-11-16", "2026-11-24"))
        _followups(session, tid, bj, "li", ("2026-10-28",))
        return tid


def _tables(reply) -> list[Table]:
    return [p for p in reply.parts if isinstance(p, Table)]


def _kpi_rows(reply) -> dict[str, tuple]:
    return {r[0]: r for r in _tables(reply)[0].rows}


def test_record_metrics_credit_the_owner_at_the_time(uow):
    clock = FixedClock(NOW)
    _team(uow, clock)
    tid = _seed(uow)
    nov = parsing.period_of("month", NOW, SHANGHAI)
    codes = list(cq.COMPUTED)
    with uow() as u:
        session = u.session
        team = cq.record_actuals(session, tid, codes, nov.start, nov.end)
        by_user = cq.record_actuals_by_user(session, tid, codes, nov.start, nov.end)
        october = parsing.period_of("month", local("2026-10-15", "10:00"), SHANGHAI)
        oct_team = cq.record_actuals(session, tid, codes, october.start, october.end)
        # A quality stage set later in the funnel: only proposal and beyond count.
        session.scalars(select(Team)).one().quality_stage = "proposal"
        session.flush()
        strict = cq.record_actuals(session, tid, ["qualified"], nov.start, nov.end)
    assert team == {"qualified": 3.0, "followups": 5.0, "won": 1.0, "won_amount": 500_000.0}
    assert by_user == {"li": {"qualified": 3.0, "followups": 3.0, "won": 1.0, "won_amount": 500_000.0},
                       "han": {"followups": 2.0}}
    assert oct_team == {"followups": 1.0}
    assert strict == {"qualified": 2.0}  # 杭州云帆 (proposal 11-15) and 北京远景 (added in negotiation)


def test_funnel_counts_reach_and_conversion(uow):
    clock = FixedClock(NOW)
    _team(uow, clock)
    tid = _seed(uow)
    with uow() as u:
        f = cq.funnel(u.session, tid)
        mine = cq.funnel(u.session, tid, owner_id="li")
    assert f.count == {"lead": 1, "qualified": 2, "negotiation": 1, "won": 1, "lost": 1}
    assert f.reached == {"lead": 6, "contacted": 4, "qualified": 4, "proposal": 2, "negotiation": 2, "won": 1}
    assert round(f.conversion("lead", "contacted"), 1) == 66.7 and f.conversion("qualified", "proposal") == 50.0
    assert (f.pipeline, f.in_pool, f.total) == (500_000.0, 1, 6)
    assert mine.count == {"won": 1, "negotiation": 1} and mine.pipeline == 300_000.0


def test_kpi_shows_record_metrics_and_the_funnel_zh_en(uow):
    clock = FixedClock(NOW)
    chat = _team(uow, clock)
    _seed(uow)
    wang = chat.say("wang", "/kpi")
    rows = _kpi_rows(wang)
    assert rows["高质量客户"][1] == "3" and rows["跟进次数"][1] == "5" and rows["赢单"][1] == "1"
    assert rows["赢单金额"][1] == "¥500,000（50万）"
    funnel = _tables(wang)[1]
    assert funnel.header == ("阶段", "当前客户", "累计到达", "转化率")
    assert funnel.rows[0] == (stage_label("lead", "zh"), "1", "6", f"66.7% → {stage_label('contacted', 'zh')}")
    assert funnel.rows[5] == (stage_label("won", "zh"), "1", "1", "—")
    run_dialog(chat, [
        ("wang", "/kpi", ["销售漏斗*（共 6 个客户）", "在谈金额（4 个未结单客户）：¥500,000（50万）", "公海中 1 个",
                          "即将退回公海 1 个：#5 北京远景（<@li>，11月27日 周五）"]),
        ("amy", "/kpi", ["Qualified customers", "Follow-ups", "Deals won", "Won amount", "Sales funnel* (6 customers)",
                         "Pipeline (4 open customers): ¥500,000", "About to return to the pool: 1: #5 北京远景 (<@li>, Fri Nov 27)"]),
        ("li", "/kpi me", ["<@li> 的销售漏斗*（共 2 个客户）", "#5 北京远景"]),
        # A rep sees the names of their own customers only.
        ("han", "/kpi", ["即将退回公海 1 个：其他成员的 1 个"], ["北京远景"]),
    ])
    li = _kpi_rows(chat.say("wang", "/kpi @li"))
    assert (li["高质量客户"][1], li["跟进次数"][1], li["赢单"][1]) == ("3", "3", "1")


def test_record_metrics_cannot_be_typed(uow):
    clock = FixedClock(NOW)
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("li", "/progress 拜访客户 高质量客户=1", ["“高质量客户”由客户记录自动统计，不能手动填写", "/customer 阶段"], [], False),
        ("amy", "/progress met ACME won=1", ["Deals won is counted from the customer records", "/customer stage"], [],
         False),
    ])


def test_team_without_customers_sees_no_customer_rows(uow):
    clock = FixedClock(NOW)
    chat = _team(uow, clock)
    assert chat.say("li", "/progress 拜访客户 拜访=1").ok
    reply = chat.say("wang", "/kpi")
    assert "高质量客户" not in _kpi_rows(reply) and "销售漏斗" not in reply.summary
    assert all("销售漏斗" not in getattr(p, "text", "") for p in reply.parts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_monthly_summary_has_the_funnel(uow, lang):
    clock = FixedClock(NOW)
    _team(uow, clock)
    tid = _seed(uow)
    from commands.core.workdays import calendar_for
    from reminders.jobs import JobRun
    with uow() as u:
        session = u.session
        team = session.get(Team, tid)
        team.lang = lang
        slot = local("2026-12-01", "09:00")
        run = JobRun(team=team, kind="kpi_summary_monthly", slot=slot, fire_at=slot, now=slot,
                     calendar=calendar_for("CN"))
        out = summary_jobs.kpi_summary_monthly(session, run)
    assert len(out) == 1
    texts = [getattr(p, "text", "") for p in out[0].reply.parts]
    kpi_rows = {r[0]: r for r in _tables(out[0].reply)[0].rows}
    if lang == "zh":
        assert kpi_rows["高质量客户"][1] == "3" and kpi_rows["赢单金额"][1] == "¥500,000（50万）"
        assert any("销售漏斗" in x for x in texts)
        # Not released yet (no job ran here): due today, listed with today's date.
        assert "⏳ 即将退回公海 1 个：#5 北京远景（<@li>，12月1日 周二）" in texts
    else:
        assert kpi_rows["Qualified customers"][1] == "3"
        assert any("Sales funnel" in x for x in texts)


def test_agenda_lists_stuck_deals_pool_returns_and_wins_zh_en(uow):
    clock = FixedClock(NOW)
    chat = _team(uow, clock)
    tid = _seed(uow)
    with uow() as u:
        session = u.session
        c = _customer(session, tid, "深圳华强", "han", "proposal", amount=800_000, history=(
            (None, "lead", "han", "2026-10-01", None), ("lead", "proposal", "han", "2026-10-20", None)))
        c.stage_changed_at = local("2026-10-20", "11:00")  # 37 days in 方案报价
        _customer(session, tid, "武汉光谷", "han", "won", amount=1_200_000, history=(
            (None, "negotiation", "han", "2026-11-02", None), ("negotiation", "won", "han", "2026-11-24", None)))
    run_dialog(chat, [
        ("wang", "/agenda", ["停滞超过 14 天的客户（2）", f"#7 深圳华强 — {stage_label('proposal', 'zh')} 已 37 天，负责人 <@han>",
                             "即将因 30 天未跟进退回公海（1）", "#5 北京远景 — <@li>，11月27日 周五 退回",
                             "赢单（1）", "#8 武汉光谷 — <@han> ¥1,200,000（120万）"], ["杭州云帆科技 — <@li>"]),
        ("amy", "/agenda", ["Deals stuck for more than 14 days (2)", "About to return to the pool", "Deals won (1):",
                            "#8 武汉光谷 — <@han> ¥1,200,000"]),
    ])
