"""/kudos (表扬) and /honor (荣誉): praise kept and posted in the channel, honours confirmed by the manager
and shown on the roster, the agenda's 经验分享, and the team incentive when a team goal is met."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from commands.core.clock import FixedClock
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.reply import reply_from_dict
from commands.kudos import parse
from commands.kudos.parse import find_title, parse_honour
from storage.models import GoalMet, Honour, Kudos, OutboxMessage
from tests.conftest import SHANGHAI
from tests.kit.dialog import Chat, row_counts, run_dialog


def _team(chat: Chat, lang: str = "") -> None:
    run_dialog(chat, [
        ("wang", "/team setup 华东销售一组" + (f" lang={lang}" if lang else ""), []),
        ("wang", "/team add @li rep", []),
        ("wang", "/team add @han rep", []),
        ("wang", "/team add @liu marketing", []),
    ])


def channel_posts(uow) -> list[str]:
    with uow() as u:
        rows = u.session.scalars(select(OutboxMessage).where(OutboxMessage.destination.like("channel:%"))
                                 .order_by(OutboxMessage.id))
        return [reply_from_dict(json.loads(r.payload)).plain() for r in rows]


def test_kudos_dialog_zh(uow, clock):
    chat = Chat(uow, clock)
    _team(chat)
    run_dialog(chat, [
        ("han", "/表扬 @li 拿下ACME年框", ["✅ 已在团队频道公开表扬 <@li>：拿下ACME年框"]),
        ("liu", "/表扬 李雷 帮忙", ["李雷 不在团队“华东销售一组”里", "示例", "/表扬 @李雷 拿下ACME年框"], [], False),
        ("liu", "/表扬 li 周末加班核对报价单", ["公开表扬 <@li>：周末加班核对报价单"]),
        ("wang", "/表扬 @li、@han：华东区月度回款第一", ["<@li>、<@han>", "华东区月度回款第一"]),
        ("li", "/表扬 @li 我太棒了", ["🚫 不能表扬自己", "最佳协作"], ["已在团队频道"], False),
        ("li", "/表扬 @han", ["请写上表扬的原因", "示例"], [], False),
        ("li", "/表扬 拿下ACME年框", ["要表扬谁", "/表扬 @李雷 拿下ACME年框"], [], False),
        ("li", "/表扬 @nobody 好样的", ["不在团队“华东销售一组”里"], [], False),
        ("li", "/表扬 @han" + " 好" * 600, ["表扬原因太长了"], [], False),
        ("li", "/表扬 列表", ["表扬记录", "共 4 条", "<@han>", "拿下ACME年框", "华东区月度回款第一"]),
        ("li", "/表扬 列表 上个月", ["还没有表扬"]),
        ("li", "/表扬 列表 @han", ["共 2 条"]),
        ("li", "/表扬 列表 下下个世纪", ["无法识别时间段", "/表扬 列表 上个月"], [], False),
    ])
    posts = channel_posts(uow)
    assert len(posts) == 3, posts  # one post for each kudos given, however many it praises
    assert posts[0].startswith("👏 *公开表彰* <@han> 表扬了 <@li>：拿下ACME年框")
    assert "这是 <@li> 本月收到的第 1 次表扬" in posts[0]
    assert "第 2 次" in posts[1]
    with uow() as u:
        got = [(k.giver, k.receiver, k.reason) for k in u.session.scalars(select(Kudos).order_by(Kudos.id))]
    assert got == [("han", "li", "拿下ACME年框"), ("liu", "li", "周末加班核对报价单"),
                   ("wang", "li", "华东区月度回款第一"), ("wang", "han", "华东区月度回款第一")]


def test_kudos_dialog_en(uow, clock):
    chat = Chat(uow, clock)
    _team(chat, "en")
    chat.say("li", "/teambot lang en")
    chat.say("han", "/teambot lang en")
    run_dialog(chat, [
        ("han", "/kudos to @li for closing the ACME annual deal", ["✅ Praised <@li> in the team channel: closing the ACME"]),
        ("li", "/kudos @li great job me", ["🚫 You can't give kudos to yourself"], [], False),
        ("li", "/kudos @han", ["Say what they are praised for", "Example:", "/kudos @li closed"], [], False),
        ("li", "/kudos great work everyone", ["Whom do you want to praise?"], [], False),
        ("li", "/kudos @stranger thanks", ["is not in team"], [], False),
        ("li", "/kudos list", ["*Kudos*", "1 in all", "closing the ACME annual deal"]),
        ("li", "/kudos list last month", ["No kudos in"]),
    ])
    assert channel_posts(uow)[0].startswith("👏 *Kudos* <@han> praised <@li>: closing the ACME annual deal")


def test_refused_kudos_change_nothing_and_outsiders_are_refused(uow, clock):
    chat = Chat(uow, clock)
    _team(chat)
    before = row_counts(uow)
    for user, line in (("li", "/表扬 @li 自夸"), ("li", "/表扬 @han"), ("li", "/表扬 @ghost 谢谢"),
                       ("outsider", "/表扬 @li 谢谢")):
        reply = chat.say(user, line)
        assert not reply.ok and reply.private, reply.plain()
    assert row_counts(uow) == before


def test_bare_kudos_opens_the_form_and_the_form_composes_the_typed_command(uow, clock):
    from commands.core import forms

    chat = Chat(uow, clock)
    _team(chat)
    reply = chat.say("han", "/表扬")
    assert [f.name for f in reply.parts[1].fields] == ["receiver", "reason"]
    assert "/表扬 @李雷 拿下ACME年框" in reply.plain()
    text = forms.compose("kudos", {"receiver": "U1", "reason": "拿下\nACME"})
    assert text == "/kudos <@U1> 拿下 ACME"
    with pytest.raises(forms.FieldError) as e:
        forms.compose("kudos", {"receiver": "U1", "reason": " "})
    assert e.value.field == "reason"
    assert forms.field_for_error("kudos", "kudos.self", ["receiver", "reason"]) == "receiver"


def _ctx(now: datetime | None = None) -> Ctx:
    now = now or datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    inv = Invocation(Actor("console", "wang"), "C", "honor", "", now)
    return Ctx(inv=inv, lang="zh", tz=SHANGHAI, now=now)


def test_honour_titles_and_periods_read_every_way():
    ctx = _ctx()
    for text, title, period in (
        ("@li 月度销冠 2026-11", "top_sales", "2026-11"),
        ("@li 月度销冠", "top_sales", "2026-11"),  # last month by default
        ("@li 拓客之星 上个月", "top_prospector", "2026-11"),
        ("@li Top Sales last month", "top_sales", "2026-11"),
        ("@li best teammate 2026-Q3", "best_teamwork", "2026-Q3"),
        ("@li 「最佳协作」 2026年10月", "best_teamwork", "2026-10"),
        ("李雷 年度服务之星 2025", "年度服务之星", "2025"),
    ):
        req = parse_honour(text, ctx)
        assert (req.title, req.period.label) == (title, period), text
    for text, key in (("", "honor.person_required"), ("@li", "honor.title_required"),
                      ("@li @han 月度销冠", "honor.one_person"), ("@li 月度销冠 2027-01", "honor.future_period"),
                      ("@li " + "长" * 31, "honor.title_too_long"), ("@li 月度销冠 2026-11-20", "honor.bad_period_kind")):
        with pytest.raises(UsageError) as e:
            parse_honour(text, ctx)
        assert e.value.key == key, text
    assert find_title("销冠") == "top_sales" and find_title("Prospecting Star") == "top_prospector"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_kudos_and_honour_parsers_never_crash(text):
    ctx = _ctx()
    for p in (parse, parse_honour):
        try:
            p(text, ctx)
        except UsageError:
            pass


def test_honour_dialog_confirm_post_once_and_roster(uow, clock):
    chat = Chat(uow, clock)
    _team(chat)
    run_dialog(chat, [
        ("li", "/荣誉 @han 月度销冠 2026-10", ["🚫 只有销售经理可以这样做"], [], False),
        ("wang", "/荣誉 @han 月度销冠 2026-10", ["✅ 已确认：<@han> 获得 2026年10月「月度销冠」"]),
        ("wang", "/荣誉 @han 月度销冠 2026-10", ["之前已经确认过了"]),
        ("wang", "/honor @li best teammate", ["<@li>", "「最佳协作」", "2026年10月"]),
        ("wang", "/荣誉 @ghost 月度销冠", ["<@ghost> 不在团队“华东销售一组”里", "示例"], [], False),
        ("wang", "/荣誉 @li 月度销冠 2027-01", ["还没开始"], [], False),
        ("wang", "/荣誉", ["授予谁"], [], False),
        ("li", "/团队", ["荣誉", "🏅月度销冠（2026年10月）", "🏅最佳协作（2026年10月）"]),
    ])
    posts = channel_posts(uow)
    assert len(posts) == 2 and posts[0].startswith("🏅 *荣誉称号* 恭喜 <@han> 获得 2026年10月「月度销冠」"), posts
    with uow() as u:
        assert [(h.user_id, h.title, h.period) for h in u.session.scalars(select(Honour).order_by(Honour.id))] == [
            ("han", "top_sales", "2026-10"), ("li", "best_teamwork", "2026-10")]


def test_roster_has_no_honours_column_before_the_first_honour(uow, clock):
    chat = Chat(uow, clock)
    _team(chat)
    assert "荣誉" not in chat.say("li", "/team").plain()


def test_agenda_lists_the_kudos_since_the_last_meeting(uow, clock):
    # Thursday 2026-11-26; the last meeting was Monday 2026-11-23 09:30, the next is 2026-11-30.
    chat = Chat(uow, FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)))
    _team(chat)
    chat.say("han", "/表扬 @li 上周的事")  # before the last meeting: not listed
    chat = Chat(uow, clock)
    chat.say("han", "/表扬 @li 拿下ACME年框")
    chat.say("liu", "/表扬 @han 展会物料准备得很好")
    text = chat.say("wang", "/agenda").plain()
    wins = text.split("经验分享", 1)[1]
    assert "同事表扬（2）" in wins and "👏 <@han> 表扬 <@li>：拿下ACME年框" in wins
    assert "👏 <@liu> 表扬 <@han>：展会物料准备得很好" in wins and "上周的事" not in text


def test_team_goal_met_is_announced_once_with_the_progress_that_met_it(uow, clock):
    chat = Chat(uow, clock)
    _team(chat)
    run_dialog(chat, [
        ("wang", "/goal set sales 1m 2026-11 for team", ["#1"]),
        ("wang", "/goal set visits 5 2026-11 for @li", ["#2"]),
        ("li", "/progress 签约ACME 销售额=60万 拜访=5", []),
    ])
    assert not [p for p in channel_posts(uow) if "团队激励" in p]  # 60万 of 100万; a person's goal doesn't count
    chat.say("han", "/progress 签约BETA 销售额=50万")
    posts = [p for p in channel_posts(uow) if "团队激励" in p]
    assert len(posts) == 1, posts
    assert "团队目标 #1 达成：销售额 ¥1,100,000（110万），目标 ¥1,000,000（100万）" in posts[0]
    assert "110%" in posts[0] and "<@han>" in posts[0]
    chat.say("li", "/progress 又签一单 销售额=10万")
    assert len([p for p in channel_posts(uow) if "团队激励" in p]) == 1
    with uow() as u:
        met = u.session.scalars(select(GoalMet)).all()
    assert [(m.goal_id, m.actual) for m in met] == [(1, 1_100_000.0)]


def test_a_refused_progress_claims_no_goal(uow, clock):
    """The claim is in the progress's unit of work: progress that fails leaves the goal unclaimed."""
    chat = Chat(uow, clock)
    _team(chat)
    chat.say("wang", "/goal set sales 1m 2026-11 for team")
    reply = chat.say("li", "/progress 大单 销售额=200万 拜访=1.5")
    assert not reply.ok
    with uow() as u:
        assert u.session.scalars(select(GoalMet)).all() == []
    assert not [p for p in channel_posts(uow) if "团队激励" in p]


