"""One rule for the language and time zone a reply, a DM or a job writes to someone in: their own
choice, else the team's; a zone that is no zone falls back the same way everywhere."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from commands.core.people import recipient_prefs, zone
from tests.reminders.helpers import add_team, set_pref

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def test_own_choice_else_the_teams(sqlite_uow):
    with sqlite_uow() as uow:
        session = uow.session
        team = add_team(session, tz="Asia/Shanghai", lang="zh")
        set_pref(session, "amy", lang="en", tz="Europe/Berlin")
        set_pref(session, "li", tz="Not/AZone")            # a zone that is none: the team's
        set_pref(session, "away", away_until=datetime(2026, 12, 1, tzinfo=UTC))
        set_pref(session, "amy", platform="dingtalk", lang="zh", tz="Asia/Tokyo")  # another platform's person
        prefs = recipient_prefs(session, team, ["amy", "li", "away", "nobody"])
        assert (prefs.lang("amy"), prefs.tz("amy")) == ("en", ZoneInfo("Europe/Berlin"))
        assert (prefs.lang("li"), prefs.tz("li")) == ("zh", ZoneInfo("Asia/Shanghai"))
        assert (prefs.lang("nobody"), prefs.tz("nobody")) == ("zh", ZoneInfo("Asia/Shanghai"))
        assert prefs.away("away", NOW) and not prefs.away("amy", NOW)
        assert not prefs.away("away", datetime(2026, 12, 2, tzinfo=UTC))
        english = add_team(session, channel="C2", tz="America/New_York", lang="en")
        other = recipient_prefs(session, english, ["li"])
        assert (other.lang("li"), other.tz("li")) == ("en", ZoneInfo("America/New_York"))


def test_zone_falls_back_for_every_kind_of_bad_name():
    fallback = ZoneInfo("Asia/Shanghai")
    for bad in (None, "", "Not/AZone", "../../etc/passwd", "/abs", "Asia/Shanghai\x00"):
        assert zone(bad, fallback) == fallback, bad
    assert zone("Europe/Berlin", fallback) == ZoneInfo("Europe/Berlin")
