from __future__ import annotations

from sqlalchemy import select

from storage.models import Member, Metric, Team
from tests.kit.dialog import Chat, row_counts, run_dialog


def test_setup_binds_channel_makes_caller_manager_and_seeds_metrics(uow, clock):
    chat = Chat(uow, clock)
    reply = chat.say("wang", "/team setup 华东销售一组")
    assert reply.ok and not reply.private, reply.plain()
    assert "华东销售一组" in reply.plain() and "<@wang>" in reply.plain()
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        assert (team.name, team.tz, team.calendar, team.lang) == ("华东销售一组", "Asia/Shanghai", "CN", "zh")
        member = u.session.scalars(select(Member)).one()
        assert (member.user_id, member.role) == ("wang", "manager")
        codes = {m.code for m in u.session.scalars(select(Metric).where(Metric.team_id == team.id))}
    assert codes == {"sales", "customers", "csat", "event_participants", "visits",
                     "qualified", "followups", "won", "won_amount"}  # the last four computed from the customers


def test_setup_options_and_english_team(uow, clock):
    chat = Chat(uow, clock, locales={"amy": "en-US"})
    reply = chat.say("amy", "/team setup West Coast tz=America/Los_Angeles calendar=US lang=en")
    assert reply.ok, reply.plain()
    assert "Team *West Coast* is set up" in reply.plain()
    assert "America/Los_Angeles" in reply.plain()


def test_team_dialog_zh(uow, clock):
    chat = Chat(uow, clock)
    run_dialog(chat, [
        ("wang", "/team setup 华东销售一组 tz=Asia/Shanghai calendar=CN", ["已创建团队", "Asia/Shanghai"]),
        ("wang", "/team setup 又一个", ["本频道已绑定团队“华东销售一组”"], [], False),
        ("wang", "/team add @li rep", ["已把 <@li> 加入", "销售代表", "执行销售计划"]),
        ("wang", "/团队 添加 @chen 客户经理", ["<@chen>", "客户经理"]),
        ("wang", "/team add @li rep", ["已经是团队成员"]),
        ("wang", "/team add @li marketing", ["角色已改为 市场部"]),
        ("li", "/team add @zhao rep", ["只有销售经理可以这样做"], ["已把"], False),
        ("wang", "/team add @zhao boss", ["不认识的角色“boss”", "正确示例"], [], False),
        ("wang", "/team add rep", ["请 @ 提及一位成员"], [], False),
        ("wang", "/team add @zhao", ["请写上角色"], [], False),
        ("wang", "/team", ["华东销售一组", "3 位成员", "销售经理", "制定销售策略", "主要沟通对象"]),
        ("wang", "/team remove @chen", ["已把 <@chen> 移出"]),
        ("wang", "/team remove @chen", ["不是团队“华东销售一组”的成员"], [], False),
        ("wang", "/team remove @wang", ["唯一的销售经理"], [], False),
        ("wang", "/team frobnicate", ["不认识“frobnicate”"], [], False),
    ])


def test_team_dialog_en(uow, clock):
    chat = Chat(uow, clock)
    run_dialog(chat, [
        ("amy", "/team setup Bay Area calendar=none lang=en", ["Team *Bay Area* is set up"]),
        ("amy", "/team add @bob rep", ["Added <@bob> to *Bay Area* as Sales rep"]),
        ("bob", "/team remove @amy", ["Only the sales manager can do that."], [], False),
        ("amy", "/team add @bob sales manager", ["<@bob> is now Sales manager"]),
        ("amy", "/team add @carol wizard", ["Unknown role “wizard”", "Example:"], [], False),
        ("bob", "/team", ["Bay Area", "2 members", "Mainly talks to"]),
        ("amy", "/team setup Other tz=Europe/Berlin", ["already belongs to team"], [], False),
    ])


def test_bad_setup_options_are_refused_in_callers_language(uow, clock):
    chat = Chat(uow, clock, locales={"amy": "en-US"})
    run_dialog(chat, [
        ("amy", "/team setup X tz=Mars/Olympus", ["“Mars/Olympus” is not a time zone", "Example:"], [], False),
        ("amy", "/team setup X calendar=XX", ["“XX” is not a supported calendar"], [], False),
        ("amy", "/team setup X colour=blue", ["Unknown option “colour”"], [], False),
        ("amy", "/team setup", ["Give the team a name."], [], False),
        ("zhang", "/team setup X tz=Mars/Olympus", ["不是有效的时区", "正确示例"], [], False),
    ])
    assert row_counts(uow)["team"] == 0


def test_setup_in_a_direct_message_is_refused(uow, clock):
    chat = Chat(uow, clock)
    reply = chat.say("wang", "/team setup 私聊团队", direct=True, channel="D1")
    assert not reply.ok and "私聊" in reply.plain()


def test_refused_commands_write_nothing(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/team add @li rep")
    before = row_counts(uow)
    for user, text in [("li", "/team add @x rep"), ("li", "/team remove @wang"), ("wang", "/team add @x ceo"),
                       ("wang", "/team remove @wang"), ("nobody", "/team add @y rep")]:
        assert not chat.say(user, text).ok
    assert row_counts(uow) == before


def test_a_person_in_two_teams(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 一组", channel="C1")
    chat.say("zhou", "/team setup 二组", channel="C2")
    assert chat.say("wang", "/team add @li rep", channel="C1").ok
    assert chat.say("zhou", "/team add @li account_manager", channel="C2").ok
    assert "销售代表" in chat.say("li", "/team", channel="C1").plain()
    assert "客户经理" in chat.say("li", "/team", channel="C2").plain()
    # zhou manages 二组 only
    assert not chat.say("zhou", "/team add @x rep", channel="C1").ok


def test_group_robot_is_set_by_the_manager_and_never_echoed(uow, clock):
    from storage.models import TeamRobot
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/team add @li rep")
    hook = "https://oapi.dingtalk.com/robot/send?access_token=tok123"
    run_dialog(chat, [
        ("li", f"/team robot {hook} SECabc", ["只有销售经理"], [], False),
        ("wang", f"/team robot {hook}", ["加签"], [], False),
        ("wang", "/team robot https://evil.example/x?access_token=1 SECx", ["不是钉钉或企业微信"], [], False),
        ("wang", f"/team robot {hook} SECabc", ["已为 *华东销售一组* 设置群机器人"], ["tok123", "SECabc"]),
    ])
    with uow() as u:
        robot = u.session.scalars(select(TeamRobot)).one()
        assert (robot.webhook, robot.secret, robot.set_by) == (hook, "SECabc", "wang")
    run_dialog(chat, [("wang", "/team robot https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1",
                       ["设置群机器人"])])
    with uow() as u:
        robot = u.session.scalars(select(TeamRobot)).one()
        assert robot.secret is None and robot.webhook.endswith("key=k1")
    run_dialog(chat, [("wang", "/team robot off", ["已删除"])])
    assert row_counts(uow)["team_robot"] == 0


def test_wecom_team_is_set_up_from_a_direct_message(uow, clock):
    chat = Chat(uow, clock, platform="wecom")
    reply = chat.say("wang", "/team setup 华东销售一组", direct=True, channel="wang")
    assert reply.ok, reply.plain()
    assert chat.say("wang", "/team add <@li|李雷> rep", direct=True, channel="wang").ok
    # li's DM reaches the team: it is his only one.
    assert chat.say("li", "/progress 拜访客户 visits=1", direct=True, channel="li").ok
