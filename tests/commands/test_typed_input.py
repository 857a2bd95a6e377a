"""What people type is read the way they meant it, or refused by name; never stored half-understood.

Each case of the manager's month with the routine that cost trust has a zh and an en row: a metric
part with spaces or a full-width colon, a value without "=", a fractional count, 撤消 for 撤销, a
member named without @, relative and threshold goals in words, and the dates Chinese offices write
(12.20, 元旦前, 国庆后, 2026年底前) with due dates on non-working days echoed as such.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai (tests/conftest.py) unless a test moves it. Team 华东一组:
wang (manager, zh), bob (manager, en), 李雷 and 韩梅梅 (reps, zh), amy (rep, en).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import Goal, Metric, ProgressEntry, ProgressValue, Task
from tests.commands.team_world import sales_team
from tests.kit.dialog import Chat, row_counts, run_dialog

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def uow(sqlite_uow):
    return sqlite_uow


def _team(uow, clock) -> Chat:
    return sales_team(uow, clock)


def _values(uow) -> list[tuple[str, str, float]]:
    with uow() as u:
        rows = u.session.execute(select(ProgressEntry.user_id, Metric.code, ProgressValue.value)
                                 .join(ProgressEntry, ProgressEntry.id == ProgressValue.entry_id)
                                 .join(Metric, Metric.id == ProgressValue.metric_id)
                                 .order_by(ProgressValue.id)).all()
    return [tuple(r) for r in rows]


def _notes(uow) -> list[str]:
    with uow() as u:
        return list(u.session.scalars(select(ProgressEntry.note).order_by(ProgressEntry.id)))


def _tasks(uow) -> list[tuple[str, str, datetime]]:
    with uow() as u:
        return [(x.assignee, x.title, x.due_at.astimezone(SHANGHAI))
                for x in u.session.scalars(select(Task).order_by(Task.id))]


# -- metric parts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("user, typed, code, value, note", [
    ("李雷", "/进展 空格测试 销售额 = 5万", "sales", 50_000, "空格测试"),
    ("李雷", "/进展 空格测试 销售额 =5万", "sales", 50_000, "空格测试"),
    ("李雷", "/进展 空格测试 销售额= 5万", "sales", 50_000, "空格测试"),
    ("李雷", "/进展 全角测试 销售额 ＝ ５万", "sales", 50_000, "全角测试"),
    ("李雷", "/进展 冒号测试 销售额：5万", "sales", 50_000, "冒号测试"),
    ("李雷", "/进展 冒号测试 销售额 ： 5万", "sales", 50_000, "冒号测试"),
    ("amy", "/progress spacing test sales = 5k", "sales", 5_000, "spacing test"),
    ("amy", "/progress colon test sales : 5k", "sales", 5_000, "colon test"),
])
def test_a_metric_part_with_spaces_or_a_full_width_sign_is_a_value(uow, clock, user, typed, code, value, note):
    chat = _team(uow, clock)
    reply = chat.say(user, typed)
    assert reply.ok, reply.plain()
    assert _values(uow) == [(user, code, value)]
    assert _notes(uow) == [note]


def test_several_pairs_with_chinese_commas_and_colons(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("李雷", "/进展 签约 销售额：50万，新客户：1").ok
    assert chat.say("amy", "/progress signed sales=5k, customers=1").ok
    assert _values(uow) == [("李雷", "sales", 500_000), ("李雷", "customers", 1), ("amy", "sales", 5_000),
                            ("amy", "customers", 1)]


def test_a_metric_name_followed_by_a_value_without_equals_is_refused_by_name(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/进展 空格测试 销售额 5万", ["“销售额 5万”", "销售额=5万"], ["已记录"], False),
        ("李雷", "/进展 拜访 客户满意度 95%", ["“客户满意度 95%”", "客户满意度=95%"], [], False),
        ("amy", "/progress test sales 5k", ["“sales 5k”", "sales=5k"], ["Progress logged"], False),
        ("amy", "/progress call visits 3", ["“visits 3”", "visits=3"], [], False),
    ])
    assert row_counts(uow) == before


def test_a_metric_part_whose_value_does_not_parse_is_refused_by_name(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/进展 测试 销售额 = 很多", ["很多"], ["已记录"], False),
        ("amy", "/progress test sales = lots", ["lots"], ["Progress logged"], False),
    ])
    assert row_counts(uow) == before


def test_counts_are_whole_numbers(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/进展 测试 新客户=1.5", ["新客户", "整数", "1.5"], ["已记录"], False),
        ("李雷", "/进展 测试 拜访=2.5", ["拜访", "整数"], [], False),
        ("amy", "/progress test customers=1.5", ["New customers", "whole number", "1.5"], [], False),
        ("amy", "/progress test event_participants=10.5", ["whole number"], [], False),
    ])
    assert row_counts(uow) == before
    run_dialog(chat, [
        ("李雷", "/进展 测试 新客户=2", ["新客户 2"]),
        ("amy", "/progress test sales=1.5k", ["Sales ¥1,500"]),
    ])


# -- keywords ----------------------------------------------------------------------------------------


def test_che_xiao_spelled_either_way_undoes(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("李雷", "/进展 第一条 拜访=1").ok
    assert chat.say("李雷", "/进展 第二条 拜访=2").ok
    run_dialog(chat, [
        ("李雷", "/进展 撤消", ["已撤销", "第二条"], ["已记录"]),
        ("李雷", "/进展 撤销", ["已撤销", "第一条"], ["已记录"]),
    ])
    assert _notes(uow) == []
    assert chat.say("amy", "/progress first visits=1").ok
    run_dialog(chat, [
        ("amy", "/progress udno", ["Did you mean", "/progress undo"], ["Progress logged"], False),
        ("amy", "/progress Undo", ["Undid", "first"]),
    ])
    assert _notes(uow) == []


def test_a_one_word_typo_of_a_progress_keyword_is_not_logged_as_a_note(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/进展 撤俏", ["是不是想输入", "/进展 撤销"], ["已记录"], False),
        ("amy", "/progress lsit", ["Did you mean", "/progress list"], [], False),
    ])
    assert row_counts(uow) == before


# -- people ------------------------------------------------------------------------------------------


def test_a_member_named_without_at_is_the_assignee(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/任务 新建 李雷 拜访客户 截止 明天", ["@李雷", "拜访客户"], ["李雷 拜访客户"]),
        ("bob", "/task add amy call ACME due tomorrow", ["@amy", "call ACME"], ["amy call ACME"]),
        ("wang", "/任务 新建 给韩梅梅 准备报价 截止 明天", ["@韩梅梅", "准备报价"], ["给韩梅梅"]),
    ])
    assert [(a, title) for a, title, _ in _tasks(uow)] == [
        ("李雷", "拜访客户"), ("amy", "call ACME"), ("韩梅梅", "准备报价")]


def test_a_name_close_to_a_member_is_asked_about_not_assigned_to_the_caller(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/任务 新建 李蕾 拜访客户 截止 明天", ["李蕾", "@李雷"], ["已为 @wang"], False),
        ("bob", "/task add amyy call ACME due tomorrow", ["amyy", "@amy"], ["for @bob"], False),
    ])
    assert row_counts(uow) == before


def test_a_name_nobody_in_the_team_has_is_not_turned_into_the_callers_task(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/任务 新建 王五 拜访客户 截止 明天", ["“王五”像是人名", "@"], ["已为"], False),
        ("bob", "/task add 欧阳娜娜 call ACME due tomorrow", ["“欧阳娜娜” reads like a name"], [], False),
    ])
    assert row_counts(uow) == before
    # A member's name run into the title is asked about; a title that starts with an ordinary word stays a title.
    run_dialog(chat, [("wang", "/任务 新建 李雷拜访客户 截止 明天", ["是要布置给 <@李雷> 吗"], ["已为"], False),
                      ("wang", "/任务 新建 拜访 王总 截止 明天", ["拜访 王总", "<@wang>"])])


def test_a_non_member_mentioned_is_named_as_such(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/任务 新建 @王五 拜访客户 截止 明天", ["王五", "不是", "成员"], [], False),
        ("bob", "/task add @zed call ACME due tomorrow", ["zed", "not a member"], [], False),
        ("wang", "/kpi @王五", ["王五", "不是", "成员"], ["实际"], False),
        ("bob", "/kpi @zed", ["zed", "not a member"], ["Actual"], False),
    ])
    assert row_counts(uow) == before


def test_member_named_without_at_in_kpi_and_lists(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("李雷", "/进展 签约 销售额=5万").ok
    run_dialog(chat, [
        ("wang", "/绩效 李雷", ["@李雷", "¥50,000"]),
        ("bob", "/kpi amy", ["@amy"]),
        ("wang", "/进展 列表 李雷", ["签约"]),
    ])


# -- dates -------------------------------------------------------------------------------------------


def test_dates_as_chinese_offices_write_them(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12.20", ["2026-12-20"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12/18", ["2026-12-18 周五"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12、18", ["2026-12-18 周五"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 元旦前", ["2026-12-31 周四"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 2026年底前", ["2026-12-31 周四"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 月底", ["2026-11-30 周一"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 下周五", ["2026-12-04 周五"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12月底", ["2026-12-31 周四"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12月上旬", ["2026-12-10 周四"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 本周内", ["2026-11-27 周五"]),
        ("bob", "/task add @amy call ACME due end of December", ["Thu 2026-12-31"]),
        ("bob", "/task add @amy call ACME due 12/18", ["Fri 2026-12-18"]),
        ("bob", "/task add @amy call ACME due 12.18", ["Fri 2026-12-18"]),
        ("bob", "/task add @amy call ACME due before New Year", ["Thu 2026-12-31"]),
        ("bob", "/task add @amy call ACME due end of 2026", ["Thu 2026-12-31"]),
    ])


@pytest.mark.parametrize("today, words, en, expected", [
    ("2026-01-10", "春节前", "before Spring Festival", "2026-02-14"),  # a make-up working Saturday (调休)
    ("2026-01-10", "春节后", "after Chinese New Year", "2026-02-24"),
    ("2026-09-01", "国庆前", "before National Day", "2026-09-30"),
    ("2026-09-01", "国庆后", "after National Day", "2026-10-08"),
    ("2026-09-01", "十一后", "after the National Day holiday", "2026-10-08"),
    ("2025-12-20", "元旦后", "after New Year", "2026-01-04"),  # a make-up working Sunday
])
def test_dates_relative_to_the_holidays_of_the_team_calendar(uow, clock, today, words, en, expected):
    clock.set(datetime.fromisoformat(today).replace(hour=10, tzinfo=SHANGHAI))
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", f"/任务 新建 @李雷 拜访客户 截止 {words}", [expected], ["非工作日"]),
        ("bob", f"/task add @amy call ACME due {en}", [expected], ["not a working day"]),
    ])
    assert [due.date().isoformat() for _, _, due in _tasks(uow)] == [expected, expected]


def test_a_due_date_on_a_non_working_day_is_echoed_and_the_nearest_working_days_offered(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 十二月二十日",
         ["12月20日 周日，非工作日", "12月18日 周五", "12月21日 周一", "/task due 1 2026-12-18", "/task due 1 2026-12-21"]),
        ("bob", "/task add @amy call ACME due December 20",
         ["Sun Dec 20 is not a working day", "Fri Dec 18", "Mon Dec 21", "/task due 2 2026-12-18"]),
        ("wang", "/任务 改期 1 12月21日", ["2026-12-21 周一"], ["非工作日"]),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12月18日", ["2026-12-18 周五"], ["非工作日"]),
    ])
    # The task keeps the day that was typed; the offer is a button, not a silent change.
    assert [due.date().isoformat() for _, _, due in _tasks(uow)] == ["2026-12-21", "2026-12-20", "2026-12-18"]


def test_a_holiday_due_date_names_the_holiday(uow, clock):
    clock.set(datetime(2026, 9, 1, 10, tzinfo=SHANGHAI))
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 10月3日", ["10月3日 周六，非工作日", "国庆", "9月30日 周三", "10月8日 周四"]),
        ("bob", "/task add @amy call ACME due Oct 3", ["Sat Oct 3 is not a working day", "National Day",
                                                       "Wed Sep 30", "Thu Oct 8"]),
    ])


def test_a_date_that_does_not_parse_is_refused_by_name(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/任务 新建 @李雷 拜访客户 截止 12.32", ["12.32"], [], False),
        ("wang", "/任务 新建 @李雷 拜访客户 截止 圣诞节前后", ["圣诞节前后"], [], False),
        ("bob", "/task add @amy call ACME due 13/45", ["13/45"], [], False),
    ])
    assert row_counts(uow) == before


# -- goals in words ----------------------------------------------------------------------------------


def _q3_sales(chat, clock):
    """李雷 and amy each sold 100万 in 2026-Q3 (the base of a relative goal for 2026-Q4)."""
    now = clock.now()
    clock.set(datetime(2026, 8, 10, 10, tzinfo=SHANGHAI))
    assert chat.say("李雷", "/进展 签约 销售额=100万 新客户=10").ok
    assert chat.say("amy", "/progress deal sales=1m customers=10").ok
    clock.set(now)


def _goals(uow) -> list[tuple[str | None, str, float]]:
    with uow() as u:
        return [(g.user_id, g.basis, g.target) for g in u.session.scalars(select(Goal).order_by(Goal.id))]


def test_relative_goals_in_words(uow, clock):
    chat = _team(uow, clock)
    _q3_sales(chat, clock)
    run_dialog(chat, [
        ("李雷", "/目标 设定 销售额 增长20% 2026-Q4", ["+20%", "120万"], ["不是本团队的指标"]),
        ("amy", "/goal set sales grow 20% 2026-Q4", ["+20%", "¥1,200,000"], ["not a metric"]),
    ])
    assert _goals(uow) == [("李雷", "relative", 1_200_000), ("amy", "relative", 1_200_000)]


@pytest.mark.parametrize("zh, en, target", [
    ("销售额 提高20% 2026-Q4", "sales up 20% 2026-Q4", 1_200_000),
    ("销售额 增长 20% 2026-Q4", "sales increase by 20% 2026-Q4", 1_200_000),
    ("销售额 下降10% 2026-Q4", "sales down 10% 2026-Q4", 900_000),
    ("销售额 减少10% 2026-Q4", "sales decrease 10% 2026-Q4", 900_000),
])
def test_relative_goal_words(uow, clock, zh, en, target):
    chat = _team(uow, clock)
    _q3_sales(chat, clock)
    assert chat.say("李雷", f"/目标 设定 {zh}").ok
    assert chat.say("amy", f"/goal set {en}").ok
    assert _goals(uow) == [("李雷", "relative", target), ("amy", "relative", target)]


def test_recurring_relative_goal_in_words(uow, clock):
    chat = _team(uow, clock)
    clock.set(datetime(2026, 10, 12, 10, tzinfo=SHANGHAI))
    assert chat.say("李雷", "/进展 签约 新客户=10").ok
    assert chat.say("amy", "/progress deal customers=10").ok
    clock.set(datetime(2026, 11, 26, 10, tzinfo=SHANGHAI))
    run_dialog(chat, [
        ("李雷", "/目标 设定 新客户 每月增长10%", ["每月", "+10%", "11"]),
        ("amy", "/goal set customers grow 10% every month", ["every month", "+10%", "11"]),
    ])
    with uow() as u:
        assert [(g.recurring, g.kind, g.target) for g in u.session.scalars(select(Goal).order_by(Goal.id))] == [
            (True, "month", 11), (True, "month", 11)]


def test_a_relative_count_goal_is_a_whole_number(uow, clock):
    chat = _team(uow, clock)
    clock.set(datetime(2026, 10, 12, 10, tzinfo=SHANGHAI))
    assert chat.say("李雷", "/进展 签约 新客户=7").ok
    clock.set(datetime(2026, 11, 26, 10, tzinfo=SHANGHAI))
    assert chat.say("李雷", "/目标 设定 新客户 每月增长10%").ok
    with uow() as u:
        target = u.session.scalars(select(Goal.target)).one()
    assert target == int(target) and target >= 7.7


def test_threshold_goals_in_words(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("李雷", "/目标 设定 客户满意度 提升至90%以上 2026-Q4", ["客户满意度 90%"]),
        ("韩梅梅", "/目标 设定 满意度 达到 90% 2026-Q4", ["客户满意度 90%"]),
        ("amy", "/goal set csat to at least 90% 2026-Q4", ["Customer satisfaction 90%"]),
    ])
    assert _goals(uow) == [("李雷", "absolute", 90), ("韩梅梅", "absolute", 90), ("amy", "absolute", 90)]


def test_a_change_word_followed_by_to_is_a_threshold(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("amy", "/goal set csat raise to 92% 2026-Q4", ["Customer satisfaction 92%"]),
        ("bob", "/goal set csat increase to at least 95% by 2026-12-31 for me", ["Customer satisfaction 95%"]),
        ("韩梅梅", "/目标 设定 满意度 提升 至 90% 2026-Q4", ["客户满意度 90%"]),
    ])
    assert _goals(uow) == [("amy", "absolute", 92), ("bob", "absolute", 95), ("韩梅梅", "absolute", 90)]


def test_goal_words_that_do_not_parse_are_refused_by_name(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/目标 设定 销售额 翻倍增长 2026-Q4", ["翻倍增长"], [], False),
        ("李雷", "/目标 设定 新客户 10.5 每月", ["新客户", "整数"], [], False),
        ("amy", "/goal set customers 10.5 monthly", ["New customers", "whole number"], [], False),
        ("amy", "/goal set sales grow lots 2026-Q4", ["lots"], [], False),
    ])
    assert row_counts(uow) == before


def test_a_deadline_goal_with_year_end_words(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("李雷", "/目标 设定 客户满意度 90% 2026年底前", ["2026-12-31"]),
        ("amy", "/goal set csat 90% by end of 2026", ["2026-12-31"]),
        # The words run together as people write them; the member named without @, glued to 为.
        ("韩梅梅", "/目标 设定 客户满意度 12月底前达到90%", ["90%", "2026-12-31"]),
        ("wang", "/目标 设定 新客户 每月5个 为李雷", ["<@李雷>", "新客户 5"]),
    ])


# -- counts in resources -----------------------------------------------------------------------------


def test_resource_people_are_whole(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/资源 申请 人力 1.5 用于 展会", ["1.5", "整数"], [], False),
        ("amy", "/resource request people 1.5 for the fair", ["1.5", "whole"], [], False),
    ])
    assert row_counts(uow) == before
    run_dialog(chat, [
        ("李雷", "/资源 申请 人力 两人 用于 展会", ["人力 2 人"]),
        ("amy", "/resource request people 2 for the fair", ["2 people"]),
        # A date needed by on a non-working day is said so, like a task's due date.
        ("李雷", "/资源 申请 人力 2 用于 展会 截止 12.20", ["12月20日 周日，非工作日"]),
        ("amy", "/resource request people 2 for the fair by 12/20", ["Sun Dec 20 is not a working day"]),
    ])
