from __future__ import annotations

import logging

from commands.core import router
from tests.kit.dialog import Chat, row_counts


def test_unknown_command_gets_private_help_in_callers_language(uow, clock):
    chat = Chat(uow, clock, locales={"amy": "en-GB"})
    reply = chat.say("amy", "/frobnicate now")
    assert not reply.ok and reply.private
    assert "I don't know the command “frobnicate”" in reply.plain()
    assert "/teambot help" in reply.plain()
    reply = chat.say("wang", "/乱码 内容")
    assert "我不认识命令“乱码”" in reply.plain()


def test_a_crash_answers_politely_and_rolls_back(uow, clock, monkeypatch, caplog):
    route = router.Route("broken", "tests.commands.broken_feature", ("broken",))
    monkeypatch.setitem(router._BY_ALIAS, "broken", route)
    chat = Chat(uow, clock)
    before = row_counts(uow)
    with caplog.at_level(logging.ERROR, logger="teambot.dispatch"):
        reply = chat.say("wang", "/broken anything")
    text = reply.plain()
    assert not reply.ok and reply.private
    assert "什么都没有改动" in text
    assert "boom" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert row_counts(uow) == before
    # The operator gets the traceback with the incident code the user saw.
    incident = text.split("编号 ")[1].split(" ")[0]
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_crash_logs_ids_and_the_command_never_what_was_typed_unless_debugging(uow, clock, monkeypatch, caplog):
    route = router.Route("broken", "tests.commands.broken_feature", ("broken",))
    monkeypatch.setitem(router._BY_ALIAS, "broken", route)
    chat = Chat(uow, clock)
    with caplog.at_level(logging.INFO, logger="teambot.dispatch"):
        chat.say("wang", "/broken 客户张总 13800000000")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "command=broken" in record.getMessage() and "user=wang" in record.getMessage()
    assert not any("13800000000" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="teambot.dispatch"):
        chat.say("wang", "/broken 客户张总 13800000000")
    assert any("13800000000" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_a_retried_delivery_is_answered_once_and_written_once(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    first = chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-1")
    again = chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-1")
    assert first.ok and again.plain() == first.plain()
    assert row_counts(uow)["progress_entry"] == 1
    assert chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-2").ok
    assert row_counts(uow)["progress_entry"] == 2


def test_a_retry_that_would_now_be_refused_still_gets_the_first_answer(uow, clock):
    # Run again, the setup would be refused: the channel has its team since the first delivery.
    chat = Chat(uow, clock)
    first = chat.say("wang", "/team setup 华东销售一组", delivery_key="trigger-9")
    again = chat.say("wang", "/team setup 华东销售一组", delivery_key="trigger-9")
    assert first.ok and again.ok and again.plain() == first.plain()
    fresh = chat.say("wang", "/team setup 华东销售一组", delivery_key="trigger-10")
    assert not fresh.ok and fresh.plain() != first.plain()
    assert row_counts(uow)["team"] == 1


def test_context_loads_team_and_member_objects_only_when_asked(uow, clock):
    from commands.core.context import Actor, Invocation
    from commands.core.dispatch import Dispatcher
    from storage.models import Team

    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    dispatcher = Dispatcher(uow, clock)
    inv = Invocation(actor=Actor(platform="console", user_id="wang"), channel=chat.channel, command="progress",
                     text="x", received_at=clock.now())
    loads = []
    with uow() as u:
        ctx = dispatcher.context(u, inv)
        real = ctx.load
        ctx.load = lambda model, key: loads.append(model) or real(model, key)
        assert ctx.team_id is not None and ctx.member_id is not None and ctx.role == "manager"
        assert loads == []
        assert isinstance(ctx.team, Team) and ctx.team.name == "华东销售一组" and ctx.member.role == "manager"
        assert loads == [Team, type(ctx.member)]
        ctx.team  # loaded once
        assert len(loads) == 2


def test_full_width_input_is_understood(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "／team setup 华东销售一组")
    assert chat.say("wang", "/progress 签约 销售额＝５万　新客户：１").ok


def test_a_refused_or_failed_delivery_is_answered_once_too(uow, clock, monkeypatch):
    monkeypatch.setitem(router._BY_ALIAS, "broken", router.Route("broken", "tests.commands.broken_feature",
                                                                 ("broken",)))
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    refused = chat.say("li", "/team add @zhao rep", delivery_key="msg-refused")
    crashed = chat.say("wang", "/broken x", delivery_key="msg-crashed")
    assert not refused.ok and not crashed.ok
    # The adapters ask before running a delivery again: both were answered.
    assert chat.dispatcher.already_answered("console", "msg-refused")
    assert chat.dispatcher.already_answered("console", "msg-crashed")
    assert not chat.dispatcher.already_answered("console", "msg-other")
    # Run again all the same (two replicas at once), a delivery gets its first answer, and nothing
    # more is written: li made a manager meanwhile does not turn the refusal into a change.
    assert chat.say("wang", "/team add @li manager").ok
    before = row_counts(uow)
    again = chat.say("li", "/team add @zhao rep", delivery_key="msg-refused")
    assert again.plain() == refused.plain() and not again.ok
    assert chat.say("wang", "/broken x", delivery_key="msg-crashed").plain() == crashed.plain()
    assert row_counts(uow) == before
