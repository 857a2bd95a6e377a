"""Tables for commands/core/parsing/ and commands/core/fmt.py: every documented form, in zh and en, with exact results."""
from __future__ import annotations

import string
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from commands.core import fmt
from commands.core.errors import UsageError
from commands.core.parsing import (
    Amount,
    Mention,
    Period,
    parse_amount,
    parse_due,
    parse_mention,
    parse_period,
    period_of,
    previous,
    split_pairs,
    take_mentions,
)
from commands.i18n import t

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
#: Thursday 2026-11-26 10:00 in Shanghai. This week: Mon 11-23 .. Sun 11-29; next week Mon 11-30 .. Sun 12-06.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SH)


def sh(y, mo, d, h=18, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def usage_error(fn, *args, **kw) -> UsageError:
    with pytest.raises(UsageError) as info:
        fn(*args, **kw)
    return info.value


# --------------------------------------------------------------------------------------------------
# parse_due
# --------------------------------------------------------------------------------------------------

DUE_EN = [
    # ISO
    ("2026-12-05", sh(2026, 12, 5)),
    ("2026-12-05 17:00", sh(2026, 12, 5, 17)),
    ("2026-12-05T17:00", sh(2026, 12, 5, 17)),
    ("2026/12/05", sh(2026, 12, 5)),
    ("2026.12.05", sh(2026, 12, 5)),
    ("12-05", sh(2026, 12, 5)),
    ("12/05", sh(2026, 12, 5)),
    ("12/5 5pm", sh(2026, 12, 5, 17)),
    # words
    ("today", sh(2026, 11, 26)),
    ("TODAY", sh(2026, 11, 26)),
    ("  Today  ", sh(2026, 11, 26)),
    ("eod", sh(2026, 11, 26)),
    ("tonight", sh(2026, 11, 26, 20)),
    ("tonight 9pm", sh(2026, 11, 26, 21)),
    ("tomorrow", sh(2026, 11, 27)),
    ("tmr", sh(2026, 11, 27)),
    ("day after tomorrow", sh(2026, 11, 28)),
    ("the day after tomorrow", sh(2026, 11, 28)),
    # weekdays
    ("next friday", sh(2026, 12, 4)),
    ("Next Friday", sh(2026, 12, 4)),
    ("this friday", sh(2026, 11, 27)),
    ("friday", sh(2026, 11, 27)),
    ("fri", sh(2026, 11, 27)),
    ("friday next week", sh(2026, 12, 4)),
    ("next monday", sh(2026, 11, 30)),
    ("monday", sh(2026, 11, 30)),
    ("thursday", sh(2026, 11, 26)),          # today, 18:00 is still ahead
    ("thursday 9am", sh(2026, 12, 3, 9)),    # today 09:00 has passed -> next Thursday
    ("next thursday", sh(2026, 12, 3)),
    ("by friday", sh(2026, 11, 27)),
    # relative
    ("in 3 days", sh(2026, 11, 29)),
    ("in 1 day", sh(2026, 11, 27)),
    ("in a week", sh(2026, 12, 3)),
    ("in 2 weeks", sh(2026, 12, 10)),
    ("in three days", sh(2026, 11, 29)),
    ("in 3 days 9am", sh(2026, 11, 29, 9)),
    ("in 2 months", sh(2027, 1, 26)),
    ("in 1 hour", sh(2026, 11, 26, 11)),
    ("in 2 hours", sh(2026, 11, 26, 12)),
    ("in 30 minutes", sh(2026, 11, 26, 10, 30)),
    ("in half an hour", sh(2026, 11, 26, 10, 30)),
    # month names
    ("Dec 5", sh(2026, 12, 5)),
    ("dec. 5", sh(2026, 12, 5)),
    ("Dec 5 5pm", sh(2026, 12, 5, 17)),
    ("Dec 5, 5pm", sh(2026, 12, 5, 17)),
    ("5 Dec", sh(2026, 12, 5)),
    ("5th of December", sh(2026, 12, 5)),
    ("December 5th", sh(2026, 12, 5)),
    ("Dec 5 17:30", sh(2026, 12, 5, 17, 30)),
    ("Dec 5 2027", sh(2027, 12, 5)),
    ("Dec 5, 2027 9am", sh(2027, 12, 5, 9)),
    # ends
    ("end of month", sh(2026, 11, 30)),
    ("end of the month", sh(2026, 11, 30)),
    ("eom", sh(2026, 11, 30)),
    ("end of next month", sh(2026, 12, 31)),
    ("end of week", sh(2026, 11, 27)),
    ("eow", sh(2026, 11, 27)),
    ("end of next week", sh(2026, 12, 4)),
    ("end of year", sh(2026, 12, 31)),
    # times alone = today
    ("5pm", sh(2026, 11, 26, 17)),
    ("5 PM", sh(2026, 11, 26, 17)),
    ("5:30pm", sh(2026, 11, 26, 17, 30)),
    ("17:00", sh(2026, 11, 26, 17)),
    ("noon", sh(2026, 11, 26, 12)),
    ("12pm", sh(2026, 11, 26, 12)),
    ("11am", sh(2026, 11, 26, 11)),
    ("at 5pm", sh(2026, 11, 26, 17)),
    # date + time, either order
    ("tomorrow 9am", sh(2026, 11, 27, 9)),
    ("tomorrow at 9am", sh(2026, 11, 27, 9)),
    ("tomorrow 12am", sh(2026, 11, 27, 0)),
    ("tomorrow noon", sh(2026, 11, 27, 12)),
    ("tomorrow 17:30", sh(2026, 11, 27, 17, 30)),
    ("next friday 3pm", sh(2026, 12, 4, 15)),
    ("next friday at 3:15pm", sh(2026, 12, 4, 15, 15)),
    ("5pm tomorrow", sh(2026, 11, 27, 17)),
    ("at 3pm next friday", sh(2026, 12, 4, 15)),
]

DUE_ZH = [
    ("今天", sh(2026, 11, 26)),
    ("明天", sh(2026, 11, 27)),
    ("后天", sh(2026, 11, 28)),
    ("大后天", sh(2026, 11, 29)),
    ("今晚", sh(2026, 11, 26, 20)),
    ("今晚8点", sh(2026, 11, 26, 20)),
    ("明晚", sh(2026, 11, 27, 20)),
    # weekdays
    ("下周五", sh(2026, 12, 4)),
    ("下星期五", sh(2026, 12, 4)),
    ("下礼拜五", sh(2026, 12, 4)),
    ("下个星期五", sh(2026, 12, 4)),
    ("下周一", sh(2026, 11, 30)),
    ("下周日", sh(2026, 12, 6)),
    ("下下周五", sh(2026, 12, 11)),
    ("本周五", sh(2026, 11, 27)),
    ("这周五", sh(2026, 11, 27)),
    ("这个星期五", sh(2026, 11, 27)),
    ("周五", sh(2026, 11, 27)),
    ("星期五", sh(2026, 11, 27)),
    ("礼拜五", sh(2026, 11, 27)),
    ("周日", sh(2026, 11, 29)),
    ("星期天", sh(2026, 11, 29)),
    ("周四", sh(2026, 11, 26)),
    ("周四上午9点", sh(2026, 12, 3, 9)),
    ("周五前", sh(2026, 11, 27)),
    # month/day
    ("12月15日", sh(2026, 12, 15)),
    ("12月15号", sh(2026, 12, 15)),
    ("12月15", sh(2026, 12, 15)),
    ("12月15日前", sh(2026, 12, 15)),
    ("12月15日之前", sh(2026, 12, 15)),
    ("十二月十五日", sh(2026, 12, 15)),
    ("2026年12月5日", sh(2026, 12, 5)),
    ("2026年12月5号", sh(2026, 12, 5)),
    ("2027年1月5日", sh(2027, 1, 5)),
    ("明年1月5日", sh(2027, 1, 5)),
    ("30号", sh(2026, 11, 30)),
    ("下个月5号", sh(2026, 12, 5)),
    # relative
    ("3天后", sh(2026, 11, 29)),
    ("三天后", sh(2026, 11, 29)),
    ("两天后", sh(2026, 11, 28)),
    ("十天后", sh(2026, 12, 6)),
    ("二十天后", sh(2026, 12, 16)),
    ("3天内", sh(2026, 11, 29)),
    ("两周后", sh(2026, 12, 10)),
    ("1周后", sh(2026, 12, 3)),
    ("一周后", sh(2026, 12, 3)),
    ("2个星期后", sh(2026, 12, 10)),
    ("一个月后", sh(2026, 12, 26)),
    ("2小时后", sh(2026, 11, 26, 12)),
    ("两个小时后", sh(2026, 11, 26, 12)),
    ("30分钟后", sh(2026, 11, 26, 10, 30)),
    ("半小时后", sh(2026, 11, 26, 10, 30)),
    ("3天后下午3点", sh(2026, 11, 29, 15)),
    # ends
    ("月底", sh(2026, 11, 30)),
    ("本月底", sh(2026, 11, 30)),
    ("月底前", sh(2026, 11, 30)),
    ("下月底", sh(2026, 12, 31)),
    ("下个月底", sh(2026, 12, 31)),
    ("年底", sh(2026, 12, 31)),
    # times alone = today
    ("下午3点", sh(2026, 11, 26, 15)),
    ("下午3点半", sh(2026, 11, 26, 15, 30)),
    ("下午3点15分", sh(2026, 11, 26, 15, 15)),
    ("下午3点一刻", sh(2026, 11, 26, 15, 15)),
    ("下午三点", sh(2026, 11, 26, 15)),
    ("下午 3点", sh(2026, 11, 26, 15)),
    ("下午3:30", sh(2026, 11, 26, 15, 30)),
    ("上午11点", sh(2026, 11, 26, 11)),
    ("晚上8点", sh(2026, 11, 26, 20)),
    ("晚上八点", sh(2026, 11, 26, 20)),
    ("15点", sh(2026, 11, 26, 15)),
    ("十一点", sh(2026, 11, 26, 11)),
    ("十点半", sh(2026, 11, 26, 10, 30)),
    ("15:30", sh(2026, 11, 26, 15, 30)),
    ("１５：３０", sh(2026, 11, 26, 15, 30)),  # full-width digits and colon
    ("中午", sh(2026, 11, 26, 12)),
    ("中午12点", sh(2026, 11, 26, 12)),
    ("中午1点", sh(2026, 11, 26, 13)),
    # combined, with or without a space
    ("明天下午3点", sh(2026, 11, 27, 15)),
    ("明天 下午3点", sh(2026, 11, 27, 15)),
    ("明天下午3点前", sh(2026, 11, 27, 15)),
    ("明天上午10点", sh(2026, 11, 27, 10)),
    ("明天15点", sh(2026, 11, 27, 15)),
    ("明天15:30", sh(2026, 11, 27, 15, 30)),
    ("明天中午", sh(2026, 11, 27, 12)),
    ("明天凌晨3点", sh(2026, 11, 27, 3)),
    ("下周五上午10点", sh(2026, 12, 4, 10)),
    ("下周五 上午10点", sh(2026, 12, 4, 10)),
    ("周五十点", sh(2026, 11, 27, 10)),
    ("12月15日下午3点", sh(2026, 12, 15, 15)),
    ("12月15日 下午3点", sh(2026, 12, 15, 15)),
    ("12月15日15:00", sh(2026, 12, 15, 15)),
    ("2026年12月5日下午3点", sh(2026, 12, 5, 15)),
]


@pytest.mark.parametrize(("text", "expected"), DUE_EN + DUE_ZH, ids=[c[0] for c in DUE_EN + DUE_ZH])
def test_parse_due_table(text, expected):
    got = parse_due(text, NOW, SH)
    assert got == expected
    assert got.tzinfo is not None
    assert got.utcoffset() == expected.utcoffset()
    assert got.tzinfo.key == "Asia/Shanghai"


# The spec's '10月15日' forms, seen from early September.
SEP = datetime(2026, 9, 1, 10, 0, tzinfo=SH)


@pytest.mark.parametrize("text", ["10月15日", "10月15号", "10月15日前", "10月15日之前", "十月十五日", "Oct 15", "10-15"])
def test_parse_due_october_15(text):
    assert parse_due(text, SEP, SH) == sh(2026, 10, 15)


def test_parse_due_october_15_with_time():
    assert parse_due("10月15日下午3点", SEP, SH) == sh(2026, 10, 15, 15)
    assert parse_due("10月15日 下午3点", SEP, SH) == sh(2026, 10, 15, 15)


def test_now_in_another_zone_is_converted_first():
    now_utc = NOW.astimezone(UTC)  # 02:00 UTC
    assert parse_due("tomorrow", now_utc, SH) == sh(2026, 11, 27)
    assert parse_due("5pm", now_utc, SH) == sh(2026, 11, 26, 17)
    # 23:30 UTC on the 25th is already the 26th in Shanghai.
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert parse_due("today", late, SH) == sh(2026, 11, 26)


def test_default_time():
    assert parse_due("tomorrow", NOW, SH, default_time=time(9, 0)) == sh(2026, 11, 27, 9)
    assert parse_due("下周五", NOW, SH, default_time=time(9, 30)) == sh(2026, 12, 4, 9, 30)
    # An explicit time wins over the default; 'tonight' has its own default.
    assert parse_due("tomorrow 3pm", NOW, SH, default_time=time(9, 0)) == sh(2026, 11, 27, 15)
    assert parse_due("tonight", NOW, SH, default_time=time(9, 0)) == sh(2026, 11, 26, 20)


def test_in_hours_is_exact():
    now = datetime(2026, 11, 26, 10, 17, 42, tzinfo=SH)
    assert parse_due("in 2 hours", now, SH) == now + timedelta(hours=2)
    assert parse_due("3小时后", now, SH) == now + timedelta(hours=3)


# --- edge cases -----------------------------------------------------------------------------------

def test_month_end():
    jan31 = datetime(2026, 1, 31, 10, 0, tzinfo=SH)
    assert parse_due("end of month", jan31, SH) == sh(2026, 1, 31)
    assert parse_due("月底", jan31, SH) == sh(2026, 1, 31)
    assert parse_due("下月底", jan31, SH) == sh(2026, 2, 28)
    assert parse_due("in 1 month", jan31, SH) == sh(2026, 2, 28)
    assert parse_due("tomorrow", jan31, SH) == sh(2026, 2, 1)
    after = datetime(2026, 1, 31, 19, 0, tzinfo=SH)
    assert usage_error(parse_due, "月底", after, SH).key == "parse.past_date"


def test_year_end():
    dec31 = datetime(2026, 12, 31, 10, 0, tzinfo=SH)  # a Thursday
    assert parse_due("12月31日", dec31, SH) == sh(2026, 12, 31)
    assert parse_due("Dec 31", dec31, SH) == sh(2026, 12, 31)
    assert parse_due("tomorrow", dec31, SH) == sh(2027, 1, 1)
    assert parse_due("明天上午9点", dec31, SH) == sh(2027, 1, 1, 9)
    assert parse_due("下周五", dec31, SH) == sh(2027, 1, 8)
    assert parse_due("周五", dec31, SH) == sh(2027, 1, 1)
    assert parse_due("in 3 days", dec31, SH) == sh(2027, 1, 3)
    assert parse_due("下月底", dec31, SH) == sh(2027, 1, 31)
    assert parse_due("年底", dec31, SH) == sh(2026, 12, 31)


def test_date_without_year_never_moves_to_next_year():
    evening = datetime(2026, 12, 31, 19, 0, tzinfo=SH)
    err = usage_error(parse_due, "12月31日", evening, SH)
    assert err.key == "parse.past_date"
    assert err.args_ == {"value": "12月31日", "when": "2026-12-31 18:00 Asia/Shanghai"}
    assert usage_error(parse_due, "1月5日", evening, SH).args_["when"].startswith("2026-01-05")
    assert usage_error(parse_due, "Jan 5", evening, SH).key == "parse.past_date"
    assert usage_error(parse_due, "01-05", evening, SH).key == "parse.past_date"


def test_leap_year():
    jan = datetime(2028, 1, 10, 10, 0, tzinfo=SH)
    assert parse_due("2028-02-29", jan, SH) == sh(2028, 2, 29)
    assert parse_due("2月29日", jan, SH) == sh(2028, 2, 29)
    assert parse_due("Feb 29", jan, SH) == sh(2028, 2, 29)
    assert parse_due("02-29", jan, SH) == sh(2028, 2, 29)
    assert usage_error(parse_due, "2027-02-29", jan, SH).key == "parse.bad_date"
    assert usage_error(parse_due, "2月29日", NOW, SH).key == "parse.bad_date"  # 2026 is not a leap year
    assert usage_error(parse_due, "2026-02-30", NOW, SH).key == "parse.bad_date"
    assert usage_error(parse_due, "11月31日", NOW, SH).key == "parse.bad_date"


def test_sunday():
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=SH)
    err = usage_error(parse_due, "本周五", sunday, SH)
    assert err.key == "parse.past_date"
    assert err.args_["when"] == "2026-11-27 18:00 Asia/Shanghai"
    assert usage_error(parse_due, "this friday", sunday, SH).key == "parse.past_date"
    assert usage_error(parse_due, "this monday", sunday, SH).key == "parse.past_date"
    assert usage_error(parse_due, "end of week", sunday, SH).key == "parse.past_date"
    assert parse_due("next monday", sunday, SH) == sh(2026, 11, 30)
    assert parse_due("下周一", sunday, SH) == sh(2026, 11, 30)
    assert parse_due("monday", sunday, SH) == sh(2026, 11, 30)
    assert parse_due("周五", sunday, SH) == sh(2026, 12, 4)
    assert parse_due("本周日", sunday, SH) == sh(2026, 11, 29)
    assert parse_due("sunday", sunday, SH) == sh(2026, 11, 29)
    assert parse_due("sunday 9am", sunday, SH) == sh(2026, 12, 6, 9)
    assert parse_due("next sunday", sunday, SH) == sh(2026, 12, 6)


