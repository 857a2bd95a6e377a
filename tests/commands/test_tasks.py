"""/task through the real dispatcher and database (SQLite and PostgreSQL), in zh and en.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team 华东销售一组 in C-sales: wang (manager), li, amy (rep,
English), chen (account manager), 李雷 (rep)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from commands import tasks
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import Actions, Table
from storage.models import OutboxMessage, Task
from tests.kit.dialog import Chat, row_counts, run_dialog

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _team(uow, clock) -> Chat:
    chat = Chat(uow, clock)
    for user, text in [("wang", "/team setup 华东销售一组"), ("wang", "/team add @li rep"),
                       ("wang", "/team add @amy rep"), ("wang", "/team add @chen account_manager"),
                       ("wang", "/team add @李雷 rep"), ("amy", "/teambot lang en")]:
        assert chat.say(user, text).ok, text
    return chat


def _task(uow, task_id: int) -> Task:
    with uow() as u:
        return u.session.get(Task, task_id)


def _snapshot(uow) -> list[tuple]:
    with uow() as u:
        return [(x.id, x.assignee, x.created_by, x.title, x.note, x.due_at, x.status, x.snoozed_until,
                 x.updated_at, x.done_at) for x in u.session.scalars(select(Task).order_by(Task.id))]


def _outbox(uow) -> list[tuple[str, str, dict]]:
    with uow() as u:
        return [(m.destination, m.dedupe_key, json.loads(m.payload))
                for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _text(payload: dict) -> str:
    out = []
    for p in payload["parts"]:
        if p["type"] == "Text":
            out.append(p["text"])
        elif p["type"] == "Fields":
            out.extend(f"{k}: {v}" for k, v in p["pairs"])
    return "\n".join(out)


def _buttons(payload: dict) -> list[dict]:
    return [b for p in payload["parts"] if p["type"] == "Actions" for b in p["buttons"]]


def _local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


# -- add ----------------------------------------------------------------------------------------

def test_task_dialog_zh(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/task 新建 @李雷 拜访客户 截止 下周五 备注 带上报价单",
         ["已为 <@李雷> 创建任务 #1：*拜访客户*", "截止：2026-12-04 周五 18:00 Asia/Shanghai",
          "备注：带上报价单", "已私信通知 <@李雷>"]),
        ("wang", "/任务 新建 @li 准备方案 截止到 明天 下午3点", ["#2", "准备方案", "2026-11-27 周五 15:00"]),
        ("li", "/task 新建 @我 整理客户名单 截止 3天后", ["#3", "<@li>", "2026-11-29 周日 18:00", "[完成]", "[推迟1天]"],
         ["已私信"]),
        ("li", "/待办 新建 回访ACME 截止:月底", ["#4", "2026-11-30 周一 18:00"]),
        ("wang", "/task 新建@chen 市场活动复盘 截止 2026-12-05", ["#5", "<@chen>", "2026-12-05 周六 18:00"]),
        ("li", "/task 列表", ["我的进行中任务", "（3 项）", "#2", "#3", "#4", "准备方案"], ["#1", "#5"]),
        ("li", "/task 完成 3", ["任务 #3 已完成：整理客户名单"]),
        ("li", "/task 完成3", ["任务 #3（整理客户名单）已于 2026-11-26 周四 10:00 Asia/Shanghai 完成"]),
        ("wang", "/task 重开 3", ["任务 #3 已重新打开", "截止 2026-11-29 周日 18:00"]),
        ("li", "/task 推迟 3", ["提醒暂停到 2026-11-27 周五 10:00 Asia/Shanghai", "截止时间仍是 2026-11-29 周日 18:00"]),
        ("li", "/task 改期 3 下周一上午10点", ["截止时间改为 2026-11-30 周一 10:00", "原为 2026-11-29 周日 18:00"]),
        ("wang", "/task 转给 2 @chen", ["任务 #2 *准备方案* 已转给 <@chen>（原负责人 <@li>）", "已私信通知 <@chen>"]),
        ("wang", "/task 取消 5", ["已取消任务 #5：市场活动复盘"]),
        ("wang", "/task 列表 团队", ["团队“华东销售一组”的进行中任务", "（4 项）", "#1", "#2", "#3", "#4"], ["#5"]),
        ("wang", "/task 列表 @chen", ["<@chen> 的进行中任务", "#2"], ["#1", "#3"]),
        ("wang", "/task 列表 逾期", ["没有团队“华东销售一组”逾期的进行中任务"]),
    ])


def test_task_dialog_en(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("amy", "/task add @me call ACME's buyer due tomorrow 3pm note ask about the renewal",
         ["Task #1 for <@amy>: *call ACME's buyer*", "Due: Fri 2026-11-27 15:00 Asia/Shanghai",
          "Note: ask about the renewal", "[Done] (/task done 1)", "[Snooze 1 day] (/task snooze 1)"]),
        ("amy", "/task add send the proposal by Dec 5 5pm", ["Task #2 for <@amy>", "Sat 2026-12-05 17:00"]),
        ("amy", "/task add @amy call ACME by phone due: in 3 days note bring the quote by hand",
         ["*call ACME by phone*", "Sun 2026-11-29 18:00", "Note: bring the quote by hand"]),
        ("amy", "/task add send meeting note due next friday", ["*send meeting note*", "Fri 2026-12-04 18:00"]),
        ("amy", "/task list mine", ["*Open tasks* assigned to you (4)", "#1", "#4", "Owner", "Fri 11-27 15:00"]),
        ("amy", "/task done 2", ["Task #2 done: send the proposal"]),
        ("amy", "/task snooze 1", ["reminders paused until Fri 2026-11-27 10:00 Asia/Shanghai"]),
        ("amy", "/task due 1 to next monday 10am", ["now due Mon 2026-11-30 10:00", "was Fri 2026-11-27 15:00"]),
        ("amy", "/task reopen 2", ["Task #2 is open again"]),
        ("amy", "/task cancel #3", ["Task #3 cancelled: call ACME by phone"]),
        ("amy", "/task list overdue", ["No open tasks overdue in team 华东销售一组."]),
        ("amy", "/task list team", ["team 华东销售一组 (3)"], ["#3"]),
    ])


@pytest.mark.parametrize("typed, echoed", [
    ("下周五", "2026-12-04 周五 18:00 Asia/Shanghai"),
    ("明天", "2026-11-27 周五 18:00 Asia/Shanghai"),
    ("后天 下午3点", "2026-11-28 周六 15:00"),
    ("本周五", "2026-11-27 周五 18:00"),
    ("12月15日前", "2026-12-15 周二 18:00"),
    ("3天后", "2026-11-29 周日 18:00"),
    ("月底", "2026-11-30 周一 18:00"),
    ("2026-12-05", "2026-12-05 周六 18:00"),
    ("next friday", "2026-12-04 周五 18:00"),
    ("Dec 5 5pm", "2026-12-05 周六 17:00"),
])
def test_due_dates_are_echoed(uow, clock, typed, echoed):
    chat = _team(uow, clock)
    reply = chat.say("li", f"/task add @me 跟进 due {typed}")
    assert reply.ok and f"截止：{echoed}" in reply.plain(), reply.plain()


@pytest.mark.parametrize("user, text, expected", [
    ("li", "/task add @me 跟进 截止 昨天", "已经过去了"),
    ("li", "/task add @me 跟进 截止 2026-11-01", "已经过去了"),
    ("li", "/task add @me 跟进 截止 今天上午9点", "已经过去了"),
    ("li", "/task add @me 跟进 截止 某天", "无法识别日期“某天”"),
    ("amy", "/task add @me follow up due yesterday", "has already passed"),
    ("amy", "/task add @me follow up due whenever", "I couldn't read “whenever” as a date"),
    ("amy", "/task add @me follow up", "Say when it's due"),
    ("amy", "/task add @me follow up due", "Say when it's due"),
    ("amy", "/task add @me due friday", "Say what the task is"),
    ("li", "/task add @li @amy 跟进 截止 明天", "一个任务只有一位负责人"),
    ("li", "/task add @me " + "长" * 201 + " 截止 明天", "最多 200 个字"),
])
def test_bad_adds_are_refused_and_write_nothing(uow, clock, user, text, expected):
    chat = _team(uow, clock)
    before = row_counts(uow)
    reply = chat.say(user, text)
    assert not reply.ok and reply.private
    assert expected in reply.plain(), reply.plain()
    assert ("正确示例" in reply.plain()) or ("Example:" in reply.plain())
    assert row_counts(uow) == before


def test_past_or_unreadable_new_due_date_is_refused_and_changes_nothing(uow, clock):
    chat = _team(uow, clock)
    chat.say("li", "/task add @me 跟进 截止 明天")
    before = _snapshot(uow)
    for text, expected in [("/task due 1 昨天", "已经过去了"), ("/task due 1 某天", "无法识别日期"),
                           ("/task due 1", "请写上截止时间")]:
        reply = chat.say("li", text)
        assert not reply.ok and expected in reply.plain(), reply.plain()
        assert "/task due 12 下周一上午10点" in reply.plain()  # the keyword as typed
    assert _snapshot(uow) == before


def test_stored_due_is_aware_utc_and_matches_the_echo(uow, clock):
    chat = _team(uow, clock)
    chat.say("li", "/task add @me 跟进 截止 下周五 下午5点 备注 带上合同")
    task = _task(uow, 1)
    assert task.due_at == datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)
    assert task.due_at.utcoffset() == timedelta(0)
    assert (task.title, task.note, task.assignee, task.created_by, task.status) == (
        "跟进", "带上合同", "li", "li", "open")
    assert task.created_at == task.updated_at == clock.now()


# -- who may assign ---------------------------------------------------------------------------------

def test_manager_assigns_anyone_others_only_themselves(uow, clock):
    chat = _team(uow, clock)
    before = row_counts(uow)
    run_dialog(chat, [
        ("li", "/task add @amy 跟进 截止 明天", ["只有销售经理可以给别人布置任务"], ["#"], False),
        ("amy", "/task add @li follow up due tomorrow", ["Only the sales manager assigns tasks to others"], [],
         False),
        ("wang", "/task add @zhao 跟进 截止 明天", ["<@zhao> 不是团队“华东销售一组”的成员"], [], False),
        ("nobody", "/task add @me 跟进 截止 明天", ["你还不是团队“华东销售一组”的成员"], [], False),
    ])
    assert row_counts(uow) == before
    run_dialog(chat, [
        ("li", "/task add @li 自己的 截止 明天", ["<@li>", "#1"]),
        ("li", "/task add @自己 自己的 截止 明天", ["<@li>", "#2"]),
        ("li", "/task add 没有提及 截止 明天", ["<@li>", "#3"]),
        ("wang", "/task add @amy 给amy 截止 明天", ["<@amy>", "#4"]),
        ("wang", "/task add @wang 给自己 截止 明天", ["<@wang>", "#5", "[完成]"], ["已私信"]),
    ])


# The rule table at the top of commands/tasks/__init__.py, written out again so a change there fails here.
EXPECTED = {
    #            assignee creator manager other
    "done":     (True,    False,  True,   False),
    "snooze":   (True,    False,  True,   False),
    "reopen":   (False,   True,   True,   False),
    "due":      (True,    True,   True,   False),
    "assign":   (False,   True,   True,   False),
    "cancel":   (False,   True,   True,   False),
}
POSITIONS = ("assignee", "creator", "manager", "other")
ACTOR = {"assignee": "amy", "creator": "li", "manager": "wang", "other": "chen"}


def test_rule_table_in_code_is_the_documented_one():
    got = {a: tuple(bool(tasks.RULES[a] & {p}) for p in POSITIONS) for a in tasks.RULES}
    assert got == EXPECTED
    doc = tasks.__doc__
    for action, row in EXPECTED.items():
        line = next(x for x in doc.splitlines() if x.strip().startswith(f"| {action} "))
        cells = [c.strip() for c in line.strip().strip("|").split("|")][1:]
        assert [c.startswith("yes") for c in cells] == list(row), action


def _permission_setup(chat: Chat, action: str) -> None:
    # #1: created by li (a rep, for himself), then given to amy by the manager.
    assert chat.say("li", "/task add @me 准备报价 截止 下周五 备注 v2").ok
    assert chat.say("wang", "/task assign 1 @amy").ok
    if action == "reopen":
        assert chat.say("wang", "/task done 1").ok


def _command(action: str, position: str) -> str:
    if action == "assign":
        return "/task assign 1 @chen" if position == "manager" else "/task assign 1 @me"
    if action == "due":
        return "/task due 1 12月10日"
    return f"/task {action} 1"


def _effect(action: str, position: str, task: Task, now: datetime) -> bool:
    return {
        "done": lambda: task.status == "done" and task.done_at == now,
        "snooze": lambda: task.snoozed_until == now + timedelta(days=1),
        "reopen": lambda: task.status == "open" and task.done_at is None,
        "due": lambda: _local(task.due_at) == datetime(2026, 12, 10, 18, 0, tzinfo=SHANGHAI),
        "assign": lambda: task.assignee == ("chen" if position == "manager" else ACTOR[position]),
        "cancel": lambda: task.status == "cancelled",
    }[action]()


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_permission_rules(uow, clock, action, position):
    chat = _team(uow, clock)
    _permission_setup(chat, action)
    clock.advance(minutes=5)
    allowed = EXPECTED[action][POSITIONS.index(position)]
    before_rows, before_tasks = row_counts(uow), _snapshot(uow)
    reply = chat.say(ACTOR[position], _command(action, position))
    if allowed:
        assert reply.ok, reply.plain()
        task = _task(uow, 1)
        assert _effect(action, position, task, clock.now()), (reply.plain(), task)
        assert task.updated_at == clock.now()
    else:
        assert not reply.ok and reply.private and reply.plain().startswith("🚫"), reply.plain()
        assert "#1" in reply.plain() or "<@" not in reply.plain()
        assert row_counts(uow) == before_rows
        assert _snapshot(uow) == before_tasks


def test_a_rep_who_created_a_task_may_take_it_back_but_not_give_it_away(uow, clock):
    chat = _team(uow, clock)
    _permission_setup(chat, "assign")
    before = _snapshot(uow)
    reply = chat.say("li", "/task assign 1 @chen")
    assert not reply.ok and "只有销售经理可以给别人布置任务" in reply.plain()
    assert _snapshot(uow) == before
    assert chat.say("li", "/task assign 1 @me").ok
    assert _task(uow, 1).assignee == "li"


def test_refused_permission_messages(uow, clock):
    chat = _team(uow, clock)
    _permission_setup(chat, "done")
    run_dialog(chat, [
        ("chen", "/task done 1", ["只有任务负责人或销售经理可以把任务 #1 标为完成"], [], False),
        ("li", "/task snooze 1", ["只有任务负责人或销售经理可以推迟任务 #1 的提醒"], [], False),
        ("amy", "/task cancel 1", ["Only whoever created task #1 or the sales manager can cancel it."], [], False),
        ("amy", "/task reopen 1", ["Only whoever created task #1 or the sales manager can reopen it."], [], False),
        ("chen", "/task due 1 明天", ["只有任务 #1 的负责人、创建人或销售经理可以修改截止时间"], [], False),
        ("amy", "/task assign 1 @me", ["Only whoever created task #1 or the sales manager can reassign it."], [],
         False),
    ])


# -- ids of other teams -----------------------------------------------------------------------------

def test_a_task_of_another_team_is_not_found(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("zhou", "/team setup 华南组", channel="C-south").ok
    assert chat.say("zhou", "/team add @li rep", channel="C-south").ok
    assert chat.say("zhou", "/task add @li 华南的任务 截止 明天", channel="C-south").ok  # #1, team 2
    before_rows, before_tasks = row_counts(uow), _snapshot(uow)
    for user in ("wang", "li", "chen"):
        for verb in ("done", "snooze", "reopen", "cancel", "due 1 明天", "assign 1 @me"):
            text = f"/task {verb}" if " " in verb else f"/task {verb} 1"
            reply = chat.say(user, text)
            assert not reply.ok and "本团队没有编号为 #1 的任务" in reply.plain(), (user, text, reply.plain())
            assert "华南" not in reply.plain()
    # Exactly the answer of an id that does not exist.
    assert chat.say("wang", "/task done 1").plain() == chat.say("wang", "/task done 7").plain().replace("7", "1")
    assert "华南的任务" not in chat.say("wang", "/task list team").plain()
    assert "华南的任务" not in chat.say("li", "/task list").plain()
    assert row_counts(uow) == before_rows and _snapshot(uow) == before_tasks
    # In its own team's channel it works.
    assert chat.say("li", "/task done 1", channel="C-south").ok
    assert _task(uow, 1).status == "done"


def test_out_of_range_ids_are_not_found_and_bad_ids_are_usage_errors(uow, clock):
    chat = _team(uow, clock)
    run_dialog(chat, [
        ("wang", "/task done 99999999999", ["本团队没有编号为 #99999999999 的任务"], [], False),
        ("wang", "/task done 0", ["本团队没有编号为 #0 的任务"], [], False),
        ("wang", "/task done " + "9" * 40, ["不是任务编号"], [], False),
        ("wang", "/task done abc", ["“abc”不是任务编号", "/task done 12"], [], False),
        ("wang", "/task done", ["请写上任务编号"], [], False),
        ("wang", "/task done 1 2", ["多余的内容：“2”"], [], False),
        ("amy", "/task assign 1", ["Mention exactly one person"], [], False),
        ("amy", "/task frobnicate", ["I don't know “frobnicate”", "Example:", "/task add @li"], [], False),
        ("amy", "/task list yesterday", ["I can't list “yesterday”"], [], False),
    ])


# -- direct messages and buttons ------------------------------------------------------------------

def test_assignee_gets_a_dm_in_their_own_language_with_buttons(uow, clock):
    chat = _team(uow, clock)
    assert chat.say("amy", "/teambot tz America/New_York").ok
    reply = chat.say("wang", "/task 新建 @amy 拜访ACME 截止 下周五 备注 带上报价单")
    assert "已私信通知 <@amy>" in reply.plain()  # the caller's language
    [(dest, key, payload)] = _outbox(uow)
    assert dest == "user:amy" and key == "task:1:assigned:1"
    text = _text(payload)
    assert "<@wang> assigned you task #1 in 华东销售一组: *拜访ACME*" in text
    assert "Due: Fri 2026-12-04 05:00 America/New_York" in text  # 18:00 in Shanghai, her zone
    assert "Note: 带上报价单" in text
    done, snooze = _buttons(payload)
    assert done == {"label": "Done", "action_id": "task.done", "value": "1", "command": "/task done 1",
                    "style": "primary"}
    assert (snooze["label"], snooze["action_id"], snooze["command"]) == ("Snooze 1 day", "task.snooze",
                                                                         "/task snooze 1")

    chat.say("amy", "/task add @me 一个英文用户自己的任务 due tomorrow")
    chat.say("wang", "/task add @li 准备方案 截止 明天")
    dest, key, payload = _outbox(uow)[-1]
    assert (dest, key) == ("user:li", "task:3:assigned:1")
    assert "<@wang> 在“华东销售一组”给你布置了任务 #3：*准备方案*" in _text(payload)
    assert "截止: 2026-11-27 周五 18:00 Asia/Shanghai" in _text(payload)
    assert [b["label"] for b in _buttons(payload)] == ["完成", "推迟1天"]
    assert len(_outbox(uow)) == 2  # amy's own task sent nothing


def test_no_dm_when_assigning_to_yourself(uow, clock):
    chat = _team(uow, clock)
    for user, text in [("li", "/task add @me 自己的 截止 明天"), ("wang", "/task add @wang 经理自己的 截止 明天"),
                       ("amy", "/task add follow up due tomorrow")]:
        reply = chat.say(user, text)
        [actions] = [p for p in reply.parts if isinstance(p, Actions)]
        assert [b.action_id for b in actions.buttons] == ["task.done", "task.snooze"]
        assert actions.buttons[0].style == "primary"
    assert _outbox(uow) == []


def test_reassigning_dms_the_new_assignee_and_tells_the_old_one(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 准备方案 截止 明天")
    chat.say("wang", "/task assign 1 @amy")
    chat.say("wang", "/task assign 1 @li")
    reply = chat.say("wang", "/task assign 1 @li")
    assert reply.ok and "任务 #1 的负责人已经是 <@li>" in reply.plain()
    got = [(d, k) for d, k, _ in _outbox(uow)]
    assert got == [("user:li", "task:1:assigned:1"), ("user:amy", "task:1:assigned:2"),
                   ("user:li", "task:1:unassigned:1"), ("user:li", "task:1:assigned:3"),
                   ("user:amy", "task:1:unassigned:2")]
    payloads = [p for _, _, p in _outbox(uow)]
    assert "assigned you task #1" in _text(payloads[1]) and _buttons(payloads[1])
    assert "<@wang> 把任务 #1（准备方案）从你转给了 <@amy>" in _text(payloads[2])
    assert "reassigned task #1 (准备方案) from you to <@li>" in _text(payloads[4])
    # Taking a task yourself: no DM to yourself, the old owner hears of it.
    chat.say("li", "/task add @me 李的 截止 明天")
    chat.say("wang", "/task assign 2 @wang")
    assert [(d, k) for d, k, _ in _outbox(uow)][-1] == ("user:li", "task:2:unassigned:1")


def test_creator_hears_when_the_task_is_done_and_assignee_when_changed(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @amy deal review 截止 下周五")
    chat.say("wang", "/task due 1 12月10日")
    chat.say("amy", "/task done 1")
    chat.say("wang", "/task reopen 1")
    chat.say("wang", "/task cancel 1")
    got = [(d, k) for d, k, _ in _outbox(uow)]
    assert got == [("user:amy", "task:1:assigned:1"), ("user:amy", "task:1:rescheduled:1"),
                   ("user:wang", "task:1:done:1"), ("user:amy", "task:1:cancelled:1")]
    texts = [_text(p) for _, _, p in _outbox(uow)]
    assert "changed the due date of your task #1" in texts[1] and "Thu 2026-12-10 18:00" in texts[1]
    assert "<@amy> 完成了任务 #1：deal review" in texts[2]
    assert "<@wang> cancelled your task #1" in texts[3]


def test_buttons_work_as_typed_commands_from_a_direct_message(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 拜访 截止 明天")
    chat.say("wang", "/task add @li 回电 截止 明天")
    done = _buttons(_outbox(uow)[0][2])[0]
    snooze = _buttons(_outbox(uow)[1][2])[1]
    reply = chat.say("li", done["command"], channel="D-li", direct=True)
    assert reply.ok and "任务 #1 已完成" in reply.plain()
    reply = chat.say("li", snooze["command"], channel="D-li", direct=True)
    assert reply.ok and _task(uow, 2).snoozed_until == clock.now() + timedelta(days=1)
    # The same button forwarded to another rep: refused on the server, nothing changes.
    before = _snapshot(uow)
    reply = chat.say("amy", "/task done 2", channel="D-amy", direct=True)
    assert not reply.ok and "Only the task's owner or the sales manager can mark task #2 done." in reply.plain()
    assert _snapshot(uow) == before


def test_a_dm_button_of_someone_in_two_teams_finds_the_tasks_team(uow, clock):
    chat = _team(uow, clock)
    chat.say("zhou", "/team setup 华南组", channel="C-south")
    chat.say("zhou", "/team add @li rep", channel="C-south")
    chat.say("zhou", "/task add @li 华南的任务 截止 明天", channel="C-south")  # #1 in team 2
    chat.say("wang", "/task add @li 华东的任务 截止 明天")  # #2 in team 1
    assert chat.say("li", "/task done 1", channel="D-li", direct=True).ok
    assert chat.say("li", "/task snooze 2", channel="D-li", direct=True).ok
    assert _task(uow, 1).status == "done" and _task(uow, 2).snoozed_until is not None
    # chen's only team is 华东: team 2's task is not found for him, even from a DM.
    reply = chat.say("chen", "/task done 1", channel="D-chen", direct=True)
    assert not reply.ok and "本团队没有编号为 #1 的任务" in reply.plain()
    # Someone in no team at all.
    reply = chat.say("stranger", "/task done 1", channel="D-x", direct=True)
    assert not reply.ok and "还没有绑定团队" in reply.plain()


# -- state changes ------------------------------------------------------------------------------------

def test_state_changes(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 拜访 截止 明天")
    chat.say("li", "/task snooze 1")
    assert _task(uow, 1).snoozed_until == clock.now() + timedelta(days=1)
    clock.advance(hours=1)
    chat.say("li", "/task done 1")
    t1 = _task(uow, 1)
    assert (t1.status, t1.done_at, t1.snoozed_until, t1.updated_at) == ("done", clock.now(), None, clock.now())
    run_dialog(chat, [
        ("li", "/task done 1", ["已于 2026-11-26 周四 11:00 Asia/Shanghai 完成"]),
        ("li", "/task snooze 1", ["任务 #1 已经完成"], [], False),
        ("wang", "/task due 1 下周五", ["任务 #1 已经完成", "/task reopen 1"], [], False),
        ("wang", "/task cancel 1", ["任务 #1 已经完成"], [], False),
        ("wang", "/task assign 1 @amy", ["任务 #1 已经完成"], [], False),
        ("wang", "/task reopen 1", ["任务 #1 已重新打开"]),
        ("wang", "/task reopen 1", ["本来就是进行中"]),
        ("wang", "/task cancel 1", ["已取消任务 #1"]),
        ("wang", "/task cancel 1", ["已经取消了"]),
        ("li", "/task done 1", ["任务 #1 已取消", "/task reopen 1"], [], False),
        ("li", "/task snooze 1", ["任务 #1 已取消"], [], False),
    ])
    t1 = _task(uow, 1)
    assert (t1.status, t1.done_at) == ("cancelled", None)
    chat.say("wang", "/task reopen 1")
    assert _task(uow, 1).status == "open"


def test_rescheduling_or_reassigning_clears_a_snooze(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 拜访 截止 明天")
    chat.say("li", "/task snooze 1")
    chat.say("li", "/task due 1 下周五")
    assert _task(uow, 1).snoozed_until is None
    chat.say("li", "/task snooze 1")
    chat.say("wang", "/task assign 1 @amy")
    assert _task(uow, 1).snoozed_until is None


def test_reopening_an_overdue_task_says_so(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 拜访 截止 明天")
    chat.say("li", "/task done 1")
    clock.advance(days=3)
    reply = chat.say("wang", "/task reopen 1")
    assert "它已经逾期" in reply.plain() and "/task due 1" in reply.plain()  # the keyword form typed


# -- list -----------------------------------------------------------------------------------------------

def test_list_marks_overdue_and_snoozed_and_sorts_by_due(uow, clock):
    chat = _team(uow, clock)
    chat.say("wang", "/task add @li 晚的 截止 下周五")
    chat.say("wang", "/task add @li 早的 截止 明天")
    chat.say("wang", "/task add @amy amy的 截止 后天")
    chat.say("li", "/task snooze 1")
    clock.advance(days=2)  # Sat 2026-11-28 10:00: #2 is overdue
    reply = chat.say("li", "/task list")
    [table] = [p for p in reply.parts if isinstance(p, Table)]
    assert [r[0] for r in table.rows] == ["#2", "#1"]
    assert table.rows[0][3] == "⚠️ 11-27 周五 18:00" and table.rows[0][4] == "已逾期"
    assert table.rows[1][3] == "12-04 周五 18:00" and table.rows[1][4] == "进行中"  # snooze has passed
    chat.say("li", "/task snooze 1")
    assert "提醒暂停至 11-29 周日 10:00" in chat.say("li", "/task list").plain()
    run_dialog(chat, [
        ("li", "/task list overdue", ["#2"], ["#1", "#3"]),
        ("wang", "/task 逾期", ["#2"], ["#1", "#3"]),
        ("wang", "/task list @amy", ["#3", "amy的"], ["#1", "#2"]),
        ("wang", "/task 列表 @li", ["#1", "#2"], ["#3"]),
        ("wang", "/task list team", ["（3 项）"]),
        ("amy", "/task list", ["assigned to you (1)", "#3", "Sat 11-28 18:00"]),
        ("wang", "/task list @zhao", ["<@zhao> 不是团队“华东销售一组”的成员"], [], False),
        ("wang", "/task list @li @amy", ["请 @ 提及一位成员"], [], False),
        ("wang", "/task list", ["没有我的进行中任务"]),
    ])


def test_list_is_capped(uow, clock):
    chat = _team(uow, clock)
    for i in range(33):
        assert chat.say("wang", f"/task add @li 任务{i} 截止 {i + 1}天后").ok
    reply = chat.say("li", "/task list")
    [table] = [p for p in reply.parts if isinstance(p, Table)]
    assert len(table.rows) == tasks.LIST_LIMIT
    assert "（33 项）" in reply.plain() and "还有 3 项未显示" in reply.plain()
    assert table.rows[0][1] == "任务0"


def test_list_needs_membership(uow, clock):
    chat = _team(uow, clock)
    reply = chat.say("nobody", "/task list team")
    assert not reply.ok and "你还不是团队" in reply.plain()


# -- catalogs, help, parser robustness ---------------------------------------------------------------

def test_help_lists_the_task_command(uow, clock):
    chat = _team(uow, clock)
    assert "/task 新建 @李雷" in chat.say("wang", "/teambot help").plain()
    assert "/task add @li" in chat.say("amy", "/teambot help").plain()


def test_usage_errors_show_a_task_example_not_a_missing_key(uow, clock):
    chat = _team(uow, clock)
    for user, text in [("li", "/task add @zzz 跟进 截止 明天"), ("li", "/task done 9"), ("li", "/task due 9 昨天"),
                       ("li", "/task 新建 跟进 截止 某天")]:
        plain = chat.say(user, text).plain()
        assert "task.example" not in plain and "tasks." not in plain, plain


def _ctx() -> Ctx:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    inv = Invocation(actor=Actor("console", "li"), channel="C", command="task", text="", received_at=now)
    return Ctx(inv=inv, lang="zh", tz=SHANGHAI, now=now)


_WORDS = st.sampled_from(["add", "新建", "list", "done", "完成", "due", "截止", "by", "note", "备注", "@li",
                          "<@U1|li>", "@", "#", "12", "#3", "明天", "下周五", "tomorrow", "昨天", "to", "给",
                          "mine", "团队", "逾期", "assign", "转给", "snooze", "99999999999999999999", ":", "：",
                          "reopen", "cancel", "某天", "x"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(_WORDS, max_size=8).map(" ".join)))
def test_parse_gives_a_request_or_a_usage_error(text):
    try:
        req = tasks.parse(text.strip(), _ctx())
    except UsageError as e:
        assert e.example is not None
        return
    assert type(req).__name__ in {"AddTask", "ListTasks", "CompleteTask", "ReopenTask", "RescheduleTask",
                                  "AssignTask", "CancelTask", "SnoozeTask"}
