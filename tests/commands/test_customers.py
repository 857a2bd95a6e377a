"""/customer and /followup as people type them, on Slack (signed HTTP into the real Bolt app) and the
console, in Chinese and English: every keyword, every refusal, 查重, the pool, stages and handover.

Clock: Thu 2026-11-26 10:00 Asia/Shanghai. Team: wang (manager), li and mei (reps), chen (account
manager); amy (manager) and bob, cat (reps) in the English team."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Customer, CustomerStageChange, FollowUp, ProgressValue, Task
from tests.kit.chat import Chat, Row, run_rows

PLATFORMS = ("slack", "console", "dingtalk", "wecom")

SETUP = [
    Row("wang", "/team setup 华东一组"),
    Row("wang", "/team add @li rep"),
    Row("wang", "/team add @mei rep"),
    Row("wang", "/team add @chen account_manager"),
]

ZH = [
    *SETUP,
    # add, with every key in Chinese, full-width ＝ and ：
    Row("li", "/客户 新建 杭州云帆科技有限公司 电话＝13800001111 联系人：陈总 阶段=初步接触 来源=展会",
        says=("已录入客户 #1：杭州云帆科技有限公司", "初步接触", "13800001111", "陈总", "展会", "[记录跟进]"),
        private=True),
    # 查重: the same company spelt differently, the same phone written with +86 and dashes
    Row("mei", "/客户 新建 杭州 云帆科技", says=("🚫 客户已存在", "#1 杭州云帆科技有限公司", "@li", "请联系负责人 @li"),
        ok=False, private=True),
    Row("mei", "/客户 添加 星河 手机=+86 138-0000-1111", says=("🚫 客户已存在", "电话 +86 138-0000-1111 已登记", "#1"),
        ok=False),
    Row("li", "/客户 新建 杭州云帆科技", says=("这是你自己的客户",), ok=False),
    Row("mei", "/客户 新建 星河贸易（中国）有限公司 电话=0571-88886666 负责人=公海 金额=20万",
        says=("#2", "公海", "线索", "057", "6666"), not_says=("0571-88886666",)),
    Row("mei", "/客户 新建 星河贸易", says=("🚫 客户已存在", "公海", "/客户 认领 2"), ok=False),
    Row("mei", "/客户 新建 华南物流 负责人=@li", says=("🚫 只有销售经理可以把客户录给别人",), ok=False),
    Row("wang", "/客户 新建 华南物流 负责人=@mei 电话=13900002222", says=("#3", "@mei", "已私信通知 @mei"),
        dms={"mei": ("@wang 在“华东一组”把客户 #3 华南物流 交给你负责", "13900002222")}),
    Row("li", "/客户 新建", says=("请写上客户名称",), ok=False),
    Row("li", "/客户 新建 某公司 电话=abc", says=("“abc”不像电话号码",), ok=False),
    Row("li", "/客户 新建 某公司 阶段=签单中", says=("不认识阶段“签单中”",), ok=False),
    Row("li", "/客户 新建 某公司 阶段=输单", says=("新建客户不能直接是“输单”",), ok=False),
    Row("li", "/客户 新建 某公司 金额=很多", says=("“很多”不是有效的金额",), ok=False),
    Row("li", "/客户 新建 某公司 电话=13800001112 电话=13800001113", says=("“电话”写了两次",), ok=False),
    Row("li", "/客户 新建 某公司 联系人=", says=("“联系人=”后面没有内容",), ok=False),
    Row("li", "/客户 新建 某公司 电话 13800001112", says=("“电话”后面请加等号：电话=13800001112",), ok=False),
    Row("li", "/客户 新建 @mei", says=("是一位成员，不是客户名称",), ok=False),
    Row("li", "/客户 新建 某公司 负责人=张三 李四", says=("负责人请写 @成员 或 公海",), ok=False),
    # list and visibility
    Row("li", "/客户 列表", says=("我的客户", "杭州云帆科技有限公司"), not_says=("华南物流", "星河")),
    Row("li", "/客户 列表 公海", says=("公海", "星河贸易（中国）有限公司"), not_says=("云帆",)),
    Row("li", "/客户 公海", says=("星河贸易",)),
    Row("li", "/客户 列表 团队", says=("🚫 销售代表只能查看自己的客户和公海",), ok=False),
    Row("li", "/客户 列表 @mei", says=("🚫 销售代表只能查看自己的客户和公海",), ok=False),
    Row("chen", "/客户 列表", says=("团队 华东一组 的客户", "华南物流", "杭州云帆", "星河")),
    Row("wang", "/客户 列表 @mei", says=("@mei 的客户", "华南物流"), not_says=("云帆",)),
    Row("wang", "/客户 列表 初步接触", says=("杭州云帆",), not_says=("华南物流",)),
    Row("li", "/客户 列表 快到期", says=("即将退回公海：暂无客户",)),
    Row("li", "/客户 列表 随便", says=("无法列出“随便”",), ok=False),
    # show: phone only to the owner and the manager
    Row("li", "/客户 查看 云帆", says=("客户 #1 杭州云帆科技有限公司", "13800001111", "阶段记录", "还没有跟进记录")),
    Row("chen", "/客户 查看 1", says=("138••••1111",), not_says=("13800001111",)),
    Row("wang", "/客户 查看 #1", says=("13800001111",)),
    Row("mei", "/客户 查看 1", says=("🚫", "负责人是 @li"), ok=False),
    Row("li", "/客户 查看 99", says=("没有编号为 #99 的客户",), ok=False),
    Row("li", "/客户 查看 不存在的公司", says=("没有名称包含“不存在的公司”的客户",), ok=False),
    Row("wang", "/客户 新建 杭州云帆物流", says=("#4",)),
    Row("wang", "/客户 查看 杭州", says=("有多个客户的名称包含“杭州”", "#1 杭州云帆科技有限公司", "#4 杭州云帆物流"),
        ok=False),
    Row("li", "/客户 查看 杭州", says=("客户 #1 杭州云帆科技有限公司",)),  # the only 杭州 li can see
    # follow-ups
    Row("li", "/跟进 云帆科技 拜访 确认了采购预算 下次 下周三",
        says=("已记录跟进", "拜访：确认了采购预算", "下次跟进：2026-12-02 周三", "09:00", "已计入“拜访”指标 1 次")),
    Row("li", "/跟进 1 电话，约了演示", says=("电话：约了演示",), not_says=("下次跟进",)),
    Row("li", "/跟进 1 微信 发了报价 下次 12月5日", says=("下次跟进：2026-12-05 周六", "不是工作日", "2026-12-07")),
    Row("li", "/跟进 推迟 1", says=("跟进提醒推迟到 2026-12-07 周一",)),
    Row("li", "/跟进 推迟 1 到 12月9日", says=("推迟到 2026-12-09 周三",)),
    Row("li", "/跟进 1", says=("请写上跟进方式和内容",), ok=False),
    Row("li", "/跟进 1 约了演示", says=("请写上跟进方式", "电话、拜访、微信、邮件、会议"), ok=False),
    Row("li", "/跟进 1 邮件", says=("请写上这次邮件的内容",), ok=False),
    Row("li", "/跟进 1 会议 演示 下次 昨天", ok=False),
    Row("mei", "/跟进 1 电话 抢单", says=("🚫", "只有负责人、客户经理或销售经理可以记录跟进"), ok=False),
    Row("mei", "/跟进 2 电话 问问", says=("🚫", "在公海里", "/客户 认领 2"), ok=False),
    Row("chen", "/跟进 1 会议 需求访谈", says=("会议：需求访谈",), dms={"li": ("@chen 记录了你的客户 #1", "13800001111")}),
    Row("li", "/客户 查看 1", says=("跟进记录（共 4 次", "确认了采购预算", "需求访谈", "已取消")),
    # stages
    Row("li", "/客户 阶段 云帆科技 需求确认", says=("初步接触 → 需求确认",)),
    Row("li", "/客户 阶段 1 方案报价 金额=50万", says=("需求确认 → 方案报价", "¥500,000（50万）")),
    Row("li", "/客户 阶段 1 方案报价", says=("已经是“方案报价”",)),
    Row("li", "/客户 阶段 1 输单", says=("标为输单需要写明原因",), ok=False),
    Row("li", "/客户 阶段 1 签约中", says=("不认识阶段“签约中”",), ok=False),
    Row("li", "/客户 阶段 1", says=("请写上要改成的阶段",), ok=False),
    Row("li", "/客户 阶段 1 赢单 电话=13800001111", says=("这里不能改",), ok=False),
    Row("li", "/客户 认领", says=("请写上客户：编号",), ok=False),
    Row("wang", "/客户 移交 @mei @li", says=("请写上要移交的客户编号，或 all",), ok=False),
    Row("mei", "/客户 阶段 1 赢单", says=("🚫", "只有负责人或销售经理可以修改阶段"), ok=False),
    Row("li", "/客户 阶段 1 赢单 60万", says=("🎉 赢单", "¥600,000（60万）")),
    Row("li", "/客户 释放 1", says=("🚫", "赢单客户不进公海"), ok=False),
    # edit
    Row("li", "/客户 修改 1 联系人=陈经理 电话=0571-88886666", says=("🚫 客户已存在", "电话 0571-88886666 已登记", "#2"),
        ok=False),
    Row("li", "/客户 修改 1 联系人=陈经理 电话=13800001119", says=("已更新客户 #1", "联系人", "电话", "陈经理", "13800001119")),
    Row("chen", "/客户 修改 1 来源=转介绍", says=("已更新客户 #1", "转介绍"), not_says=("13800001119",)),
    Row("mei", "/客户 修改 1 联系人=我", says=("🚫", "只有负责人、客户经理或销售经理可以修改它的资料"), ok=False),
    Row("li", "/客户 修改 1", says=("请写上要改的内容",), ok=False),
    Row("li", "/客户 修改 1 阶段=赢单", says=("阶段请用 /客户 阶段",), ok=False),
    # rename: 查重 again
    Row("wang", "/客户 改名 4 星河贸易", says=("🚫 客户已存在", "#2"), ok=False),
    Row("wang", "/客户 改名 4 杭州云帆冷链物流", says=("杭州云帆物流 → 杭州云帆冷链物流",)),
    Row("mei", "/客户 改名 1 ACME", says=("🚫", "只有负责人或销售经理可以改名"), ok=False),
    # claim and release
    Row("li", "/客户 认领 2", says=("已认领客户 #2", "1/50", "30 天没有跟进会退回公海")),
    Row("mei", "/客户 认领 2", says=("🚫", "不在公海", "@li"), ok=False),
    Row("mei", "/客户 释放 2", says=("🚫", "只有负责人或销售经理可以释放"), ok=False),
    Row("li", "/客户 释放 2 客户暂无预算", says=("已释放到公海", "原因：客户暂无预算")),
    Row("li", "/客户 认领 2", says=("🚫", "7 天内不能认领回来"), ok=False),
    Row("li", "/客户 释放 2", says=("已经在公海里",)),
    Row("mei", "/客户 认领 星河", says=("已认领客户 #2",)),
    # transfer
    Row("wang", "/任务 新建 @mei 回访华南物流 截止 下周五"),
    Row("mei", "/客户 移交 all @mei @li", says=("🚫 只有销售经理可以这样做",), ok=False),
    Row("wang", "/客户 移交 1 @mei @li", says=("🚫", "负责人是 @li，不是 @mei"), ok=False),
    Row("wang", "/客户 移交 all @mei", says=("请 @ 两位成员",), ok=False),
    Row("wang", "/客户 移交 all @mei @mei", says=("同一个人",), ok=False),
    Row("wang", "/客户 移交 all @mei @li", says=("已把 @mei 的 2 个客户移交给 @li", "华南物流", "星河", "未完成任务转交 1 个"),
        dms={"mei": ("把你的 2 个客户移交给了 @li",), "li": ("@mei 的 2 个客户交给你负责",)}),
    Row("li", "/客户 列表 我的", says=("华南物流", "星河", "杭州云帆")),
    Row("li", "/任务 列表", says=("回访华南物流",)),
    Row("wang", "/客户 移交 all @mei @li", says=("名下没有客户",)),
    Row("li", "/客户 乱写", says=("我不认识“乱写”",), ok=False),
    # the team's rules (/customer rules is /team rules)
    Row("li", "/客户 规则", says=("公海天数", "30 天", "提醒天数", "认领上限", "50 个", "需求确认"), private=True),
    Row("li", "/客户 规则 认领上限=1", says=("🚫 只有销售经理可以这样做",), ok=False),
    Row("wang", "/客户 规则 认领上限＝1 高质量阶段=方案报价", says=("已更新 华东一组 的客户规则", "认领上限 1", "方案报价")),
    Row("wang", "/客户 规则 提醒天数=30", says=("提醒天数（30）必须小于公海天数（30）",), ok=False),
    Row("wang", "/客户 规则 颜色=红", says=("没有“颜色”这项规则",), ok=False),
    Row("mei", "/客户 新建 东方电气 负责人=公海"),
    Row("li", "/客户 认领 东方电气", says=("🚫", "达到上限 1"), ok=False),
]

EN = [
    Row("amy", "/team setup East Sales lang=en"),
    Row("amy", "/team add @bob rep"),
    Row("amy", "/team add @cat rep"),
    Row("bob", "/customer add ACME Co., Ltd. phone=+86 139 1234 5678 contact=John Smith stage=contacted source=expo",
        says=("Customer #1 added: ACME Co., Ltd.", "contacted", "+86 139 1234 5678", "John Smith", "expo",
              "Log follow-up")),
    Row("cat", "/customer add acme", says=("🚫 This customer exists already", "#1 ACME Co., Ltd.", "@bob",
                                             "Ask its owner @bob"), ok=False),
    Row("cat", "/customer new Globex tel=13912345678", says=("phone 13912345678 is on file", "#1"), ok=False),
    Row("cat", "/customer add Globex owner=pool amount=200k", says=("#2", "the pool", "lead")),
    Row("cat", "/customer add Initech owner=@bob", says=("🚫 Only the sales manager can add a customer for someone else",),
        ok=False),
    Row("bob", "/customer list", says=("My customers", "ACME"), not_says=("Globex",)),
    Row("bob", "/customer list pool", says=("The pool", "Globex")),
    Row("bob", "/customer list team", says=("🚫 Sales reps see their own customers and the pool only",), ok=False),
    Row("amy", "/customer list team", says=("Customers of East Sales", "ACME", "Globex")),
    Row("bob", "/customer show acme", says=("Customer #1 ACME Co., Ltd.", "+86 139 1234 5678", "Stage history")),
    Row("cat", "/customer show 1", says=("🚫", "belongs to @bob"), ok=False),
    Row("bob", "/followup acme visit confirmed the budget next wednesday",
        says=("Follow-up logged", "visit: confirmed the budget", "Next follow-up: Wed 2026-12-02", "Counted 1 in the Visits")),
    Row("bob", "/followup 1 meeting", says=("Say what the meeting was about",), ok=False),
    Row("bob", "/followup snooze acme", says=("moves to Thu 2026-12-03",)),
    Row("cat", "/followup snooze 1", says=("🚫",), ok=False),
    Row("bob", "/customer stage acme qualified", says=("contacted → qualified",)),
    Row("bob", "/customer stage 1 lost", says=("A lost deal needs a reason",), ok=False),
    Row("bob", "/customer stage 1 lost because competitor was cheaper", says=("qualified → lost", "competitor was cheaper")),
    Row("bob", "/customer rename 1 to ACME Group", says=("ACME Co., Ltd. → ACME Group",)),
    Row("bob", "/customer claim 2", says=("Customer #2 Globex is yours", "1/50")),
    Row("bob", "/customer release 2 no budget", says=("back in the pool", "Reason: no budget")),
    Row("bob", "/customer claim 2", says=("🚫", "can't claim it back for 7 days"), ok=False),
    Row("cat", "/customer claim 2", says=("Customer #2 Globex is yours",)),
    Row("bob", "/customer transfer all @cat @bob", says=("🚫 Only the sales manager",), ok=False),
    Row("amy", "/customer transfer 2 @cat @bob", says=("Handed 1 customer(s) of @cat over to @bob",),
        dms={"cat": ("handed your 1 customer(s)",), "bob": ("gave you 1 customer(s) of @cat",)}),
    Row("bob", "/customer frobnicate", says=("I don't know “frobnicate”",), ok=False),
    Row("bob", "/customer add", says=("Give the customer's name.", "Example:"), ok=False, private=True),
    Row("bob", "/customer add Umbrella phone=call me", says=("doesn't look like a phone number",), ok=False),
    Row("bob", "/customer add Umbrella stage=lost", says=("can't start as lost",), ok=False),
    Row("bob", "/customer add Umbrella stage=dreaming", says=("I don't know the stage “dreaming”",), ok=False),
    Row("bob", "/customer add Umbrella amount=lots", says=("“lots” is not an amount",), ok=False),
    Row("bob", "/customer show nothing-like-it", says=("no customer whose name contains “nothing-like-it”",), ok=False),
    Row("bob", "/customer show 99", says=("no customer #99",), ok=False),
    Row("bob", "/customer list whatever", says=("I can't list “whatever”",), ok=False),
    Row("bob", "/customer list @cat", says=("🚫 Sales reps see their own customers and the pool only",), ok=False),
    Row("bob", "/customer stage 1", says=("Give the new stage",), ok=False),
    Row("cat", "/customer stage 1 won", says=("🚫", "only its owner or the sales manager can change its stage"),
        ok=False),
    Row("cat", "/customer rename 1 Foo", says=("🚫", "only its owner or the sales manager can rename it"), ok=False),
    Row("cat", "/customer release 1", says=("🚫", "only its owner or the sales manager can release it"), ok=False),
    Row("cat", "/followup 1 call hello", says=("🚫", "only its owner, an account manager or the sales manager"),
        ok=False),
    Row("bob", "/followup 1", says=("Say how and what",), ok=False),
    Row("bob", "/followup 1 booked a demo", says=("Say how you followed up: call, visit, wechat, email, meeting",),
        ok=False),
    Row("bob", "/followup 1 call booked a demo next", says=("Give a date after “next”",), ok=False),
    Row("bob", "/customer claim 1", says=("is yours already",)),
    Row("bob", "/customer edit 1 phone=none contact=Jane Doe", says=("Customer #1 ACME Group updated", "Jane Doe"),
        not_says=("139 1234",)),
    Row("bob", "/customer edit 1 owner=@cat", says=("Change the owner with /customer transfer",), ok=False),
    Row("cat", "/customer add Initech phone=+86 139 1234 5678", says=("Customer #3 added",)),
    Row("amy", "/customer transfer all @cat", says=("Mention two people",), ok=False),
    Row("amy", "/customer transfer all @bob @bob", says=("the same person",), ok=False),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_customers_in_chinese(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, ZH)
        with chat.uow() as u:
            session = u.session
            assert session.scalar(select(Customer.owner_id).where(Customer.id == 3)) == chat.id("li")
            pending = session.scalars(select(FollowUp.next_state).where(FollowUp.customer_id == 1)
                                .order_by(FollowUp.id)).all()
            assert pending == ["cancelled", None, "pending", None]
            assert [c.to_stage for c in session.scalars(select(CustomerStageChange)
                                                  .where(CustomerStageChange.customer_id == 1)
                                                  .order_by(CustomerStageChange.id))] == \
                ["contacted", "qualified", "proposal", "won"]
            assert len(session.scalars(select(ProgressValue)).all()) == 1  # the one visit
            assert session.scalars(select(Task.assignee)).all() == [chat.id("li")]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_customers_in_english(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, EN)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_leaver_s_customers_are_offered_and_handed_over(platform, sqlite_url, clock):
    with Chat(platform, sqlite_url, clock) as chat:
        run_rows(chat, [
            *SETUP,
            Row("li", "/客户 新建 杭州云帆科技"),
            Row("li", "/跟进 1 电话 约了演示 下次 下周一"),
            Row("li", "/客户 新建 宁波港务"),
            Row("wang", "/任务 新建 @li 回访宁波港务 截止 下周五"),
            Row("wang", "/团队 移除 @li", says=("2 个客户（杭州云帆科技、宁波港务）", "/客户 移交 all @li @接手人",
                                                "[把 2 个客户移交给我]")),
            Row("wang", "/客户 移交 all @li @mei", says=("已把 @li 的 2 个客户移交给 @mei", "待跟进提醒 1 条",
                                                         "未完成任务转交 1 个"),
                dms={"mei": ("@li 的 2 个客户交给你负责",)}),
            Row("mei", "/客户 列表", says=("杭州云帆科技", "宁波港务")),
        ])


@pytest.mark.parametrize("lang_line, form_words", [
    ("/teambot lang zh", ("录入客户", "/customer 新建 <客户名称>", "客户名称", "电话")),
    ("/teambot lang en", ("Add a customer", "/customer add <name>", "Customer name", "Phone")),
])
def test_bare_commands_open_a_form(sqlite_url, clock, lang_line, form_words):
    with Chat("console", sqlite_url, clock) as chat:
        run_rows(chat, [*SETUP, Row("li", lang_line)])
        seen = chat.say("li", "/customer")
        assert all(w in seen.text for w in form_words[1:]), seen.text
        assert seen.private and not seen.ok
        seen = chat.say("li", "/followup")
        assert "/followup" in seen.text and seen.private


def test_forms_compose_the_typed_commands():
    from commands.core import forms
    from commands.core.form_values import FieldError

    compose = forms.feature_form("customer").compose
    assert compose({"name": "杭州云帆 科技", "phone": "138 0000 1111", "stage": "contacted"}) == \
        "/customer add 杭州云帆 科技 phone=138 0000 1111 stage=contacted"
    compose = forms.feature_form("followup").compose
    assert compose({"customer": "12", "how": "visit", "note": "确认了\n预算", "next_on": "2026-12-02"}) == \
        "/followup 12 visit 确认了 预算 next 2026-12-02"
    with pytest.raises(FieldError) as e:
        compose({"customer": "12", "how": "call"})
    assert e.value.field == "note"
    assert forms.needs_text("followup.details_required")


def test_home_lists_the_customers_to_follow_up_today(sqlite_url, clock):
    from commands.core import home
    from commands.core.context import Actor, Invocation

    with Chat("console", sqlite_url, clock) as chat:
        run_rows(chat, [*SETUP, Row("li", "/客户 新建 杭州云帆科技"), Row("li", "/跟进 1 电话 约了演示 下次 今天"),
                        Row("li", "/客户 新建 宁波港务"), Row("li", "/跟进 2 电话 报价 下次 下周一")])
        inv = Invocation(actor=Actor(platform="console", user_id="li"), channel=chat.channel, command="",
                         text="", received_at=clock.now())
        with chat.uow() as uow:
            text = home.build(uow.session, chat.dispatcher.context(uow, inv)).plain()
        assert "今天要跟进的客户" in text and "#1" in text and "约了演示" in text and "#2" not in text, text
        assert "/followup snooze 1" in text