def test_bare_weekday_today_after_the_time():
    thu_evening = datetime(2026, 11, 26, 19, 0, tzinfo=SH)
    assert parse_due("thursday", thu_evening, SH) == sh(2026, 12, 3)
    assert parse_due("周四", thu_evening, SH) == sh(2026, 12, 3)
    assert parse_due("thursday 9pm", thu_evening, SH) == sh(2026, 11, 26, 21)
    assert usage_error(parse_due, "this thursday", thu_evening, SH).key == "parse.past_date"


def test_new_york_across_dst_end():
    # Sat 2026-10-31 10:00 EDT; clocks go back at 02:00 on Sun 2026-11-01.
    now = datetime(2026, 10, 31, 10, 0, tzinfo=NY)
    assert now.utcoffset() == timedelta(hours=-4)
    got = parse_due("tomorrow 9am", now, NY)
    assert (got.year, got.month, got.day, got.hour, got.minute) == (2026, 11, 1, 9, 0)
    assert got.utcoffset() == timedelta(hours=-5)
    assert got.astimezone(UTC) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert parse_due("明天上午9点", now, NY) == got
    assert parse_due("tomorrow", now, NY) == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
    # 'in N hours' is elapsed time, so the wall clock shows an hour less.
    in24 = parse_due("in 24 hours", now, NY)
    assert in24.astimezone(UTC) == now.astimezone(UTC) + timedelta(hours=24)
    assert (in24.hour, in24.utcoffset()) == (9, timedelta(hours=-5))
    assert parse_due("next monday", now, NY) == datetime(2026, 11, 2, 18, 0, tzinfo=NY)


