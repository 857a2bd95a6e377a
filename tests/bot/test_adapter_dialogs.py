"""One dialog table, run on every platform through its real adapter (tests/kit/chat.py): Slack
(signed HTTP into the real Bolt app, a fake Web API), DingTalk (signed callbacks, answers through the
sessionWebhook and the robot APIs), WeCom (encrypted callbacks, the app message APIs) and the console.

The table walks a sales team's week in both languages: the team is set up, members added (by id and
by a Chinese name), progress and a blocker logged, a task assigned (the assignee gets a DM) and done
(the creator hears of it), a resource request through its approvals (each next step gets a DM), a
refusal and an unknown command answered privately with an example, a goal, the KPIs and the agenda.
A second table does the same for a team that works in English.
"""
from __future__ import annotations

import pytest

from tests.kit.chat import PLATFORMS, Chat, Row, run_rows

WEEK = [
    Row("wang", "/team setup 华东销售一组", says=("已创建团队 华东销售一组", "销售经理：@wang"), private=False,
        channel=("已创建团队 华东销售一组",)),
    Row("wang", "/team add @li rep", says=("已把 @li 加入 华东销售一组", "销售代表"), private=False,
        channel=("已把 @li 加入",)),
    Row("wang", "/团队 添加 @陈静 account_manager", says=("已把 @陈静 加入", "客户经理"), private=False),
    Row("wang", "/team add @zhao resource_admin", says=("@zhao", "资源管理部")),
    Row("li", "/team add @mei rep", says=("🚫 只有销售经理可以这样做。",), not_says=("已把",), ok=False, private=True),
    Row("li", "/progress 签约ACME年框 销售额=50万 新客户=1", says=("已记录进展：签约ACME年框", "¥500,000（50万）"),
        private=True),
    Row("li", "/progress 阻塞: 客户法务审核合同超过两周", says=("已记录阻塞问题：客户法务审核合同超过两周", "问题讨论")),
    Row("wang", "/task add @li 拜访客户 due 明天", says=("已为 @li 创建任务 #1：拜访客户", "2026-11-27 周五 18:00"),
        dms={"li": ("@wang 在“华东销售一组”给你布置了任务 #1：拜访客户", "/task done 1")}),
    Row("li", "/task done 1", says=("任务 #1 已完成：拜访客户",), dms={"wang": ("@li 完成了任务 #1：拜访客户",)}),
    Row("li", "/resource request budget 5000 for 展会", says=("已提交资源申请 #1：财务 ¥5,000，用于 展会。",
                                                              "已通知销售经理 @wang 审批。"),
        dms={"wang": ("@li 在“华东销售一组”申请资源 #1：财务 ¥5,000。请审批", "/resource approve 1")}),
    Row("wang", "/resource approve 1", says=("已批准 @li 的资源申请 #1", "已通知资源管理部 @zhao"),
        dms={"zhao": ("请资源管理部审核",), "li": ("经理 @wang 批准了你的资源申请 #1",)}),
    Row("zhao", "/resource allocate 1", says=("要先经理批准、资源管理部审核通过，才能分配",), ok=False, private=True),
    Row("wang", "/goal set sales 1.2m 2026-Q4 for team", says=("已为团队设定目标 #1：销售额 ¥1,200,000（120万）",),
        private=False, channel=("目标 #1",)),
    # Without a period /kpi shows the period of the team's goals: the Q4 goal just set.
    Row("li", "/kpi", says=("绩效 · 团队 华东销售一组 · 2026年第四季度", "¥500,000（50万）", "¥1,200,000（120万）")),
    Row("wang", "/agenda", says=("周会议程 · 华东销售一组", "目标回顾", "问题讨论", "客户法务审核合同超过两周")),
    Row("li", "/teambot lang en", says=("I'll answer you in English from now on.",)),
    Row("li", "/progress list", says=("Progress · week of Mon 2026-11-23", "签约ACME年框", "Sales ¥500,000")),
    Row("li", "/nosuch", says=("I don't know the command “nosuch”", "Example:", "/teambot help"), ok=False,
        private=True),
    Row("陈静", "/teambot help", says=("teambot 命令", "/progress", "/task", "/resource", "/goal", "/kpi", "/agenda")),
]