def test_a_recurring_team_goal_is_celebrated_once_a_period(uow):
    nov = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    chat = Chat(uow, nov)
    _team(chat)
    chat.say("wang", "/goal set customers 2 monthly for team")
    chat.say("li", "/progress 两个新客户 新客户=2")
    chat = Chat(uow, FixedClock(datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)))
    chat.say("li", "/progress 一个 新客户=1")
    chat.say("han", "/progress 又一个 新客户=1")
    posts = [p for p in channel_posts(uow) if "团队激励" in p]
    assert len(posts) == 2 and "每月" in posts[1], posts


def test_monthly_summary_proposes_honours_and_its_button_confirms_one(uow, clock):
    from commands.core.reply import Actions
    from commands.core.workdays import calendar_for
    from reminders import summary_jobs
    from reminders.jobs import JobRun
    from storage.models import Team

    chat = Chat(uow, clock)
    _team(chat)
    run_dialog(chat, [
        ("li", "/progress 签约ACME 销售额=80万 新客户=1", []),
        ("han", "/progress 签约BETA 销售额=50万 新客户=3", []),
        ("li", "/表扬 @liu 沙龙办得好", []),
        ("han", "/表扬 @liu 物料准备得好", []),
        ("liu", "/表扬 @li 帮忙答疑", []),
    ])
    dec1 = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)

    def summary():
        with uow() as u:
            team = u.session.scalars(select(Team)).one()
            run = JobRun(team=team, kind="kpi_summary_monthly", slot=dec1, fire_at=dec1, now=dec1,
                         calendar=calendar_for("CN"))
            (out,) = summary_jobs.kpi_summary_monthly(u.session, run)
        return out.reply

    reply = summary()
    text = reply.plain()
    assert "🏅 荣誉称号提名* · 2026年11月" in text
    assert "• 月度销冠：<@li>（销售额 ¥800,000（80万））" in text
    assert "• 拓客之星：<@han>（新客户 3）" in text
    assert "• 最佳协作：<@liu>（收到 2 次表扬）" in text
    buttons = [b for p in reply.parts if isinstance(p, Actions) for b in p.buttons if b.action_id == "honor.confirm"]
    assert [b.command for b in buttons] == ["/honor @li 月度销冠 2026-11", "/honor @han 拓客之星 2026-11",
                                            "/honor @liu 最佳协作 2026-11"]
    assert buttons[0].label == "确认 月度销冠 · li"
    # Only the manager's click confirms; the confirmed title has no button any more.
    assert not chat.say("li", buttons[0].command).ok
    assert chat.say("wang", buttons[0].command).ok
    assert channel_posts(uow)[-1].startswith("🏅 *荣誉称号* 恭喜 <@li> 获得 2026年11月「月度销冠」")
    again = [b.command for p in summary().parts if isinstance(p, Actions) for b in p.buttons
             if b.action_id == "honor.confirm"]
    assert again == [b.command for b in buttons[1:]]