def test_new_york_skipped_hour_moves_forward():
    now = datetime(2026, 3, 7, 10, 0, tzinfo=NY)  # the night before clocks spring forward
    got = parse_due("tomorrow 2:30am", now, NY)
    assert (got.hour, got.minute, got.utcoffset()) == (3, 30, timedelta(hours=-4))


BAD_DATES = [
    "", "   ", "friday blah", "blah friday", "next week", "下周", "3天前", "dec 15pm",
    "tomorrow 25:00", "13pm", "0am", "tomorrow 5", "明天下午", "晚上12点", "上午15点", "2026-13-01",
    "2026-12", "12月", "someday", "in two hours 5pm", "2026-12-0517:00", "tomorrow tomorrow",
    "in -3 days", "next next friday", "明天后天", "1e9", "9999-12-31",
]


@pytest.mark.parametrize("text", BAD_DATES)
def test_parse_due_bad(text):
    err = usage_error(parse_due, text, NOW, SH)
    assert err.key == "parse.bad_date"
    assert err.args_ == {"value": text.strip()}


@pytest.mark.parametrize("text", ["明天3点", "3点", "下周五6点", "明天两点半"])
def test_parse_due_ambiguous_chinese_hour(text):
    err = usage_error(parse_due, text, NOW, SH)
    assert err.key == "parse.ambiguous_time"
    assert err.args_ == {"value": text}


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("yesterday", "2026-11-25 18:00 Asia/Shanghai"),
        ("昨天", "2026-11-25 18:00 Asia/Shanghai"),
        ("last friday", "2026-11-20 18:00 Asia/Shanghai"),
        ("上周五", "2026-11-20 18:00 Asia/Shanghai"),
        ("this monday", "2026-11-23 18:00 Asia/Shanghai"),
        ("本周一", "2026-11-23 18:00 Asia/Shanghai"),
        ("9am", "2026-11-26 09:00 Asia/Shanghai"),
        ("上午10点", "2026-11-26 10:00 Asia/Shanghai"),  # exactly now is not "after now"
        ("2026-01-05", "2026-01-05 18:00 Asia/Shanghai"),
        ("10月15日", "2026-10-15 18:00 Asia/Shanghai"),
        ("15号", "2026-11-15 18:00 Asia/Shanghai"),
    ],
)
def test_parse_due_past(text, when):
    err = usage_error(parse_due, text, NOW, SH)
    assert err.key == "parse.past_date"
    assert err.args_ == {"value": text, "when": when}


