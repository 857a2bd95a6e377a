"""Every privileged action x every role: allowed or refused, and a refused one changes nothing.

The team (seeded once, copied per case): `boss` (manager, creates the team and the tasks),
`res0` (resource_admin, runs the setup's second stages), `target` (rep, whose tasks, requests and
goal the actions are about), `helper` (rep) and one actor per role: mgr2 (manager), rep1 (rep),
am1 (account_manager), mkt1 (marketing), res1 (resource_admin), perf1 (performance_admin), plus
`outsider`, in no team. The actor is never the creator, assignee or requester of what it acts on,
so only its role can make a step allowed.

A refused step must answer ok=False with a 🚫/⚠️ text and no traceback, and leave every row of
every table exactly as it was (not just the counts). An allowed step must answer ok=True and change
something. The rules come from SPEC.md (Roles, /team, /task, /resource, /goal, /kpi, /agenda, /kudos,
/assess).

The same checks run once more through signed Slack button clicks (the server re-checks the clicking
user; a forged button value gains nothing).
"""
from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from commands.i18n import t
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.databases import SqliteTemplate
from tests.kit.dialog import Chat
from tests.kit.fixtures import SlackHarness

ROLES = {"manager": "mgr2", "rep": "rep1", "account_manager": "am1", "marketing": "mkt1",
         "resource_admin": "res1", "performance_admin": "perf1", "non-member": "outsider"}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
MANAGER = frozenset({"manager"})
RESOURCE_ADMIN = frozenset({"resource_admin"})
MARKETING = frozenset({"marketing", "manager"})
PERFORMANCE_ADMIN = frozenset({"performance_admin"})

