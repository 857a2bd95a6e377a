"""The customer database's scheduled posts: the follow-up due DM, the pool's warning and release
(exactly once, never on a CN holiday, after a restart too) and the weekly pool digest.

Customers are written directly (the storage model); the scheduler's tick() runs the jobs with the
kinds reminders/customer_jobs.py registers, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from reminders import customer_jobs, schedule
from storage.db import make_engine
from storage.models import Customer, CustomerStageChange, FireLedger, FollowUp, OutboxMessage
from storage.uow import uow_factory
from tests.reminders.helpers import add_member, add_team, local, set_pref

KINDS = {k: schedule.DEFAULT_KINDS[k] for k in (customer_jobs.FOLLOWUP_KIND, customer_jobs.POOL_KIND,
                                                 customer_jobs.DIGEST_KIND)}


def add_customer(session, team, name: str, owner: str | None, active: datetime, *, stage: str = "contacted",
                 contact: str = "", amount: float | None = None) -> Customer:
    c = Customer(team_id=team.id, name=name, name_key=name.lower(), owner_id=owner, created_by=owner or "wang",
                 created_at=active, stage=stage, stage_changed_at=active, active_at=active, updated_at=active,
                 contact=contact, amount=amount)
    session.add(c)
    session.flush()
    return c


def add_followup(session, c: Customer, by: str, at: datetime, note: str, next_on: date | None) -> FollowUp:
    f = FollowUp(team_id=c.team_id, customer_id=c.id, by=by, how="call", note=note, at=at, next_on=next_on,
                 next_state="pending" if next_on else None)
    session.add(f)
    session.flush()
    return f


def _seed_pool(uow, *, lang: str = "zh"):
    """Team 华东销售 (CN calendar, Shanghai): li owns four customers whose pool clock ran out on
    different days around National Day 2026; one is won (never returns), one sits in the pool."""
    with uow() as u:
        session = u.session
        team = add_team(session, lang=lang)
        add_member(session, team, "wang", "manager")
        add_member(session, team, "li")
        add_member(session, team, "han")
        # active 2026-09-03 + 30 days = Sat 2026-10-03 (国庆): released Thu 2026-10-08, warned Mon 09-28.
        add_customer(session, team, "杭州云帆科技", "li", local("2026-09-03", "15:00"), contact="陈总")
        # active 2026-09-02 + 30 days = Fri 2026-10-02 (国庆): the same days.
        add_customer(session, team, "苏州明远", "li", local("2026-09-02", "10:00"))
        add_customer(session, team, "宁波海联", "li", local("2026-08-01", "10:00"), stage="won")
        add_customer(session, team, "上海老客户", None, local("2026-08-01", "10:00"))
        return team.id


def _tick(uow, now):
    report = schedule.tick(uow, now, kinds=KINDS, quiet_hours=None, worker_id="w1")
    assert not report.errors, report.errors
    return report


def _outbox(uow, prefix: str = "") -> list[tuple[str, str, dict]]:
    with uow() as u:
        return [(m.destination, m.dedupe_key, json.loads(m.payload))
                for m in u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if (m.dedupe_key or "").startswith(prefix)]


def _text(payload: dict) -> str:
    out = []
    for p in payload["parts"]:
        if p["type"] == "Text":
            out.append(p["text"])
        elif p["type"] == "Table":
            out += [" | ".join(r) for r in [p["header"], *p["rows"]]]
        elif p["type"] == "Fields":
            out += [f"{a}: {b}" for a, b in p["pairs"]]
    return "\n".join(out)


def _owners(uow) -> dict[str, str | None]:
    with uow() as u:
        return {c.name: c.owner_id for c in u.session.scalars(select(Customer))}


def _history(uow) -> list[tuple[str, str, str]]:
    with uow() as u:
        rows = u.session.execute(select(Customer.name, CustomerStageChange.by, CustomerStageChange.owner_id,
                                        CustomerStageChange.at)
                                 .join(Customer, Customer.id == CustomerStageChange.customer_id)
                                 .order_by(CustomerStageChange.id)).all()
        return [(n, b, o, at) for n, b, o, at in rows]


def test_kinds_are_nine_oclock_working_days_and_monday_digest():
    specs = {k: (v.default.rule, v.default.local_time, v.default.on_holiday) for k, v in KINDS.items()}
    assert specs == {"followup_due": ("FREQ=DAILY", "09:00", "skip"),
                     "customer_pool": ("FREQ=DAILY", "09:00", "skip"),
                     "pool_digest": ("FREQ=WEEKLY;BYDAY=MO", "09:00", "move")}


def test_pool_warns_then_releases_once_never_on_a_holiday(uow):
    _seed_pool(uow)
    _tick(uow, local("2026-09-27", "09:00"))  # Sunday: no occurrence
    assert _outbox(uow) == []
    _tick(uow, local("2026-09-28", "09:00"))  # Monday, 3 working days before 10-03 (Sep 28, 29, 30)
    dms = _outbox(uow, "pool:")
    assert [(d, k) for d, k, _ in dms] == [("user:li", "pool:1:li:2026-09-28")]
    text = _text(dms[0][2])
    assert "2 个客户快30天没有跟进了" in text and "杭州云帆科技" in text and "苏州明远" in text
    assert "2026-10-08 周四" in text  # the first working day after National Day
    assert "宁波海联" not in text and "上海老客户" not in text
    assert "/跟进 2 电话" in text
    for day in ("2026-09-29", "2026-09-30", *(f"2026-10-0{d}" for d in range(1, 8))):
        _tick(uow, local(day, "09:00"))
        _tick(uow, local(day, "18:00"))
    # Warned once; nothing released during the holiday although 杭州云帆 was due on 10-03.
    assert len(_outbox(uow, "pool:")) == 1
    assert _owners(uow)["杭州云帆科技"] == "li" and _history(uow) == []
    _tick(uow, local("2026-10-08", "09:00"))
    owners = _owners(uow)
    assert owners == {"杭州云帆科技": None, "苏州明远": None, "宁波海联": "li", "上海老客户": None}
    hist = _history(uow)
    assert [(n, b, o) for n, b, o, _ in hist] == [("杭州云帆科技", "teambot", "li"), ("苏州明远", "teambot", "li")]
    assert all(at == local("2026-10-08", "09:00") for *_, at in hist)
    with uow() as u:
        c = u.session.scalars(select(Customer).where(Customer.name == "杭州云帆科技")).one()
        assert (c.last_owner_id, c.release_reason, c.pool_warned_at) == ("li", "stale", None)
        assert c.released_at == local("2026-10-08", "09:00")
    dm = _outbox(uow, "pool:1:li:2026-10-08")
    assert len(dm) == 1 and "2 个客户超过30天未跟进，今天已退回公海" in _text(dm[0][2])
    # Later ticks the same day and the next days change nothing.
    for now in (local("2026-10-08", "09:30"), local("2026-10-09", "09:00"), local("2026-10-12", "09:00")):
        _tick(uow, now)
    assert len(_history(uow)) == 2


def test_release_after_a_restart_is_caught_up_once(db_url):
    engine = make_engine(db_url)
    uow = uow_factory(engine)
    _seed_pool(uow)
    _tick(uow, local("2026-10-07", "20:00"))
    engine.dispose()
    # The process was down over 09:00 and comes back at 11:30, within the grace: released once then.
    engine = make_engine(db_url)
    uow = uow_factory(engine)
    _tick(uow, local("2026-10-08", "11:30"))
    assert _owners(uow)["杭州云帆科技"] is None
    engine.dispose()
    # Another restart, the same day: the ledger says it fired; nothing twice.
    engine = make_engine(db_url)
    uow = uow_factory(engine)
    report = _tick(uow, local("2026-10-08", "12:00"))
    assert report.fired == [] and len(_history(uow)) == 2
    with uow() as u:
        led = [(r.kind, r.status) for r in u.session.scalars(select(FireLedger).where(
            FireLedger.kind == "customer_pool"))]
    assert led.count(("customer_pool", "fired")) == 1
    engine.dispose()


def test_a_follow_up_or_new_owner_keeps_the_customer(uow):
    team_id = _seed_pool(uow)
    _tick(uow, local("2026-09-28", "09:00"))
    with uow() as u:
        c = u.session.scalars(select(Customer).where(Customer.name == "杭州云帆科技")).one()
        c.active_at, c.last_followup_at, c.pool_warned_at = (local("2026-09-29", "10:00"),) * 2 + (None,)
        u.session.add(c)
    _tick(uow, local("2026-10-08", "09:00"))
    assert _owners(uow) == {"杭州云帆科技": "li", "苏州明远": None, "宁波海联": "li", "上海老客户": None}
    assert team_id == 1


def test_away_owner_is_not_warned_but_the_rule_still_applies(uow):
    _seed_pool(uow)
    with uow() as u:
        set_pref(u.session, "li", away_until=local("2026-10-20", "00:00"))
    _tick(uow, local("2026-09-28", "09:00"))
    _tick(uow, local("2026-10-08", "09:00"))
    assert _outbox(uow, "pool:") == []
    assert _owners(uow)["杭州云帆科技"] is None


def test_followup_due_dm_at_nine_on_the_working_day_once(uow):
    with uow() as u:
        session = u.session
        team = add_team(session, lang="zh")
        add_member(session, team, "wang", "manager")
        add_member(session, team, "li")
        add_member(session, team, "amy")
        set_pref(session, "amy", lang="en")
        yf = add_customer(session, team, "杭州云帆科技", "li", local("2026-09-20", "10:00"), contact="陈总")
        add_followup(session, yf, "li", local("2026-09-21", "10:00"), "初次电话", None)
        # next date in the holiday: reminded on Thu 10-08.
        add_followup(session, yf, "li", local("2026-09-29", "16:00"), "确认了采购预算", date(2026, 10, 3))
        acme = add_customer(session, team, "ACME", "amy", local("2026-09-20", "10:00"))
        add_followup(session, acme, "amy", local("2026-09-30", "10:00"), "sent the quote", date(2026, 10, 9))
        pooled = add_customer(session, team, "公海客户", None, local("2026-09-20", "10:00"))
        add_followup(session, pooled, "li", local("2026-09-30", "10:00"), "no answer", date(2026, 10, 8))
    for day in ("2026-10-03", "2026-10-05", "2026-10-07"):
        _tick(uow, local(day, "09:00"))
    assert _outbox(uow, "followup:") == []
    _tick(uow, local("2026-10-08", "08:59"))
    assert _outbox(uow, "followup:") == []
    _tick(uow, local("2026-10-08", "09:00"))
    _tick(uow, local("2026-10-08", "09:30"))
    dms = _outbox(uow, "followup:")
    assert [(d, k) for d, k, _ in dms] == [("user:li", "followup:2:due:2026-10-08")]
    payload = dms[0][2]
    text = _text(payload)
    assert "今天要跟进客户 *#1 杭州云帆科技*" in text
    assert "联系人: 陈总" in text and "确认了采购预算" in text and "原定日期: 2026-10-03 周六" in text
    buttons = [b["command"] for p in payload["parts"] if p["type"] == "Actions" for b in p["buttons"]]
    assert buttons == ["/followup 1 ", "/followup snooze 1", "/customer release 1"]
    _tick(uow, local("2026-10-09", "09:00"))
    dms = _outbox(uow, "followup:")
    assert [(d, k) for d, k, _ in dms][1:] == [("user:amy", "followup:3:due:2026-10-09")]
    text = _text(dms[1][2])
    assert "Follow up today: *#2 ACME*" in text and "sent the quote" in text and "Planned for" not in text
    assert [b["label"] for p in dms[1][2]["parts"] if p["type"] == "Actions" for b in p["buttons"]] == [
        "Log follow-up", "Snooze to next working day", "Release to pool"]


def test_snoozed_followup_is_reminded_again_the_next_working_day(uow):
    with uow() as u:
        session = u.session
        team = add_team(session)
        add_member(session, team, "li")
        c = add_customer(session, team, "杭州云帆科技", "li", local("2026-10-08", "10:00"))
        f = add_followup(session, c, "li", local("2026-10-08", "10:00"), "报价", date(2026, 10, 9))
        fid = f.id
    _tick(uow, local("2026-10-09", "09:00"))
    with uow() as u:  # what the snooze button does: next working day, still pending
        f = u.session.get(FollowUp, fid)
        f.next_on = date(2026, 10, 10)  # the make-up Saturday is a working day
        u.session.add(f)
    _tick(uow, local("2026-10-10", "09:00"))
    assert [k for _, k, _ in _outbox(uow, "followup:")] == ["followup:1:due:2026-10-09",
                                                          "followup:1:due:2026-10-10"]


def test_away_owner_gets_no_followup_dm(uow):
    with uow() as u:
        session = u.session
        team = add_team(session)
        add_member(session, team, "li")
        set_pref(session, "li", away_until=local("2026-10-10", "00:00"))
        c = add_customer(session, team, "杭州云帆科技", "li", local("2026-10-08", "10:00"))
        add_followup(session, c, "li", local("2026-10-08", "10:00"), "报价", date(2026, 10, 9))
    _tick(uow, local("2026-10-09", "09:00"))
    assert _outbox(uow, "followup:") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_weekly_pool_digest_lists_last_weeks_returns_and_how_to_claim(uow, lang):
    _seed_pool(uow, lang=lang)
    for day in ("2026-10-08", "2026-10-12"):
        _tick(uow, local(day, "09:00"))
    posts = _outbox(uow, "team:")
    # Monday 10-05 was a holiday: its digest went out on Thu 10-08 (after that day's release).
    assert [(d, k) for d, k, _ in posts] == [("channel:C1", "team:1:pool_digest:2026-10-05"),
                                             ("channel:C1", "team:1:pool_digest:2026-10-12")]
    text = _text(posts[1][2])
    if lang == "zh":
        assert "华东销售 公海周报*：公海中现有 3 个客户" in text
        assert "上周（2026-10-05 周一起）退回公海 2 个" in text
        assert "认领：/客户 认领" in text
    else:
        assert "pool digest*: 3 customer(s) in the pool" in text
        assert "Returned to the pool last week (from" in text and ": 2" in text
        assert "Claim one: /customer claim" in text
    assert "杭州云帆科技" in text and "上海老客户" in text


def test_pool_digest_is_silent_when_the_pool_is_empty(uow):
    with uow() as u:
        team = add_team(u.session)
        add_member(u.session, team, "li")
    _tick(uow, local("2026-10-12", "09:00"))
    assert _outbox(uow) == []


@pytest.mark.slow
def test_three_replicas_release_each_customer_once(db_url, tmp_path):
    """Three scheduler processes race through National Day's end: every stale customer is released
    once (one history row, version bumped once), each owner gets one DM, the ledger one claim."""
    import multiprocessing
    from collections import Counter

    from tests.reminders.replica import replica_main

    uow = uow_factory(make_engine(db_url))
    with uow() as u:
        session = u.session
        team = add_team(session)
        owners = ("li", "han", "zhao")
        for owner in owners:
            add_member(session, team, owner)
        for i in range(30):
            add_customer(session, team, f"客户{i:02d}", owners[i % 3], local("2026-09-03", "10:00") - timedelta(days=i % 5))
        add_customer(session, team, "保留客户", "li", local("2026-09-20", "10:00"))
    start, end = local("2026-10-08", "08:00"), local("2026-10-08", "10:00")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    outs = [tmp_path / f"r{n}.json" for n in range(3)]
    procs = [ctx.Process(target=replica_main, args=(db_url, f"replica-{n}", start.isoformat(), end.isoformat(),
                                                     600, barrier, str(outs[n]))) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    reports = [json.loads(o.read_text()) for o in outs]
    with uow() as u:
        session = u.session
        hist = Counter(x.customer_id for x in session.scalars(select(CustomerStageChange)))
        released = {c.id: c.version for c in session.scalars(select(Customer).where(Customer.owner_id.is_(None)))}
        kept = session.scalars(select(Customer).where(Customer.owner_id.is_not(None))).all()
        claims = [r for r in session.scalars(select(FireLedger).where(FireLedger.kind == "customer_pool"))]
        dms = [m.dedupe_key for m in session.scalars(select(OutboxMessage)) if (m.dedupe_key or "").startswith("pool:")]
    assert len(released) == 30 and set(released.values()) == {2}
    assert set(hist) == set(released) and set(hist.values()) == {1}
    assert [c.name for c in kept] == ["保留客户"]
    assert len(claims) == 1
    assert sorted(dms) == [f"pool:1:{o}:2026-10-08" for o in sorted(owners)]
    delivered = Counter(d["key"] for r in reports for d in r["delivered"] if d["key"].startswith("pool:"))
    assert set(delivered) == set(dms) and set(delivered.values()) == {1}


def test_the_pool_job_run_twice_releases_nothing_twice(uow):
    from commands.core.workdays import calendar_for
    from reminders.jobs import JobRun
    from storage.models import Team

    _seed_pool(uow)
    slot = local("2026-10-08", "09:00")
    outs = []
    for _ in range(2):
        with uow() as u:
            team = u.session.scalars(select(Team)).one()
            run = JobRun(team=team, kind="customer_pool", slot=slot, fire_at=slot, now=slot, calendar=calendar_for("CN"))
            outs.append(customer_jobs.customer_pool(u.session, run))
    assert [m.meta["released"] for m in outs[0]] == [[1, 2]] and outs[1] == []
    assert len(_history(uow)) == 2
    with uow() as u:
        assert {c.version for c in u.session.scalars(select(Customer).where(Customer.owner_id.is_(None)))} == {1, 2}