def test_parse_due_needs_aware_now():
    with pytest.raises(ValueError):
        parse_due("tomorrow", datetime(2026, 11, 26, 10, 0), SH)


# --------------------------------------------------------------------------------------------------
# parse_amount
# --------------------------------------------------------------------------------------------------

AMOUNTS = [
    ("500000", 500_000, False),
    ("50k", 50_000, False),
    ("50K", 50_000, False),
    ("1.2m", 1_200_000, False),
    ("1.2M", 1_200_000, False),
    ("5万", 50_000, False),
    ("5w", 50_000, False),
    ("5W", 50_000, False),
    ("50万", 500_000, False),
    ("1.5千", 1_500, False),
    ("3千", 3_000, False),
    ("2百万", 2_000_000, False),
    ("5千万", 50_000_000, False),
    ("3亿", 300_000_000, False),
    ("1.2亿", 120_000_000, False),
    ("1,200,000", 1_200_000, False),
    ("1，200，000", 1_200_000, False),
    ("1,200,000.5", 1_200_000.5, False),
    ("１２", 12, False),
    ("５０万", 500_000, False),
    ("12%", 12.0, True),
    ("92.5%", 92.5, True),
    ("１２％", 12.0, True),
    ("+20%", 20.0, True),
    ("-5%", -5.0, True),
    ("-5k", -5_000, False),
    ("+3", 3, False),
    ("−3", -3, False),
    ("¥500", 500, False),
    ("￥500", 500, False),
    ("¥1.2m", 1_200_000, False),
    ("-¥500", -500, False),
    ("50万元", 500_000, False),
    ("500元", 500, False),
    ("300块", 300, False),
    ("3人", 3, False),
    ("2个", 2, False),
    ("5家", 5, False),
    (".5", 0.5, False),
    ("0", 0, False),
    ("-0", 0, False),
    (" 50 万 ", 500_000, False),
    ("10000000亿", 1e15, False),
]