#: action -> (command text, roles allowed). Ids refer to the seeded objects (see _seed).
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "team add": ("/team add @newbie rep", MANAGER),
    "team add (change a role)": ("/team add @target manager", MANAGER),
    "team remove": ("/team remove @target", MANAGER),
    "team rules (the customer pool's rules)": ("/team rules pool_days=45 warn_days=5", MANAGER),
    "team robot (group webhook)": ("/team robot https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1", MANAGER),
    "task add for someone else": ("/task add @target 新任务 due 2026-12-10", MANAGER),
    "task assign (others' task)": ("/task assign 1 @helper", MANAGER),
    "task done (others' task)": ("/task done 1", MANAGER),
    "task snooze (others' task)": ("/task snooze 1", MANAGER),
    "task cancel (others' task)": ("/task cancel 1", MANAGER),
    "task reopen (others' task)": ("/task reopen 2", MANAGER),
    "task due (others' task)": ("/task due 1 2026-12-15", MANAGER),
    "resource approve, stage 1 (申请)": ("/resource approve 1 ok", MANAGER),
    "resource reject, stage 1": ("/resource reject 1 no budget", MANAGER),
    "resource approve, stage 2 (审核)": ("/resource approve 2 ok", RESOURCE_ADMIN),
    "resource reject, stage 2": ("/resource reject 2 no people", RESOURCE_ADMIN),
    "resource allocate (分配)": ("/resource allocate 3", RESOURCE_ADMIN),
    "resource stock (盘点)": ("/resource stock people 5 need 8", RESOURCE_ADMIN),
    "resource cancel (others' request)": ("/resource cancel 1", NOBODY),
    # the requester, or the sales manager, says what an allocation brought (投入产出比)
    "resource feedback (others' request)": ("/resource feedback 4 great sales=5万 customers=2", MANAGER),
    "activity add (市场活动)": ("/activity add 华南展会 2026-12-20 budget=5万", MARKETING),
    "activity result": ("/activity result 1 participants=120 leads=15", MARKETING),
    "goal set for someone else": ("/goal set visits 20 2026-Q4 for @target", MANAGER),
    "goal set for the team": ("/goal set sales 5m 2026-Q4 for team", MANAGER),
    "goal adjust (others' goal)": ("/goal adjust 1 2m because the ACME deal slipped", MANAGER),
    "kpi metric add": ("/kpi metric add demos 演示 Demos count sum", MANAGER),
    "agenda schedule": ("/agenda schedule weekly mon 09:30 60m", MANAGER),
    "honor (confirm an honour)": ("/honor @target 月度销冠 2026-10", MANAGER),
    "customer add for someone else": ("/customer add 新客户甲 owner=@target", MANAGER),
    "customer stage (others' customer)": ("/customer stage 1 qualified", MANAGER),
    "customer rename (others' customer)": ("/customer rename 1 目标客户集团", MANAGER),
    "customer edit (others' customer)": ("/customer edit 1 contact=王总", MANAGER | {"account_manager"}),
    "customer release (others' customer)": ("/customer release 1 no budget", MANAGER),
    "customer transfer (handover)": ("/customer transfer 1 @target @helper", MANAGER),
    "followup (others' customer)": ("/followup 1 call 回访", MANAGER | {"account_manager"}),
    "kpi weights": ("/kpi weights sales=50 customers=30 csat=20", MANAGER),
    # 考核机制: 每月初 销售经理; 季度末、年度末 绩效管理部. Assessment 1 (target, 2026-10) is confirmed.
    "assess confirm, monthly (again)": ("/assess confirm 2026-10 @target score=85", MANAGER),
    "assess confirm, monthly": ("/assess confirm 2026-11 @target score=85", MANAGER),
    "assess confirm, quarterly": ("/assess confirm 2026-Q3 @target score=85 稳定", PERFORMANCE_ADMIN),
    "assess confirm, annual": ("/assess confirm 2026 @target score=85", PERFORMANCE_ADMIN),
    "assess ack (others' assessment)": ("/assess ack 2026-10", NOBODY),
    "assess object (others' assessment)": ("/assess object 2026-10 not fair", NOBODY),
}
#: Steps anyone in the team may take (SPEC: own progress, own tasks, requests, reading KPIs):
#: refused only for the outsider. Kept here so that the matrix also proves they are not over-locked.
OPEN_ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "progress log (own)": ("/progress 拜访客户 visits=1", EVERYONE - {"non-member"}),
    "task add for oneself": ("/task add 写周报 due 2026-12-10", EVERYONE - {"non-member"}),
    "resource request": ("/resource request budget 5000 for the expo", EVERYONE - {"non-member"}),
    "goal set for oneself": ("/goal set visits 10 2026-Q4 for me", EVERYONE - {"non-member"}),
    "kudos (praise a colleague)": ("/kudos @target 拿下ACME年框", EVERYONE - {"non-member"}),
    "customer add (own)": ("/customer add 新客户乙 phone=13700001234", EVERYONE - {"non-member"}),
    "customer claim (from the pool)": ("/customer claim 2", EVERYONE - {"non-member"}),
}
MATRIX = {**ACTIONS, **OPEN_ACTIONS}
SETUP = [
    ("boss", "/team setup 华东一组"),
    *[("boss", f"/team add @{user} {role}") for role, user in ROLES.items() if role != "non-member"],
    ("boss", "/team add @res0 resource_admin"),
    ("boss", "/team add @target rep"),
    ("boss", "/team add @helper rep"),
    ("boss", "/task add @target 拜访ACME due 2026-12-05 note 带上报价"),  # task 1: open
    ("boss", "/task add @target 整理客户名单 due 2026-12-04"),  # task 2: done by its assignee
    ("target", "/task done 2"),
    ("res0", "/resource stock people 10 need 12"),
    ("target", "/resource request people 2 for the expo"),  # 1: submitted
    ("target", "/resource request people 1 for the roadshow"),  # 2: approved (stage 1 done)
    ("boss", "/resource approve 2"),
    ("target", "/resource request people 1 for the seminar"),  # 3: reviewed (stage 2 done)
    ("boss", "/resource approve 3"),
    ("res0", "/resource approve 3"),
    ("target", "/resource request people 1 for the visit"),  # 4: allocated
    ("boss", "/resource approve 4"),
    ("res0", "/resource approve 4"),
    ("res0", "/resource allocate 4"),
    ("boss", "/goal set sales 1m 2026-Q4 for @target"),  # goal 1: the target's
    ("boss", "/activity add 秋季沙龙 2026-11-20 budget=2万"),  # activity 1: happened, no result yet
    ("target", "/customer add 目标客户 phone=13800001111"),  # customer 1: the target's
    ("target", "/customer add 公海客户 owner=pool"),  # customer 2: in the pool
    ("boss", "/assess confirm 2026-10 @target score=80"),  # assessment 1: the target's October
]
REFUSAL_MARKS = ("🚫", "⚠️")
INTERNAL = [t(lang, "core.internal_error", incident="")[:20] for lang in ("zh", "en")]


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order. Delivery receipts aside: every delivery keeps
    one, refused or not, so that a redelivery is answered once."""
    out = {}
    with engine.connect() as c:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "inbound_receipt":
                continue
            out[table.name] = [tuple(r) for r in c.execute(select(table).order_by(*table.primary_key.columns))]
    return out


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """The seeded team as a SQLite file, copied for every case."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commands.core.clock import FixedClock

    folder = tmp_path_factory.mktemp("matrix")
    url = SqliteTemplate(folder).fresh(folder)
    engine = make_engine(url)
    chat = Chat(uow_factory(engine), FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))))
    for user, command in SETUP:
        reply = chat.say(user, command)
        assert reply.ok, f"setup: {user}: {command}\n{reply.plain()}"
    engine.dispose()
    path = Path(url.removeprefix("sqlite:///"))
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix(seeded, tmp_path, clock, action, role):
    command, allowed_roles = MATRIX[action]
    db = tmp_path / "case.db"
    shutil.copyfile(seeded, db)
    engine = make_engine(f"sqlite:///{db}")
    try:
        before = dump(engine)
        reply = Chat(uow_factory(engine), clock).say(ROLES[role], command)
        after = dump(engine)
    finally:
        engine.dispose()
    text = reply.plain()
    where = f"{role} ({ROLES[role]}): {command}\n{text}"
    assert "Traceback" not in text and not any(m in text for m in INTERNAL), where
    if role in allowed_roles:
        assert reply.ok, f"should be allowed: {where}"
        assert after != before, f"allowed but changed nothing: {where}"
    else:
        assert not reply.ok, f"should be refused: {where}"
        assert text.lstrip().startswith(REFUSAL_MARKS), where
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"refused but changed {changed}: {where}"


