from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Metric, ProgressEntry, ProgressValue
from tests.kit.dialog import Chat, row_counts, run_dialog


def _team(uow, clock, lang_user_locale=None) -> Chat:
    chat = Chat(uow, clock, locales=lang_user_locale or {})
    assert chat.say("wang", "/team setup 华东销售一组").ok
    assert chat.say("wang", "/team add @li rep").ok
    assert chat.say("wang", "/team add @amy rep").ok
    assert chat.say("amy", "/teambot lang en").ok
    return chat


def _values(uow) -> dict[str, float]:
    with uow() as u:
        rows = u.session.execute(select(Metric.code, ProgressValue.value)
                                 .join(Metric, Metric.id == ProgressValue.metric_id)).all()
    return {code: value for code, value in rows}


def test_log_progress_in_chinese_with_units(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("li", "/progress 签约ACME年框 销售额=50万 新客户=1")
    assert reply.ok and reply.private
    text = reply.plain()
    assert "已记录进展：签约ACME年框" in text
    assert "销售额 ¥500,000" in text and "新客户 1" in text
    assert _values(uow) == {"sales": 500_000, "customers": 1}
    with uow() as u:
        e = u.session.scalars(select(ProgressEntry)).one()
        assert (e.user_id, e.note, e.is_blocker) == ("li", "签约ACME年框", False)
        assert e.created_at == clock.now()


def test_log_progress_in_english_with_units(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("amy", "/progress signed ACME annual deal sales=1.2m customers=2 csat=92.5%")
    text = reply.plain()
    assert reply.ok, text
    assert "Progress logged: signed ACME annual deal" in text
    assert "Sales ¥1,200,000" in text and "New customers 2" in text and "92.5%" in text
    assert _values(uow) == {"sales": 1_200_000, "customers": 2, "csat": 92.5}


def test_amount_forms(uow, clock):
    chat = _team(uow, clock)
    for typed, expected in [("sales=50k", 50_000), ("sales=5w", 50_000), ("sales=3亿", 300_000_000),
                            ("sales=1,200,000", 1_200_000), ("销售额＝５万", 50_000), ("sales:200k", 200_000)]:
        reply = chat.say("li", f"/progress deal {typed}")
        assert reply.ok, (typed, reply.plain())
        with uow() as u:
            v = u.session.scalars(select(ProgressValue).order_by(ProgressValue.id.desc())).first()
        assert v.value == expected, typed


def test_blocker_is_recorded_as_blocker(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("li", "/progress 阻塞: 客户法务审核合同超过两周", ["已记录阻塞问题", "问题讨论"]),
        ("amy", "/progress blocker: legal review is stuck", ["Blocker logged", "Problems"]),
        ("amy", "/progress blocker:", ["Describe the blocker"], [], False),
    ])
    with uow() as u:
        assert [e.is_blocker for e in u.session.scalars(select(ProgressEntry))] == [True, True]


def test_unknown_metric_lists_known_ones_and_writes_nothing(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("li", "/progress 签约 利润=5万", ["不认识指标“利润”", "sales / 销售额", "visits / 拜访", "正确示例"],
         [], False),
        ("amy", "/progress deal profit=5k", ["Unknown metric “profit”", "Example:"], [], False),
        ("amy", "/progress deal sales=lots", ["lots"], [], False),
        ("amy", "/progress deal sales=10%", ["not a percentage"], [], False),
        ("amy", "/progress survey csat=120", ["from 0 to 100"], [], False),
        ("amy", "/progress deal sales=1 销售额=2", ["given twice"], [], False),
        ("amy", "/progress", ["Say what you did"], [], False),
    ])
    assert row_counts(uow) == before


def test_outsider_cannot_log(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("stranger", "/progress hello")
    assert not reply.ok and "还不是团队“华东销售一组”的成员" in reply.plain()
    reply = chat.say("stranger", "/progress hello", channel="C-unbound")
    assert not reply.ok and "还没有绑定团队" in reply.plain()


def test_list_this_week_last_week_and_by_person(uow, clock):
    chat = _team(uow, clock)
    clock.advance(days=-7)
    chat.say("li", "/progress 上周拜访 visits=3")
    clock.advance(days=7)
    chat.say("li", "/progress 本周签约 sales=10万")
    chat.say("amy", "/progress demo for Globex visits=1")
    this_week = chat.say("wang", "/progress list").plain()
    assert "本周签约" in this_week and "demo for Globex" in this_week and "上周拜访" not in this_week
    last_week = chat.say("wang", "/progress list 上周").plain()
    assert "上周拜访" in last_week and "本周签约" not in last_week
    amy_only = chat.say("amy", "/progress list @amy this week").plain()
    assert "demo for Globex" in amy_only and "本周签约" not in amy_only
    empty = chat.say("amy", "/progress list 2026-01")
    assert empty.ok and "No progress" in empty.plain()
    bad = chat.say("amy", "/progress list someday")
    assert not bad.ok


def test_undo_own_last_entry_within_24h(uow, clock):
    chat = _team(uow, clock)
    chat.say("li", "/progress 第一条 visits=1")
    chat.say("li", "/progress 第二条 visits=2")
    chat.say("amy", "/progress amy's entry visits=5")
    reply = chat.say("li", "/progress undo")
    assert reply.ok and "已撤销" in reply.plain() and "第二条" in reply.plain()
    with uow() as u:
        notes = sorted(e.note for e in u.session.scalars(select(ProgressEntry)))
        assert notes == ["amy's entry", "第一条"]
        assert sorted(v.value for v in u.session.scalars(select(ProgressValue))) == [1, 5]
    clock.advance(timedelta(hours=25))
    reply = chat.say("li", "/progress 撤销")
    assert not reply.ok and "超过 24 小时" in reply.plain()
    assert not chat.say("wang", "/progress undo").ok  # wang has no entry


def test_undo_button_runs_the_same_command(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("li", "/progress 拜访 visits=1")
    from commands.core.reply import Actions
    button = next(p for p in reply.parts if isinstance(p, Actions)).buttons[0]
    assert button.command == "/progress undo"
    assert chat.say("li", button.command).ok
    assert row_counts(uow)["progress_entry"] == 0
