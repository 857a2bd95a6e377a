"""Working-day calendars (CN with 调休, other countries, none) and quiet hours."""
from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from commands.core.workdays import ChinaCalendar, QuietHours, calendar_for, validate_calendar

D = date.fromisoformat
SH = ZoneInfo("Asia/Shanghai")


def test_cn_national_day_2026_and_make_up_days():
    cn = calendar_for("CN")
    # Oct 1-7 off, including the weekdays.
    assert not any(cn.is_workday(D(f"2026-10-0{d}")) for d in range(1, 8))
    # 调休: Sunday Sep 20 and Saturday Oct 10 are working days.
    assert D("2026-09-20").weekday() == 6 and cn.is_workday(D("2026-09-20"))
    assert D("2026-10-10").weekday() == 5 and cn.is_workday(D("2026-10-10"))
    # An ordinary weekend is off; an ordinary weekday is on.
    assert not cn.is_workday(D("2026-10-11")) and not cn.is_workday(D("2026-10-17"))
    assert cn.is_workday(D("2026-10-08")) and cn.is_workday(D("2026-10-12"))


def test_cn_next_previous_and_between():
    cn = calendar_for("cn")  # codes are case-insensitive
    assert cn.next_workday(D("2026-10-01")) == D("2026-10-08")
    assert cn.next_workday(D("2026-09-30")) == D("2026-09-30")
    assert cn.next_workday(D("2026-09-30"), inclusive=False) == D("2026-10-08")
    assert cn.previous_workday(D("2026-10-08")) == D("2026-09-30")
    assert cn.previous_workday(D("2026-10-12")) == D("2026-10-10")  # the make-up Saturday
    assert cn.previous_workday(D("2026-10-10"), inclusive=True) == D("2026-10-10")
    # (Sep 30, Oct 12]: Oct 8, 9, 10 (Sat, 调休), 12.
    assert cn.workdays_between(D("2026-09-30"), D("2026-10-12")) == 4
    assert cn.workdays_between(D("2026-10-12"), D("2026-09-30")) == 0
    assert cn.workdays_between(D("2026-10-08"), D("2026-10-08")) == 0


def test_cn_beyond_chinese_calendar_data_falls_back_and_warns_once(caplog):
    cn = ChinaCalendar()  # its own, not the shared one: another test may have asked about 2030 already
    with caplog.at_level(logging.WARNING, logger="teambot.workdays"):
        # 2030 is beyond chinese_calendar 1.11's data: holidays package + weekends.
        assert not cn.is_workday(D("2030-10-01"))  # National Day
        assert not cn.is_workday(D("2030-01-01"))  # New Year
        assert not cn.is_workday(D("2030-03-02"))  # Saturday
        assert cn.is_workday(D("2030-03-04"))  # Monday
    warnings = [r for r in caplog.records if "2030" in r.getMessage()]
    assert len(warnings) == 1


def test_country_calendars_from_holidays_package():
    us = calendar_for("US")
    assert not us.is_workday(D("2026-11-26"))  # Thanksgiving
    assert not us.is_workday(D("2026-07-03"))  # Independence Day observed (Jul 4 is a Saturday)
    assert not us.is_workday(D("2026-11-28"))  # Saturday
    assert us.is_workday(D("2026-11-27"))
    assert us.next_workday(D("2026-11-26")) == D("2026-11-27")
    gb = calendar_for("GB")
    assert not gb.is_workday(D("2026-12-25")) and not gb.is_workday(D("2026-12-28"))  # Boxing Day observed
    # A subdivision: Cesar Chavez Day is a California state holiday, not a federal one.
    assert not calendar_for("US-CA").is_workday(D("2026-03-31"))
    assert calendar_for("US").is_workday(D("2026-03-31"))


def test_country_weekend_follows_the_country():
    il = calendar_for("IL")  # Friday/Saturday weekend
    assert not il.is_workday(D("2026-11-27"))  # Friday
    assert il.is_workday(D("2026-11-29"))  # Sunday


def test_none_calendar_every_day_works():
    none = calendar_for("none")
    assert all(none.is_workday(D(f"2026-10-0{d}")) for d in range(1, 8))
    assert none.workdays_between(D("2026-10-01"), D("2026-10-08")) == 7


@pytest.mark.parametrize("code", ["XX", "", "China", "US-ZZ"])
def test_unknown_calendar_is_a_helpful_error(code):
    with pytest.raises(ValueError) as e:
        calendar_for(code)
    msg = str(e.value)
    assert "CN" in msg or "subdivision" in msg


def test_validate_calendar_normalises():
    assert validate_calendar("cn") == "CN"
    assert validate_calendar("None") == "none"
    assert validate_calendar("us") == "US"


def test_quiet_hours_move_to_their_end():
    q = QuietHours()  # 21:00-08:00
    late = datetime(2026, 10, 9, 22, 30, tzinfo=SH)
    early = datetime(2026, 10, 10, 7, 0, tzinfo=SH)
    day = datetime(2026, 10, 9, 9, 0, tzinfo=SH)
    assert q.release(late, SH) == datetime(2026, 10, 10, 8, 0, tzinfo=SH)
    assert q.release(early, SH) == datetime(2026, 10, 10, 8, 0, tzinfo=SH)
    assert q.release(day, SH) == day
    assert q.release(datetime(2026, 10, 9, 21, 0, tzinfo=SH), SH) == datetime(2026, 10, 10, 8, 0, tzinfo=SH)
    assert q.release(datetime(2026, 10, 10, 8, 0, tzinfo=SH), SH) == datetime(2026, 10, 10, 8, 0, tzinfo=SH)
    lunch = QuietHours(time(12, 0), time(13, 30))
    assert lunch.release(datetime(2026, 10, 9, 12, 10, tzinfo=SH), SH) == datetime(2026, 10, 9, 13, 30,
                                                                                      tzinfo=SH)
    assert QuietHours.parse("off") is None
    assert QuietHours.parse("22:00-07:30") == QuietHours(time(22), time(7, 30))
    with pytest.raises(ValueError):
        QuietHours.parse("late")
