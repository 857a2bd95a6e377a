"""/agenda: the next meeting's agenda from generated data, time boxes, and the manager's schedule."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from commands.agenda import PreviewAgenda, ScheduleMeeting, parse, time_boxes
from commands.core import fmt
from commands.core.clock import FixedClock
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import Text
from storage.models import Meeting, ResourceRequest, Schedule, Task, Team
from tests.commands import kpi_data as K
from tests.kit.dialog import Chat, run_dialog


def _sections(reply) -> dict[str, int]:
    out = {}
    for p in reply.parts:
        if isinstance(p, Text) and p.text.startswith("*") and "分钟）" in p.text and ". " in p.text:
            name = p.text.split(". ", 1)[1].split("*")[0]
            out[name] = int(p.text.rsplit("（", 1)[1].split(" ")[0])
    return out


def test_preview_numbers_since_the_last_meeting(uow):
    clock = FixedClock(K.NOW)
    chat, data, team_id = K.world(uow, clock)
    with uow() as u:
        session = u.session
        team = session.get(Team, team_id)
        # an overdue task, a task due later, a done one; two pending requests and a closed one
        for title, due, status in (("回访ACME", "2026-10-15", "open"), ("报价", "2026-10-30", "open"),
                                   ("已完成", "2026-10-10", "done")):
            session.add(Task(team_id=team.id, assignee="李雷", created_by="wang", title=title, due_at=K.local(due, "18:00"),
                       status=status, created_at=K.local("2026-10-01"), updated_at=K.local("2026-10-01")))
        for state in ("submitted", "reviewed", "closed"):
            session.add(ResourceRequest(team_id=team.id, requester="alice", type="budget", amount=20000,
                                  purpose=f"华南展会 {state}", state=state, created_at=K.local("2026-10-12"),
                                  updated_at=K.local("2026-10-12")))
    run_dialog(chat, [("wang", "/goal set sales 6m 2026-Q4 for team", ["#1"])])
    reply = chat.say("李雷", "/agenda")
    assert reply.ok and reply.private
    text = reply.plain()
    # Tue Oct 20 -> the next meeting is Mon Oct 26 09:30; the last one was Mon Oct 19 09:30.
    assert "2026-10-26 周一 09:30" in text and "2026-10-19 周一 09:30" in text
    since, until = K.local("2026-10-19", "09:30"), K.NOW + timedelta(microseconds=1)

    boxes = _sections(reply)
    assert list(boxes) == ["目标回顾", "进展汇报", "问题讨论", "经验分享"]
    assert sum(boxes.values()) == 60 and min(boxes.values()) >= 5

    goal_rows = K.rows_by_first(K.table_after(reply, "目标回顾"))
    assert goal_rows["#1"][5] == fmt.amount(K.actual(data, "sales", *K.quarter(2026, 4)), "CNY", "zh")

    table = K.table_after(reply, "进展汇报")
    sums = [c for c in ("sales", "customers", "event_participants", "visits")
            if any(v.metric == c and since <= v.at < until for v in data.values)]
    names = {"sales": "销售额", "customers": "新客户", "event_participants": "活动参与人数", "visits": "拜访"}
    assert table.header == ("成员", "进展条数", "阻塞", *(names[c] for c in sums))
    rows = K.rows_by_first(table)
    assert set(rows) == {"<@李雷>", "<@韩梅梅>", "<@alice>", "<@wang>"}
    for user in ("李雷", "韩梅梅", "alice", "wang"):
        entries = [e for e in data.entries if e.user == user and since <= e.at < until]
        expected = (str(len(entries)), str(sum(e.blocker for e in entries)),
                    *(fmt.amount(K.actual(data, c, since, until, user), K.AGG[c][1], "zh") for c in sums))
        assert rows[f"<@{user}>"][1:] == expected, user

    problems = text.split("问题讨论")[1].split("经验分享")[0]
    blockers = sorted((e for e in data.entries if e.blocker and since <= e.at < until), key=lambda e: e.at,
                      reverse=True)
    assert f"阻塞问题（{len(blockers)}）" in problems or not blockers
    for b in blockers[:8]:
        assert b.note in problems
    assert "逾期任务（1）" in problems and "回访ACME" in problems and "报价" not in problems
    assert "待处理的资源申请（2）" in problems and "华南展会 closed" not in problems

    wins = text.split("经验分享")[1]
    deals = sorted((v for v in data.values if v.metric == "sales" and since <= v.at < until),
                   key=lambda v: (-v.value, v.at, v.seq))[:3]
    assert deals
    lines = [x for x in wins.splitlines() if x.startswith("• 🏆")]
    assert lines == [f"• 🏆 <@{d.user}> {fmt.amount(d.value, 'CNY', 'zh')} — {d.user} 跟进 "
                     f"{d.at.astimezone(K.SHANGHAI).date().isoformat()}" for d in deals]


def test_schedule_is_for_managers_and_moves_the_agenda_post(uow):
    clock = FixedClock(K.NOW)
    chat = Chat(uow, clock)
    for line in ("/team setup 华东一组", "/team add @李雷 rep"):
        chat.say("wang", line)
    run_dialog(chat, [
        ("李雷", "/agenda schedule weekly mon 09:30", ["只有销售经理"], [], False),
        # it is Tue 10:00: the meeting starting right now is the next one
        # 会议时间控制在1小时以内: 90 minutes is refused with the guide's reason
        ("wang", "/agenda 安排 每周 周二 10:00 90分钟", ["会议时间控制在1小时以内", "90 分钟"], [], False),
        ("wang", "/agenda 安排 每周 周二 10:00 45分钟", ["每周二 10:00", "45 分钟", "09:30",
                                                      "2026-10-20 周二 10:00"]),
        ("wang", "/agenda", ["2026-10-20 周二 10:00", "45 分钟", "2026-10-13 周二 10:00"]),
        ("wang", "/agenda schedule weekly fri 16:00 1h", ["15:30"]),
        ("wang", "/agenda schedule weekly 16:00", ["哪一天"], [], False),
        ("wang", "/agenda schedule weekly fri 25:00", ["不是时间"], [], False),
        ("wang", "/agenda schedule weekly fri 16:00 5m", ["15 到 60"], [], False),
    ])
    with uow() as u:
        m = u.session.scalars(select(Meeting)).one()
        sched = u.session.scalars(select(Schedule)).one()
    assert (m.weekday, m.local_time, m.minutes) == (4, "16:00", 60)
    assert (sched.kind, sched.rule, sched.local_time, sched.on_holiday, sched.enabled) == (
        "weekly_agenda", "FREQ=WEEKLY;BYDAY=FR", "15:30", "move", True)
    assert sched.updated_at == K.NOW


def test_meeting_after_a_holiday_moves_to_the_next_working_day(uow):
    clock = FixedClock(K.local("2026-09-30", "12:00"))
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东一组")
    reply = chat.say("wang", "/agenda")
    # Mon Oct 5 is in the National Day holiday: the meeting moves to Thu Oct 8; the last was Sep 28.
    assert "2026-10-08 周四 09:30" in reply.plain() and "2026-09-28 周一 09:30" in reply.plain()


def _ctx():
    inv = Invocation(actor=Actor("console", "wang"), channel="C", command="agenda", text="", received_at=K.NOW)
    return Ctx(inv=inv, lang="zh", tz=K.SHANGHAI, now=K.NOW)


def test_parse():
    assert parse("", _ctx()) == PreviewAgenda() == parse("预览", _ctx())
    assert parse("schedule weekly mon 09:30", _ctx()) == ScheduleMeeting(0, "09:30", 60)
    assert parse("安排 每周 星期三 9点半 1小时", _ctx()) == ScheduleMeeting(2, "09:30", 60)
    assert parse("schedule weekly friday 16:00 45min", _ctx()) == ScheduleMeeting(4, "16:00", 45)
    assert parse("schedule 周日 ０９：３０ 0.5h", _ctx()) == ScheduleMeeting(6, "09:30", 30)
    for bad in ("schedule", "schedule mon", "schedule mon 9", "schedule mon 09:30 300m", "lunch",
                "schedule mon 09:30 90m", "安排 每周 星期三 9点半 1.5小时", "schedule 周日 09:30 2h",
                "schedule mon 09:30 tue", "preview now"):
        with pytest.raises(UsageError):
            parse(bad, _ctx())


def test_time_boxes_always_add_up():
    rng = random.Random(3)
    for _ in range(2000):
        total = rng.randint(15, 240)
        weights = [rng.uniform(0, 10) for _ in range(4)]
        boxes = time_boxes(total, weights)
        assert sum(boxes) == total and len(boxes) == 4 and min(boxes) >= min(5, total // 4)
        if total % 5 == 0 and total >= 20:
            assert all(b % 5 == 0 for b in boxes)
    assert time_boxes(60, [1, 1, 1, 1]) == [15, 15, 15, 15]
    assert time_boxes(60, [0, 0, 0, 0]) == [15, 15, 15, 15]
    assert time_boxes(17, [1, 2, 3, 4]) == [4, 4, 4, 5]
    assert date(2026, 10, 26).weekday() == 0
