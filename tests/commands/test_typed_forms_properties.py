"""Property tests for the forms people type that the parsers learnt to read: spaced and full-width
metric pairs, Chinese numerals, dates as Chinese offices write them (12.20, 12、20, 元旦前, 国庆后,
2026年底前, 下月初) in any working-day calendar, goal targets in words, did-you-mean and the commands
written back in the user's form. Any input gives a value or a UsageError, never another exception."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import goals
from commands.core import router, suggest, typed_form, workdays
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from commands.core.parsing import parse_amount, parse_due, split_pairs

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDARS = [workdays.calendar_for(c) for c in ("CN", "US", "none")]

DATE_PIECES = [
    "12", "20", "1", "31", "2026", "2027", ".", "/", "、", "-", "年", "月", "日", "号", "底", "末", "初", "中",
    "前", "后", "之前", "以后", "元旦", "春节", "国庆", "十一", "五一", "中秋", "端午", "清明", "过年", "年",
    "节", "假期", "下月", "本月", "季度", "周末", "下周", "before", "after", "the", "new year", "national day",
    "chinese new year", "holiday", "end of", " ", "下午3点", "18:00", "十二月", "二十",
]
date_text = st.lists(st.sampled_from(DATE_PIECES), min_size=1, max_size=6).map("".join)
nows = st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2027, 12, 31),
                    timezones=st.just(SHANGHAI))


@SETTINGS
@given(text=st.one_of(date_text, st.text(max_size=30)), now=nows, cal=st.sampled_from(CALENDARS))
def test_office_dates_read_or_refuse_in_any_calendar(text, now, cal):
    try:
        due = parse_due(text, now, SHANGHAI, calendar=cal)
    except UsageError as err:
        assert err.key in {"parse.bad_date", "parse.past_date", "parse.ambiguous_time", "parse.holiday_side"}
        return
    assert due.astimezone(UTC) > now.astimezone(UTC)


@SETTINGS
@given(now=st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(SHANGHAI)),
       word=st.sampled_from(["元旦", "春节", "国庆", "五一", "中秋", "端午", "清明"]),
       side=st.sampled_from(["前", "后"]), cal=st.sampled_from(CALENDARS))
def test_a_holiday_date_is_a_working_day_next_to_the_break(now, word, side, cal):
    try:
        due = parse_due(word + side, now, SHANGHAI, calendar=cal)
    except UsageError as err:
        assert err.key == "parse.past_date"  # the day is today but 18:00 has gone
        return
    day = due.astimezone(SHANGHAI).date()
    assert cal.is_workday(day)
    step = timedelta(days=1 if side == "前" else -1)
    # The day beyond it, towards the holiday, is a day off (or the holiday itself in a calendar that works then).
    assert not cal.is_workday(day + step) or cal.code != "CN" or day.year > 2026


@SETTINGS
@given(month=st.integers(1, 12), day=st.integers(1, 31), sep=st.sampled_from([".", "/", "、", "-"]))
def test_month_day_forms_agree(month, day, sep):
    now = datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI)
    try:
        expected = date(2026, month, day)
    except ValueError:
        expected = None
    try:
        got = parse_due(f"{month}{sep}{day}", now, SHANGHAI).date()
    except UsageError:
        got = None
    assert got == expected or (expected == date(2026, 1, 1) and got is None)


_DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """An independent writer of Chinese numerals (0 < n < 10^12)."""
    def below_10000(x: int) -> str:
        out, zero = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // unit % 10
            if d:
                if zero and out:
                    out += "零"
                out += _DIGITS[d] + name
                zero = False
            else:
                zero = True
        return out
    parts = []
    for big, name in ((10**8, "亿"), (10**4, "万"), (1, "")):
        chunk = n // big % 10**4 if big < 10**8 else n // big
        if chunk:
            text = below_10000(chunk)
            if parts and chunk < 1000:
                text = "零" + text
            parts.append(text + name)
    return "".join(parts)


@SETTINGS
@given(n=st.integers(1, 10**11), unit=st.sampled_from(["", "元", "个", "人"]))
def test_chinese_numerals_round_trip(n, unit):
    assert parse_amount(chinese(n) + unit).value == n


METRIC_KEYS = ["销售额", "新客户", "sales", "customers", "客户满意度", "visits"]
VALUES = ["5万", "50k", "1,200", "３", "92.5%", "五万", "两"]


@SETTINGS
@given(note=st.sampled_from(["", "签约", "空格 测试", "call ACME"]), key=st.sampled_from(METRIC_KEYS),
       sign=st.sampled_from(["=", "＝", ":", "："]), left=st.sampled_from(["", " "]), right=st.sampled_from(["", " "]),
       value=st.sampled_from(VALUES))
def test_a_pair_reads_the_same_whatever_the_spaces_and_width(note, key, sign, left, right, value):
    got_note, pairs = split_pairs(f"{note} {key}{left}{sign}{right}{value}".strip())
    import unicodedata

    assert pairs == [(key, unicodedata.normalize("NFKC", value))]
    assert got_note == note


def _ctx(text: str) -> Ctx:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    inv = Invocation(actor=Actor("console", "wang"), channel="C", command="goal", text=text, received_at=now)
    return Ctx(inv=inv, lang="zh", tz=SHANGHAI, now=now)


GOAL_WORDS = ["设定", "set", "销售额", "sales", "新客户", "增长20%", "增长", "20%", "提升至90%以上", "至少", "90%",
              "每月增长10%", "每月", "下降10%", "grow", "by", "up", "down", "to", "at", "least", "increase", "lots",
              "2026-Q4", "本季度", "2026年底前", "元旦前", "为团队", "for", "team", "me", "为我", "@li", "120万", "1.2m",
              "以上", "+20%", "-", "10.5", "翻倍增长"]


@SETTINGS
@given(text=st.lists(st.sampled_from(GOAL_WORDS), min_size=1, max_size=8).map(" ".join))
def test_goal_targets_in_words_give_a_request_or_a_usage_error(text):
    try:
        req = goals.parse(text, _ctx(text))
    except UsageError:
        return
    if isinstance(req, goals.SetGoal) and req.relative and req.target is not None:
        assert req.deadline is None  # a change is on the previous period, never on a deadline
    if isinstance(req, goals.SetGoal) and req.team:
        assert req.who is None and not req.mine


words = st.text(alphabet=st.sampled_from(list("abcdeglmnoprstuvy任务目标进展撤销列表团队")), min_size=1, max_size=10)


@SETTINGS
@given(word=words, candidates=st.lists(words, min_size=1, max_size=8))
def test_did_you_mean_suggests_a_close_real_word_or_nothing(word, candidates):
    guess = suggest.closest(word, candidates)
    if guess is None:
        return
    assert guess in candidates and guess.casefold() != word.casefold()
    assert suggest.distance(word, guess) <= suggest.allowed(word) or guess.casefold().startswith(word.casefold())


@SETTINGS
@given(a=words, b=words)
def test_edit_distance_is_symmetric_and_zero_only_for_the_same_word(a, b):
    assert suggest.distance(a, b) == suggest.distance(b, a)
    assert (suggest.distance(a, b) == 0) == (a.casefold() == b.casefold())


HINTS = ["用 /team add @成员 角色 添加成员", "/task 新建 @李雷 拜访 截止 下周五 备注 x", "/goal set sales +20% for team",
         "https://x.com/team add", "、进展 列表", "/kpi 团队 2026-Q4  ·  /kpi 季度", "/teambot help", "a/b", "/nope x"]


@SETTINGS
@given(text=st.lists(st.sampled_from(HINTS + ["", " ", "\n", "（", "`"]), max_size=6).map(" ".join),
       command=st.sampled_from(["团队", "team", "任务", "task", "进展"]), chinese=st.booleans())
def test_rewriting_hints_in_the_typed_form_is_stable(text, command, chinese):
    route = router.find(command)
    form = typed_form.TypedForm(command if not command.isascii() else None, chinese)
    once = typed_form.rewrite(text, form, route.name)
    assert typed_form.rewrite(once, form, route.name) == once
    assert once.count("/") + once.count("、") == text.count("/") + text.count("、")