@pytest.mark.parametrize(("text", "value", "percent"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_parse_amount(text, value, percent):
    assert parse_amount(text) == Amount(float(value), percent)


BAD_AMOUNTS = [
    "", " ", "abc", "NaN", "nan", "inf", "-inf", "Infinity", "1..2", "1,2,3", "12,00", "1,2", "1.2.3",
    "1e3", "%", "¥", "-", "+", "k", "万", "5k%", "¥5%", "5%元", "+-5", "--5", "5 5", "5kk", "5万万",
    "10000001亿", "2000000000000000", "0x10", "1_000", "٣", "50 dollars",
]


@pytest.mark.parametrize("text", BAD_AMOUNTS)
def test_parse_amount_bad(text):
    err = usage_error(parse_amount, text)
    assert err.key == "parse.bad_amount"
    assert err.args_ == {"value": text.strip()}


# --------------------------------------------------------------------------------------------------
# Mentions
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U123|li>", Mention("U123", "li", "<@U123|li>")),
        ("<@U123>", Mention("U123", None, "<@U123>")),
        ("<@W9ABC|li.lei>", Mention("W9ABC", "li.lei", "<@W9ABC|li.lei>")),
        ("@li", Mention(None, "li", "@li")),
        ("@李雷", Mention(None, "李雷", "@李雷")),
        ("＠李雷", Mention(None, "李雷", "＠李雷")),
        ("@li,", Mention(None, "li", "@li,")),
        ("@li.lei.", Mention(None, "li.lei", "@li.lei.")),
        ("  @li  ", Mention(None, "li", "@li")),
        ("li", None),
        ("", None),
        ("@", None),
        ("@@li", None),
        ("li@acme.com", None),
        ("<#C123|general>", None),
        ("<!here>", None),
        ("@li and", None),
    ],
)
def test_parse_mention(token, expected):
    assert parse_mention(token) == expected


