"""Did you mean: an unknown command, keyword, scope, metric, type or role gets the closest real one
(edit distance over every alias, in the script the user typed), and every usage error and hint shows
the command in the alias form the user typed (用 /团队 添加 … after /团队, not /team add …).

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东一组: wang (manager, zh), bob (manager, en),
李雷 (rep, zh), amy (rep, en).
"""
from __future__ import annotations

import pytest

from tests.commands.team_world import sales_team
from tests.kit.dialog import Chat, row_counts, run_dialog


@pytest.fixture
def uow(sqlite_uow):
    return sqlite_uow


@pytest.fixture
def chat(uow, clock) -> Chat:
    return sales_team(uow, clock)


def _example(reply) -> str:
    """The example line(s) of a usage error."""
    text = reply.plain()
    for label in ("正确示例：\n", "Example:\n"):
        if label in text:
            return text.split(label, 1)[1]
    raise AssertionError(f"no example in:\n{text}")


def test_unknown_commands_get_the_closest_one(chat, uow):
    before = row_counts(uow)
    run_dialog(chat, [
        ("李雷", "/progres 签约 销售额=5万", ["是不是想输入 /progress？"], ["已记录"], False),
        ("amy", "/progres deal sales=5k", ["Did you mean /progress?"], ["logged"], False),
        ("李雷", "/任物", ["是不是想输入 /任务？"], [], False),
        ("amy", "/tsak", ["Did you mean /task?"], [], False),
        ("李雷", "/目表", ["是不是想输入 /目标？"], [], False),
        ("amy", "/gaol list", ["Did you mean /goal?"], [], False),
        ("李雷", "/进度条", ["是不是想输入 /进度？"], [], False),
        ("amy", "/kip", ["Did you mean /kpi?"], [], False),
    ])
    assert row_counts(uow) == before
    # The example is the suggested command's, in the form typed.
    assert _example(chat.say("李雷", "/任物")).startswith("/任务 ")
    assert _example(chat.say("amy", "/tsak")).startswith("/task add ")


def test_an_unknown_command_far_from_every_one_lists_them(chat):
    run_dialog(chat, [
        ("李雷", "/天气", ["不认识命令", "/进展", "/任务"], ["是不是想输入"], False),
        ("amy", "/weather", ["don't know", "/progress", "/task"], ["Did you mean"], False),
    ])


def test_unknown_keywords_get_the_closest_one_in_the_form_typed(chat, uow):
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/task ad foo", ["是不是想输入 /task add？"], [], False),
        ("bob", "/task ad foo", ["Did you mean /task add?"], [], False),
        ("wang", "/任务 新减 @李雷 拜访客户 截止 明天", ["是不是想输入 /任务 新建？"], [], False),
        ("wang", "/资源 申情 人力 2 用于 展会", ["是不是想输入 /资源 申请？"], [], False),
        ("bob", "/resource reqest people 2 for the fair", ["Did you mean /resource request?"], [], False),
        ("wang", "/目标 设丁 销售额 120万 2026-Q4 为团队", ["是不是想输入 /目标 设定？"], [], False),
        ("bob", "/goal sett sales 1.2m 2026-Q4 for team", ["Did you mean /goal set?"], [], False),
        ("wang", "/团队 添 @韩梅梅 销售代表", ["是不是想输入 /团队 添加？"], [], False),
        ("bob", "/team ad @zed rep", ["Did you mean /team add?"], [], False),
        ("wang", "/会议 预揽", ["是不是想输入 /会议 预览？"], [], False),
        ("bob", "/teambot lnag zh", ["Did you mean /teambot lang?"], [], False),
        ("wang", "/绩效 指表 列表", ["是不是想输入 /绩效 指标？"], [], False),
    ])
    assert row_counts(uow) == before
    assert _example(chat.say("wang", "/task ad foo")).startswith("/task add @")
    assert _example(chat.say("wang", "/任务 新减 foo")).startswith("/任务 新建 @")


def test_scopes_metrics_types_and_roles_get_the_closest_one(chat, uow):
    before = row_counts(uow)
    run_dialog(chat, [
        ("wang", "/任务 列表 逾其", ["逾期"], [], False),
        ("bob", "/task list overdu", ["overdue"], [], False),
        ("李雷", "/进展 签约 销额=5万", ["是不是想写 销售额"], [], False),
        ("amy", "/progress deal sale=5k", ["Did you mean sales"], [], False),
        ("李雷", "/资源 申请 人理 2 用于 展会", ["人力"], [], False),
        ("amy", "/resource request peple 2 for the fair", ["people"], [], False),
        ("wang", "/团队 添加 @韩梅梅 销售代理", ["销售代表"], [], False),
        ("bob", "/team add @zed reps", ["Did you mean rep"], [], False),
    ])
    assert row_counts(uow) == before


def test_usage_examples_use_the_alias_form_typed(chat):
    examples = {
        ("wang", "/团队 foo"): "/团队 添加 ",
        ("bob", "/team foo"): "/team add ",
        ("wang", "/任务 新建 @李雷 拜访客户"): "/任务 新建 @",
        ("wang", "/task 新建 @李雷 拜访客户"): "/task 新建 @",
        ("bob", "/task add @amy call ACME"): "/task add @",
        ("wang", "/task add @李雷 拜访客户"): "/task add @",
        ("wang", "/进展 阻塞:"): "/进展 ",
        ("wang", "/资源 申请 人力 用于 展会"): "/资源 申请 ",
        ("wang", "/目标 设定 销售额 2026-Q4 为团队"): "/目标 设定 ",
        ("bob", "/goal set sales 2026-Q4 for team"): "/goal set ",
    }
    for (user, typed), start in examples.items():
        reply = chat.say(user, typed)
        assert not reply.ok, typed
        example = _example(reply)
        assert example.startswith(start), (typed, example)
        if typed.startswith("/团队"):
            assert "/team" not in reply.plain(), reply.plain()


def test_hints_in_replies_follow_the_form_typed(chat):
    zh = chat.say("wang", "/团队 创建 华东二组", channel="C-two")
    assert zh.ok and "/团队 添加" in zh.plain() and "/team add" not in zh.plain(), zh.plain()
    en = chat.say("bob", "/team setup East 2", channel="C-three")
    assert en.ok and "/team add" in en.plain(), en.plain()
    run_dialog(chat, [("bob", "/团队 ad @zed rep", ["Did you mean /团队 add?"], ["/team"], False)])


def test_a_caesura_sign_typed_for_a_slash_starts_a_command(chat, uow):
    run_dialog(chat, [
        ("李雷", "、进展 签约 销售额=5万", ["已记录进展：签约", "¥50,000"]),
        ("李雷", "、任务 列表", ["任务"]),
        ("amy", "、progress deal sales=5k", ["Progress logged"]),
    ])
