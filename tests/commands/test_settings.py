from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from storage.models import UserPref
from tests.kit.dialog import Chat, run_dialog


def test_help_lists_every_command_in_both_languages(uow, clock):
    chat = Chat(uow, clock)
    zh = chat.say("wang", "/teambot help").plain()
    assert "teambot 命令" in zh and "/team 创建" in zh and "/progress" in zh
    chat.say("wang", "/teambot lang en")
    en = chat.say("wang", "/help").plain()
    assert "teambot commands" in en and "/progress signed ACME" in en


def test_users_own_language_wins_over_team_language(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/team add @amy rep")
    assert "已记录进展" in chat.say("amy", "/progress a visits=1").plain()
    run_dialog(chat, [
        ("amy", "/teambot lang en", ["I'll answer you in English"]),
        ("amy", "/progress b visits=1", ["Progress logged"]),
        ("wang", "/progress c visits=1", ["已记录进展"]),
        ("amy", "/teambot 语言 中文", ["以后我用中文回复你"]),
        ("amy", "/teambot lang fr", ["不支持的语言“fr”"], [], False),
    ])


def test_time_zone_and_away(uow, clock):
    chat = Chat(uow, clock)
    run_dialog(chat, [
        ("amy", "/teambot lang en", []),
        ("amy", "/teambot tz America/New_York", ["America/New_York", "21:00"]),
        ("amy", "/teambot tz Nowhere/City", ["not a time zone"], [], False),
        ("amy", "/teambot away until Dec 10", ["away until Thu 2026-12-10 (inclusive)"]),
    ])
    with uow() as u:
        pref = u.session.get(UserPref, ("console", "amy"))
        # Back on the morning after the last away day, in her own time zone.
        assert pref.away_until == datetime(2026, 12, 11, tzinfo=ZoneInfo("America/New_York"))
    run_dialog(chat, [
        ("amy", "/teambot away off", ["Welcome back"]),
        ("amy", "/teambot away until yesterday", [], [], False),
    ])
    with uow() as u:
        assert u.session.get(UserPref, ("console", "amy")).away_until is None


def test_export_through_teambot_command(uow, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("TEAMBOT_EXPORT_DIR", str(tmp_path))
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/progress 签约ACME，很顺利 销售额=50万")
    reply = chat.say("wang", "/teambot 导出 进展 本周")
    assert reply.ok and reply.private, reply.plain()
    from commands.core.reply import File
    file = next(p for p in reply.parts if isinstance(p, File))
    data = open(file.path, "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "签约ACME，很顺利" in data.decode("utf-8-sig")
    bad = chat.say("wang", "/teambot export salaries")
    assert not bad.ok and "salaries" in bad.plain()