def test_take_mentions():
    mentions, rest = take_mentions("add <@U1|li> call ACME  @王五 tomorrow")
    assert mentions == [Mention("U1", "li", "<@U1|li>"), Mention(None, "王五", "@王五")]
    assert rest == "add call ACME tomorrow"


@pytest.mark.parametrize(
    ("text", "names", "rest"),
    [
        ("", [], ""),
        ("no mentions here", [], "no mentions here"),
        ("mail li@acme.com now", [], "mail li@acme.com now"),
        ("请@李雷 跟进 ACME", ["李雷"], "请 跟进 ACME"),
        ("@li, @wang: please", ["li", "wang"], ", : please"),
        ("<@U1><@U2>", [None, None], ""),
        ("task add ＠李雷 写方案", ["李雷"], "task add 写方案"),
        ("  @li\u2005跟进  ", ["li"], "跟进"),  # DingTalk puts a four-per-em space after a mention
    ],
)
def test_take_mentions_table(text, names, rest):
    mentions, got_rest = take_mentions(text)
    assert [m.name for m in mentions] == names
    assert got_rest == rest


# --------------------------------------------------------------------------------------------------
# split_pairs
# --------------------------------------------------------------------------------------------------

PAIRS = [
    ("signed ACME sales=500k customers=1", ("signed ACME", [("sales", "500k"), ("customers", "1")])),
    ("签约ACME年框 销售额=50万 新客户=1", ("签约ACME年框", [("销售额", "50万"), ("新客户", "1")])),
    ("销售额＝５０万 新客户＝1", ("", [("销售额", "50万"), ("新客户", "1")])),
    ("sales:500k", ("", [("sales", "500k")])),
    ("销售额：50万 拜访:3", ("", [("销售额", "50万"), ("拜访", "3")])),
    ("csat:-5%", ("", [("csat", "-5%")])),
    ("budget:¥5000 ok", ("ok", [("budget", "¥5000")])),
    ("rate:.5", ("", [("rate", ".5")])),
    ("meet at 10:30", ("meet at 10:30", [])),
    ("see https://x.com/a", ("see https://x.com/a", [])),
    ("see https://crm.example/x?id=5", ("see https://crm.example/x?id=5", [])),
    ("note: hello", ("note: hello", [])),
    ("note:hello", ("note:hello", [])),
    ("blocker: 3 deals stuck", ("blocker: 3 deals stuck", [])),
    ("ratio 3:1", ("ratio 3:1", [])),
    ("sales = 500k", ("", [("sales", "500k")])),  # spaces around the sign
    ("=5 x= y", ("=5", [("x", "y")])),
    ("a=b=c", ("", [("a", "b=c")])),
    ("sales=1,200,000 done", ("done", [("sales", "1,200,000")])),
    ("销售额=50万，新客户=1", ("", [("销售额", "50万"), ("新客户", "1")])),
    ("x  y\tz", ("x y z", [])),
    ("", ("", [])),
    ("customers=1 signed sales=2 ACME", ("signed ACME", [("customers", "1"), ("sales", "2")])),
]


@pytest.mark.parametrize(("text", "expected"), PAIRS, ids=[p[0] or "empty" for p in PAIRS])
def test_split_pairs(text, expected):
    assert split_pairs(text) == expected


# --------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------

def _p(kind, label, start: date, end: date, tz=SH):
    return Period(datetime.combine(start, time(0), tzinfo=tz), datetime.combine(end, time(0), tzinfo=tz), kind, label)