def test_the_weekly_summary_proposes_no_honours(uow, clock):
    from commands.core.workdays import calendar_for
    from reminders import summary_jobs
    from reminders.jobs import JobRun
    from storage.models import Team

    chat = Chat(uow, clock)
    _team(chat)
    chat.say("li", "/progress 签约ACME 销售额=80万")
    fri = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        run = JobRun(team=team, kind="kpi_summary_weekly", slot=fri, fire_at=fri, now=fri, calendar=calendar_for("CN"))
        (out,) = summary_jobs.kpi_summary_weekly(u.session, run)
    assert "荣誉称号提名" not in out.reply.plain()


def test_prospecting_star_counts_qualified_customers_when_the_team_keeps_them(uow, clock):
    """拓客之星 ranks by customers that reached the quality stage in the customer database; a team
    that keeps none there is ranked by the 新客户 metric (the test above)."""
    from commands.kudos import proposals
    from commands.core import parsing
    from storage.models import Customer, CustomerStageChange, Team

    chat = Chat(uow, clock)
    _team(chat)
    chat.say("li", "/progress 新客户 新客户=5")  # the metric would make li the star
    now = clock.now()
    with uow() as u:
        session = u.session
        team = session.scalars(select(Team)).one()
        for i, (owner, stage) in enumerate((("han", "qualified"), ("han", "qualified"), ("li", "contacted"),
                                            ("li", "qualified"))):
            c = Customer(team_id=team.id, name=f"客户{i}", name_key=f"客户{i}", stage=stage, owner_id=owner,
                         created_by=owner, created_at=now, stage_changed_at=now, active_at=now, updated_at=now)
            session.add(c)
            session.flush()
            session.add(CustomerStageChange(customer_id=c.id, team_id=team.id, from_stage="lead", to_stage=stage,
                                      owner_id=owner, by=owner, at=now))
        session.flush()
        month = parsing.period_of("month", now, SHANGHAI)
        star = [p for p in proposals(session, team, month, "zh") if p.title == "top_prospector"]
    assert [[m.user_id for m in p.members] for p in star] == [["han"]]
    assert star[0].shown.endswith(" 2") and star[0].shown != "新客户 2"


def test_a_team_goal_of_won_customers_is_announced_when_a_stage_change_meets_it(uow, clock):
    """Goals of the KPIs counted from the customer records (赢单, 高质量客户) are heard the same way."""
    chat = Chat(uow, clock)
    _team(chat)
    run_dialog(chat, [
        ("wang", "/goal set won 2 2026-11 for team", ["#1"]),
        ("li", "/customer add 杭州云帆科技", []),
        ("li", "/customer add 苏州明远贸易", []),
        ("li", "/customer stage 1 won amount=50万", []),
    ])
    assert not [p for p in channel_posts(uow) if "团队激励" in p]
    chat.say("li", "/customer stage 2 won amount=30万")
    posts = [p for p in channel_posts(uow) if "团队激励" in p]
    assert len(posts) == 1 and "团队目标 #1 达成" in posts[0], posts