# -- the same rules through Slack button clicks ------------------------------------------------------------

SLACK_ROLES = {"manager": "UMGR2", "rep": "UREP1", "resource_admin": "URES1", "non-member": "UOUT"}
SLACK_SETUP = [
    ("UBOSS", "/team", "setup 华东一组"),
    ("UBOSS", "/team", "add <@UMGR2> manager"),
    ("UBOSS", "/team", "add <@UREP1> rep"),
    ("UBOSS", "/team", "add <@URES1> resource_admin"),
    ("UBOSS", "/team", "add <@UTGT> rep"),
    ("UBOSS", "/task", "add <@UTGT> 拜访ACME due 2026-12-05"),
    ("URES1", "/resource", "stock people 10"),
    ("UTGT", "/resource", "request people 2 for the expo"),
    ("UTGT", "/customer", "add 目标客户"),
]
SLACK_CLICKS = [  # (button value, roles allowed)
    ("/customer release 1", MANAGER),
    ("/task done 1", MANAGER),
    ("/task cancel 1", MANAGER),
    ("/resource approve 1", MANAGER),
    ("/resource reject 1 no", MANAGER),
    ("/team remove <@UTGT>", MANAGER),
    ("/agenda schedule weekly mon 09:30 60m", MANAGER),
    ("/resource stock people 3", RESOURCE_ADMIN),
    ("/honor <@UTGT> 月度销冠 2026-11", MANAGER),
    ("/assess confirm 2026-10 <@UTGT> score=80", MANAGER),
    ("/kpi weights sales=60 customers=40", MANAGER),
]


@pytest.mark.parametrize("value,allowed_roles", SLACK_CLICKS, ids=[v for v, _ in SLACK_CLICKS])
def test_button_clicks_are_checked_as_the_clicking_user(fake_slack, sqlite_url, clock, value, allowed_roles):
    h = SlackHarness(fake_slack, sqlite_url, clock)
    try:
        for user, command, text in SLACK_SETUP:
            answer = h.slash(command, text, user=user, channel="C1")
            assert answer.status == 200 and not answer.text.startswith(REFUSAL_MARKS), (command, text, answer.text)
        seen = []
        real = h.dispatcher.handle

        def handle(inv):
            reply = real(inv)
            seen.append(reply)
            return reply

        h.dispatcher.handle = handle
        # Refused roles first; the first allowed role's click does the step.
        for role in sorted(SLACK_ROLES, key=lambda r: r in allowed_roles):
            user = SLACK_ROLES[role]
            before = dump(h.engine)
            seen.clear()
            answer = h.click(value, user=user, channel="C1", response_token=f"{role}")
            assert answer.status == 200
            assert len(seen) == 1, (role, value)
            after = dump(h.engine)
            posted = h.fake.responses(role)
            assert posted and "Traceback" not in posted[-1].raw.decode(errors="replace")
            if role in allowed_roles:
                assert seen[0].ok and after != before, (role, value, seen[0].plain())
                break  # the step is done; later clicks would only find it done
            assert not seen[0].ok, (role, value, seen[0].plain())
            assert after == before, (role, value)
    finally:
        h.close()


def test_the_matrix_covers_every_privileged_keyword():
    """If a command module grows a new privileged keyword, this list must grow with it."""
    from commands import agenda, customers, resources, tasks, team

    covered = " ".join(cmd for cmd, _ in MATRIX.values())
    for word in set(team.KEYWORDS) - {"setup", "list"}:  # setup: anyone, in an unbound channel
        assert f"/team {word}" in covered, word
    for word in tasks.RULES:
        assert f"/task {word}" in covered, word
    for word in ("approve", "reject", "allocate", "stock", "cancel", "feedback"):
        assert f"/resource {word}" in covered, word
    assert resources.STOCK_ROLE == "resource_admin"
    assert "/goal set" in covered and "/goal adjust" in covered
    assert "/kpi metric add" in covered and importlib.import_module("commands.kpi.run").require_manager
    assert "/agenda schedule" in covered and agenda.require_manager
    for word in customers.RULES:
        assert f"/customer {word}" in covered or f"/{word}" in covered, word
    assert "/customer claim" in covered and "owner=@" in covered
    assert team.require_manager
    from commands import activities

    for word in set(activities.KEYWORDS) - {"list", "help"}:
        assert f"/activity {word}" in covered, word
    assert "/honor" in covered and importlib.import_module("commands.kudos.honor").require_manager
    assert "/kudos @" in covered