D = date
PERIODS = [
    ("today", _p("day", "2026-11-26", D(2026, 11, 26), D(2026, 11, 27))),
    ("今天", _p("day", "2026-11-26", D(2026, 11, 26), D(2026, 11, 27))),
    ("yesterday", _p("day", "2026-11-25", D(2026, 11, 25), D(2026, 11, 26))),
    ("昨天", _p("day", "2026-11-25", D(2026, 11, 25), D(2026, 11, 26))),
    ("this week", _p("week", "2026-W48", D(2026, 11, 23), D(2026, 11, 30))),
    ("本周", _p("week", "2026-W48", D(2026, 11, 23), D(2026, 11, 30))),
    ("这周", _p("week", "2026-W48", D(2026, 11, 23), D(2026, 11, 30))),
    ("last week", _p("week", "2026-W47", D(2026, 11, 16), D(2026, 11, 23))),
    ("上周", _p("week", "2026-W47", D(2026, 11, 16), D(2026, 11, 23))),
    ("next week", _p("week", "2026-W49", D(2026, 11, 30), D(2026, 12, 7))),
    ("this month", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("本月", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("last month", _p("month", "2026-10", D(2026, 10, 1), D(2026, 11, 1))),
    ("上月", _p("month", "2026-10", D(2026, 10, 1), D(2026, 11, 1))),
    ("上个月", _p("month", "2026-10", D(2026, 10, 1), D(2026, 11, 1))),
    ("this quarter", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("本季度", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("last quarter", _p("quarter", "2026-Q3", D(2026, 7, 1), D(2026, 10, 1))),
    ("上季度", _p("quarter", "2026-Q3", D(2026, 7, 1), D(2026, 10, 1))),
    ("this year", _p("year", "2026", D(2026, 1, 1), D(2027, 1, 1))),
    ("今年", _p("year", "2026", D(2026, 1, 1), D(2027, 1, 1))),
    ("last year", _p("year", "2025", D(2025, 1, 1), D(2026, 1, 1))),
    ("去年", _p("year", "2025", D(2025, 1, 1), D(2026, 1, 1))),
    ("2026-11", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("2026年11月", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("2026-12", _p("month", "2026-12", D(2026, 12, 1), D(2027, 1, 1))),
    ("11月", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("Nov 2026", _p("month", "2026-11", D(2026, 11, 1), D(2026, 12, 1))),
    ("2026-Q4", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("2026Q4", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("2026 q1", _p("quarter", "2026-Q1", D(2026, 1, 1), D(2026, 4, 1))),
    ("Q4", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("2026年第四季度", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("2026年第4季度", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("２０２６－Ｑ４", _p("quarter", "2026-Q4", D(2026, 10, 1), D(2027, 1, 1))),
    ("2026", _p("year", "2026", D(2026, 1, 1), D(2027, 1, 1))),
    ("2026年", _p("year", "2026", D(2026, 1, 1), D(2027, 1, 1))),
    ("2026-W48", _p("week", "2026-W48", D(2026, 11, 23), D(2026, 11, 30))),
    ("2026w48", _p("week", "2026-W48", D(2026, 11, 23), D(2026, 11, 30))),
    ("2026-W53", _p("week", "2026-W53", D(2026, 12, 28), D(2027, 1, 4))),
    ("2026-W01", _p("week", "2026-W01", D(2025, 12, 29), D(2026, 1, 5))),
    ("2026-11-20", _p("day", "2026-11-20", D(2026, 11, 20), D(2026, 11, 21))),
    ("2026年11月20日", _p("day", "2026-11-20", D(2026, 11, 20), D(2026, 11, 21))),
    ("2028-02-29", _p("day", "2028-02-29", D(2028, 2, 29), D(2028, 3, 1))),
]


@pytest.mark.parametrize(("text", "expected"), PERIODS, ids=[p[0] for p in PERIODS])
def test_parse_period(text, expected):
    assert parse_period(text, NOW, SH) == expected


@pytest.mark.parametrize(
    "text",
    ["", "next decade", "2026-13", "2026-Q5", "2026-W54", "2025-W53", "13月", "2026-02-30", "someday", "this", "q"],
)
def test_parse_period_bad(text):
    err = usage_error(parse_period, text, NOW, SH)
    assert err.key == "parse.bad_period"
    assert err.args_ == {"value": text}


def test_period_boundaries_at_new_year():
    # 00:30 on 2027-01-01 in Shanghai is still 2026-12-31 in UTC.
    at = datetime(2027, 1, 1, 0, 30, tzinfo=SH)
    now_utc = at.astimezone(UTC)
    assert parse_period("today", now_utc, SH).label == "2027-01-01"
    assert parse_period("this week", now_utc, SH).label == "2026-W53"
    assert parse_period("last month", now_utc, SH).label == "2026-12"
    assert parse_period("last quarter", now_utc, SH).label == "2026-Q4"
    assert parse_period("this quarter", now_utc, SH).label == "2027-Q1"
    assert parse_period("last year", now_utc, SH).label == "2026"
    assert parse_period("yesterday", now_utc, SH).label == "2026-12-31"


@pytest.mark.parametrize(
    ("label_in", "label_prev"),
    [
        ("2026-01-01", "2025-12-31"),
        ("2028-03-01", "2028-02-29"),
        ("2026-W01", "2025-W52"),
        ("2027-W01", "2026-W53"),
        ("2026-01", "2025-12"),
        ("2026-03", "2026-02"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q4", "2026-Q3"),
        ("2026", "2025"),
    ],
)
def test_previous(label_in, label_prev):
    p = parse_period(label_in, NOW, SH)
    prev = previous(p, SH)
    assert prev.label == label_prev
    assert prev.kind == p.kind
    assert prev.end == p.start


def test_period_of():
    at = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert period_of("day", at, SH).label == "2026-11-26"
    assert period_of("week", at, SH) == parse_period("2026-W48", NOW, SH)
    assert period_of("month", at, SH).label == "2026-11"
    assert period_of("quarter", at, SH).label == "2026-Q4"
    assert period_of("year", at, SH).label == "2026"
    # 20:00 UTC on the 30th is already December in Shanghai but not in New York.
    late = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert period_of("month", late, SH).label == "2026-12"
    assert period_of("month", late, NY).label == "2026-11"
    with pytest.raises(ValueError):
        period_of("fortnight", at, SH)


def test_period_across_dst_in_new_york():
    p = period_of("week", datetime(2026, 11, 1, 12, 0, tzinfo=NY), NY)
    assert p.label == "2026-W44"
    assert p.start == datetime(2026, 10, 26, 0, 0, tzinfo=NY)
    assert p.end == datetime(2026, 11, 2, 0, 0, tzinfo=NY)
    assert p.end.astimezone(UTC) - p.start.astimezone(UTC) == timedelta(days=7, hours=1)  # the week has 169 real hours
    assert p.start.utcoffset() == timedelta(hours=-4)
    assert p.end.utcoffset() == timedelta(hours=-5)


# --------------------------------------------------------------------------------------------------
# fmt
# --------------------------------------------------------------------------------------------------

def test_fmt_when_and_day():
    due = sh(2026, 12, 4)
    assert fmt.when(due, SH, "en") == "Fri 2026-12-04 18:00 Asia/Shanghai"
    assert fmt.when(due, SH, "zh") == "2026-12-04 周五 18:00 Asia/Shanghai"
    assert fmt.when(due.astimezone(UTC), SH, "en") == "Fri 2026-12-04 18:00 Asia/Shanghai"
    assert fmt.when(due, NY, "en") == "Fri 2026-12-04 05:00 America/New_York"
    assert fmt.day(date(2026, 12, 4), "en") == "Fri 2026-12-04"
    assert fmt.day(date(2026, 12, 6), "zh") == "2026-12-06 周日"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (500_000, "500,000"), (1_200_000.5, "1,200,000.5"), (92.5, "92.5"), (1, "1"), (1.0, "1"),
        (0, "0"), (-0.0, "0"), (-0.001, "0"), (1234.567, "1,234.57"), (-1234.5, "-1,234.5"),
        (0.1, "0.1"), (999.999, "1,000"), (1e15, "1,000,000,000,000,000"),
    ],
)
def test_fmt_number(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (500_000, "CNY", "en", "¥500,000"),
        (500_000, "CNY", "zh", "¥500,000（50万）"),
        (120_000_000, "CNY", "zh", "¥120,000,000（1.2亿）"),
        (9_999, "CNY", "zh", "¥9,999"),
        (10_000, "CNY", "zh", "¥10,000（1万）"),
        (-500_000, "CNY", "en", "-¥500,000"),
        (92.5, "%", "en", "92.5%"),
        (92.5, "%", "zh", "92.5%"),
        (12, "count", "zh", "12"),
        (1_200, "visits", "en", "1,200"),
    ],
)
def test_fmt_amount(value, unit, lang, text):
    assert fmt.amount(value, unit, lang) == text


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("2026-11-26", "Thu 2026-11-26", "2026-11-26 周四"),
        ("2026-W48", "week of Mon 2026-11-23", "2026-11-23 起的一周"),
        ("2026-11", "November 2026", "2026年11月"),
        ("2026-Q4", "2026 Q4", "2026年第四季度"),
        ("2026", "2026", "2026年"),
    ],
)
def test_fmt_period_label(text, en, zh):
    p = parse_period(text, NOW, SH)
    assert fmt.period_label(p, "en") == en
    assert fmt.period_label(p, "zh") == zh


# --------------------------------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------------------------------

KEYS = {"bad_amount", "bad_date", "past_date", "ambiguous_time", "bad_period"}


def _parse_catalog(lang: str) -> dict[str, str]:
    root = resources.files("commands.i18n") / lang / "parse.toml"
    return tomllib.loads(root.read_text(encoding="utf-8"))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogs_have_the_same_keys_and_placeholders():
    zh, en = _parse_catalog("zh"), _parse_catalog("en")
    assert set(zh) == set(en) >= KEYS
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key


@pytest.mark.parametrize(
    ("call", "fragment_en", "fragment_zh"),
    [
        (lambda: parse_due("friday blah", NOW, SH), "“friday blah”", "“friday blah”"),
        (lambda: parse_due("yesterday", NOW, SH), "2026-11-25 18:00 Asia/Shanghai", "已经过去"),
        (lambda: parse_due("明天3点", NOW, SH), "下午3点", "下午3点"),
        (lambda: parse_amount("lots"), "“lots”", "“lots”"),
        (lambda: parse_period("soon", NOW, SH), "“soon”", "“soon”"),
    ],
)
def test_errors_render_in_both_languages(call, fragment_en, fragment_zh):
    with pytest.raises(UsageError) as info:
        call()
    err = info.value
    en, zh = t("en", err.key, **err.args_), t("zh", err.key, **err.args_)
    assert en != err.key and zh != err.key
    assert fragment_en in en
    assert fragment_zh in zh
    assert "{" not in en and "{" not in zh
