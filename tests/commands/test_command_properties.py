"""Whatever people type: a request or a usage error from parse(), and never a crash from the dispatcher."""
from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.core import router
from commands.core.context import Actor, Ctx, Invocation
from commands.core.errors import UsageError
from tests.kit.dialog import Chat, row_counts

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=ZoneInfo("UTC"))
WORDS = ["setup", "add", "remove", "list", "undo", "blocker:", "阻塞:", "添加", "撤销", "lang", "tz", "away",
         "until", "help", "@li", "<@U1|li>", "<@U2>", "sales=", "销售额=", "50万", "1.2m", "12%", "=", ":",
         "：", "＝", "rep", "manager", "销售代表", "上周", "last week", "2026-Q4", "明天", "next friday",
         "tz=Asia/Shanghai", "calendar=CN", "calendar=XX", "zh", "en", "'", '"', "\\", "\n", "🎉", "１２",
         "due", "截止", "note", "备注", "done", "1", "-5", "1e309", "nan", "done 99999999999999999999"]
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=8).map(" ".join),
)


def _ctx(text: str) -> Ctx:
    inv = Invocation(actor=Actor("console", "wang"), channel="C", command="x", text=text, received_at=NOW)
    return Ctx(inv=inv, lang="zh", tz=ZoneInfo("Asia/Shanghai"), now=NOW)


@settings(max_examples=400, deadline=None)
@given(route=st.sampled_from(router.ROUTES), text=texts)
def test_parse_gives_a_request_or_a_usage_error(route, text):
    feature = router.module(route)
    try:
        req = feature.parse(router.normalize(text), _ctx(text))
    except UsageError:
        return
    assert req is not None


def test_a_thousand_random_commands_never_crash_or_half_write(uow, clock):
    chat = Chat(uow, clock)
    chat.say("wang", "/team setup 华东销售一组")
    chat.say("wang", "/team add @li rep")
    rng = random.Random(20261126)
    names = [r.name for r in router.ROUTES] + ["进展", "团队", "任务", "nope"]
    crashes = []
    for i in range(1000):
        words = [rng.choice(WORDS) if rng.random() < 0.7 else
                 "".join(chr(rng.randint(0x20, 0x9fff)) for _ in range(rng.randint(1, 8)))
                 for _ in range(rng.randint(0, 7))]
        user = rng.choice(["wang", "li", "stranger"])
        before = row_counts(uow) if i % 10 == 0 else None
        reply = chat.say(user, f"/{rng.choice(names)} {' '.join(words)}")
        text = reply.plain()
        if "Traceback" in text or "处理时出了问题" in text or "something went wrong" in text:
            crashes.append((user, words, text))
        if before is not None and not reply.ok:
            assert row_counts(uow) == before, (user, words, text)
    assert crashes == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_progress_and_team_replies_never_crash(sqlite_url, text):
    from commands.core.clock import FixedClock
    from storage.db import make_engine
    from storage.uow import uow_factory
    eng = make_engine(sqlite_url)
    try:
        chat = Chat(uow_factory(eng), FixedClock(NOW))
        chat.say("wang", "/team setup T")
        for cmd in ("progress", "team", "teambot"):
            reply = chat.say("wang", f"/{cmd} {text}")
            assert "什么都没有改动" not in reply.plain(), (cmd, text, reply.plain())
    finally:
        eng.dispose()
