from __future__ import annotations

import logging

from commands import router
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


def test_a_retried_delivery_is_answered_once_and_written_once(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    first = chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-1")
    again = chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-1")
    assert first.ok and again.plain() == first.plain()
    assert row_counts(uow)["progress_entry"] == 1
    assert chat.say("wang", "/progress 签约 sales=10k", delivery_key="trigger-2").ok
    assert row_counts(uow)["progress_entry"] == 2


def test_full_width_input_is_understood(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "／team setup 华东销售一组")
    assert chat.say("wang", "/progress 签约 销售额＝５万　新客户：１").ok