#: An English-speaking team: undo, snooze, done and reopen, a rejection with its reason, a goal adjusted
#: with the reason shown to the channel, the reviews, and a usage error with its example.
ENGLISH = [
    Row("amy", "/team setup East Sales lang=en", says=("Team East Sales is set up", "Sales manager: @amy"),
        private=False),
    Row("amy", "/team add @bob rep", says=("Added @bob to East Sales as Sales rep",), channel=("Added @bob",)),
    Row("amy", "/team add @carol resource_admin", says=("Added @carol", "Resource admin")),
    Row("bob", "/progress called ACME visits=2", says=("Progress logged: called ACME", "Visits 2", "/progress undo"),
        private=True),
    Row("bob", "/progress undo", says=("Undid your entry", "called ACME")),
    Row("bob", "/progress signed ACME sales=500k customers=1", says=("Sales ¥500,000", "New customers 1")),
    Row("amy", "/task add @bob send the quote due friday", says=("Task #1 for @bob: send the quote", "Fri 2026-11-27"),
        dms={"bob": ("@amy assigned you task #1 in East Sales: send the quote",)}),
    Row("bob", "/task snooze 1", says=("Task #1 (send the quote): reminders paused until",)),
    Row("bob", "/task done 1", says=("Task #1 done: send the quote",), dms={"amy": ("@bob finished task #1",)}),
    Row("amy", "/task reopen 1", says=("Task #1 is open again: send the quote",)),
    Row("bob", "/resource request people 2 for the expo", says=("Resource request #1 submitted: 2 people",),
        dms={"amy": ("@bob requests resources in “East Sales” (#1): 2 people",)}),
    Row("amy", "/resource reject 1 because budget is frozen", says=("rejected", "budget is frozen"),
        dms={"bob": ("@amy rejected your resource request #1", "budget is frozen")}),
    Row("amy", "/goal set sales 1m 2026-Q4 for team", says=("Goal #1 set for the team: Sales ¥1,000,000, 2026 Q4",),
        private=False),
    Row("amy", "/goal adjust 1 1.2m because ACME signed early",
        says=("Goal #1 (the team, Sales): ¥1,000,000 → ¥1,200,000, because ACME signed early",), private=False,
        channel=("because ACME signed early",)),
    Row("amy", "/goal review", says=("Goal review · East Sales", "¥1,200,000", "¥500,000")),
    Row("bob", "/kpi team", says=("KPI · team East Sales · 2026 Q4", "¥500,000", "¥1,200,000")),
    Row("amy", "/team", says=("East Sales · 3 members", "@bob", "@carol")),
    Row("bob", "/task frobnicate", says=("I don't know “frobnicate”", "Example:", "/task add"), ok=False,
        private=True),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_english_speaking_team(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, ENGLISH)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_week_of_the_sales_team(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, WEEK)


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if p != "console"])
def test_a_direct_message_is_answered_in_the_same_conversation(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, WEEK[:2])
        # In a DM the person's only team is meant.
        seen = chat.say("li", "/progress 电话回访 visits=2", direct=True)
        assert seen.private and seen.ok and "已记录进展：电话回访" in seen.text and not seen.channel
        assert "电话回访" in chat.say("wang", "/progress list").text


#: Recognition (精神激励) on every platform: kudos in the channel, refusals privately, an honour
#: confirmed by the manager and shown on the roster, a team goal met heard in the channel at once.
RECOGNITION = [
    Row("wang", "/team setup 华东销售一组", private=False),
    Row("wang", "/team add @li rep"),
    Row("wang", "/team add @han rep"),
    Row("han", "/表扬 @li 拿下ACME年框", says=("已在团队频道公开表扬 @li：拿下ACME年框",), private=True,
        channel=("公开表彰", "@han 表扬了 @li：拿下ACME年框")),
    Row("li", "/表扬 @li 我真棒", says=("🚫 不能表扬自己",), ok=False, private=True),
    Row("li", "/表扬 @han", says=("请写上表扬的原因", "/表扬 @李雷 拿下ACME年框"), ok=False, private=True),
    Row("li", "/荣誉 @han 月度销冠 2026-10", says=("🚫 只有销售经理可以这样做",), ok=False, private=True),
    Row("wang", "/荣誉 @li 月度销冠 2026-10", says=("已确认：@li 获得 2026年10月「月度销冠」",),
        channel=("🏅", "恭喜 @li 获得 2026年10月「月度销冠」")),
    Row("han", "/团队", says=("🏅月度销冠（2026年10月）",)),
    Row("wang", "/goal set sales 1m 2026-Q4 for team", private=False),
    Row("li", "/progress 签约ACME 销售额=120万", says=("已记录进展",), private=True,
        channel=("团队激励", "团队目标 #1 达成")),
    Row("wang", "/agenda", says=("经验分享", "👏 @han 表扬 @li：拿下ACME年框")),
]
RECOGNITION_EN = [
    Row("amy", "/team setup East Sales lang=en", private=False),
    Row("amy", "/team add @bob rep"),
    Row("amy", "/team add @carol rep"),
    Row("carol", "/kudos @bob closed the ACME deal", says=("Praised @bob in the team channel",), private=True,
        channel=("@carol praised @bob: closed the ACME deal",)),
    Row("bob", "/kudos @bob me", says=("You can't give kudos to yourself",), ok=False, private=True),
    Row("amy", "/honor @bob top sales 2026-10", says=("Confirmed: @bob is Top seller of the month for",),
        channel=("Congratulations to @bob",)),
    Row("carol", "/team", says=("Honours", "🏅Top seller of the month")),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_recognition(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, RECOGNITION)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_recognition_in_english(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, RECOGNITION_EN)
