"""Property tests for commands/core/parsing/: any text gives a value of the right type or a UsageError, never
another exception; due dates are always after now; amounts round-trip through fmt.number."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ZONES = [ZoneInfo(z) for z in ("Asia/Shanghai", "America/New_York", "UTC", "Europe/London", "Australia/Lord_Howe")]

# Pieces of the grammar, so that generated text is often almost right (where parsers break).
PIECES = [
    "today", "tonight", "tomorrow", "day after", "next", "this", "last", "friday", "fri", "mon", "sunday",
    "in", "within", "a", "3", "12", "31", "29", "0", "99999", "days", "day", "weeks", "hours", "hour",
    "minutes", "months", "dec", "december", "feb", "5th", "of", "end of", "month", "week", "year", "eom",
    "eow", "at", "noon", "pm", "am", "5pm", "12am", ":", "30", "17:00", "2026", "2028", "9999", "0001",
    "-", "/", ".", ",", " ", "  ", "T", "W", "Q", "q4", "w48", "by",
    "今天", "明天", "后天", "大后天", "今晚", "明晚", "昨天", "下", "下下", "本", "这", "上", "个", "周", "星期",
    "礼拜", "一", "二", "两", "三", "五", "六", "日", "天", "十", "十一", "二十", "〇", "零", "月", "号",
    "年", "第", "季度", "前", "之前", "后", "内", "小时", "分钟", "半", "一刻", "点", "时", "分", "上午",
    "下午", "晚上", "中午", "凌晨", "月底", "年底", "周末",
    "１２", "：", "＝", "，", "％", "￥", "¥", "万", "亿", "千", "百万", "k", "m", "w", "%", "元", "人",
    "+", "−", "e", "nan", "inf", "1,200", "1..2", "=", "@", "＠", "<@U1|li>", "<@U2>", "<", ">", "|",
    "sales", "销售额", "https://x.com/a", "\u2005", "\u3000", "\n", "\t", "\x00", "🙂", "ß", "İ",
]
grammar_text = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
any_text = st.one_of(st.text(max_size=40), grammar_text)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.sampled_from(ZONES)
)
zones = st.sampled_from(ZONES)


@SETTINGS
@given(text=any_text, now=nows, tz=zones)
def test_parse_due_returns_a_future_datetime_or_usage_error(text, now, tz):
    try:
        due = parse_due(text, now, tz)
    except UsageError as err:
        assert err.key in {"parse.bad_date", "parse.past_date", "parse.ambiguous_time", "parse.holiday_side"}
        assert isinstance(err.args_["value"], str)
        if err.key == "parse.past_date":
            assert isinstance(err.args_["when"], str)
        return
    assert isinstance(due, datetime)
    assert due.tzinfo is not None
    assert due.utcoffset() == due.astimezone(tz).utcoffset()
    assert due.astimezone(UTC) > now.astimezone(UTC)


@SETTINGS
@given(text=any_text)
def test_parse_amount_returns_amount_or_usage_error(text):
    try:
        amount = parse_amount(text)
    except UsageError as err:
        assert err.key == "parse.bad_amount"
        return
    assert isinstance(amount, Amount)
    assert isinstance(amount.value, float)
    assert math.isfinite(amount.value)
    assert abs(amount.value) <= 1e15
    assert isinstance(amount.percent, bool)


@SETTINGS
@given(text=any_text, now=nows, tz=zones)
def test_parse_period_returns_period_or_usage_error(text, now, tz):
    try:
        p = parse_period(text, now, tz)
    except UsageError as err:
        assert err.key == "parse.bad_period"
        return
    assert isinstance(p, Period)
    assert p.kind in {"day", "week", "month", "quarter", "year"}
    assert p.start.astimezone(UTC) < p.end.astimezone(UTC)
    assert previous(p, tz).end == p.start


@SETTINGS
@given(text=any_text)
def test_split_pairs_never_raises(text):
    note, pairs = split_pairs(text)
    assert isinstance(note, str)
    assert note == " ".join(note.split())
    for key, value in pairs:
        assert isinstance(key, str) and isinstance(value, str)
        assert key and value
        assert not any(c.isspace() for c in key + value)


@SETTINGS
@given(text=any_text)
def test_take_mentions_never_raises(text):
    mentions, rest = take_mentions(text)
    assert all(isinstance(m, Mention) for m in mentions)
    assert rest == " ".join(rest.split())
    for m in mentions:
        assert m.raw in text
        assert m.user_id or m.name or m.raw.startswith("<@")
        assert parse_mention(m.raw) == m


@SETTINGS
@given(token=any_text)
def test_parse_mention_never_raises(token):
    m = parse_mention(token)
    assert m is None or isinstance(m, Mention)


@SETTINGS
@given(x=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_amount_round_trips_through_fmt_number(x):
    text = fmt.number(x)
    got = parse_amount(text)
    assert not got.percent
    assert got.value == float(f"{x:.2f}") or (got.value == 0 and abs(x) < 0.005)
    assert abs(got.value - x) <= 0.005 + 1e-9 * abs(x)
    assert parse_amount(fmt.amount(x, "%", "en")) == Amount(got.value, True)
    assert parse_amount(fmt.amount(x, "CNY", "en")).value == got.value


@SETTINGS
@given(now=nows, tz=zones, kind=st.sampled_from(["day", "week", "month", "quarter", "year"]))
def test_period_of_contains_its_instant_and_labels_parse_back(now, tz, kind):
    p = period_of(kind, now, tz)
    assert p.start.astimezone(UTC) <= now.astimezone(UTC) < p.end.astimezone(UTC) or (
        # a local midnight skipped by DST starts the period a little late
        p.start.astimezone(UTC) - now.astimezone(UTC) <= timedelta(hours=1)
    )
    assert parse_period(p.label, now, tz) == p
    prev = previous(p, tz)
    assert prev.kind == kind and prev.end == p.start
