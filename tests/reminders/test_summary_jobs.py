"""Scheduled goal/KPI posts: their numbers (against plain Python over generated data), and their
delivery through the delivery engine into a fake Slack channel around National Day 2026.

CN calendar facts: Oct 1-7 2026 are the National Day holiday, Thu Oct 8 is the first working day,
Sat Oct 10 is a make-up working day (调休)."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.core import fmt, parsing
from commands.core.clock import FixedClock
from commands.core.metrics import seed_metrics, team_metrics
from commands.core.reply import Image, Table, reply_from_dict
from reminders import outbox, schedule, summary_jobs
from reminders.jobs import JobRun
from commands.core.workdays import calendar_for
from storage.models import Activity, Goal, Member, OutboxMessage, ResourceRequest, Team
from tests.commands import kpi_data as K
from tests.kit.fake_slack import FakeSlack
from tests.kit.fixtures import payload_text

KINDS = {p.name: schedule.Kind(p.name, p.job, schedule.ScheduleSpec(p.rule, p.local_time, p.on_holiday))
         for p in summary_jobs.SCHEDULES}


@pytest.fixture(autouse=True)
def _charts_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAMBOT_CHART_DIR", str(tmp_path / "charts"))


def _run(team: Team, kind: str, slot: str, fire: str | None = None) -> JobRun:
    d, hm = slot.split()
    slot_at = K.local(d, hm)
    fire_at = K.local(*(fire or slot).split())
    return JobRun(team=team, kind=kind, slot=slot_at, fire_at=fire_at, now=fire_at, calendar=calendar_for("CN"))


def _money(v, code):
    return "—" if v is None else fmt.amount(v, K.AGG[code][1], "zh")


def _pct(x):
    return "—" if x is None else f"{fmt.number(round(x, 1))}%"


def _signed(x):
    return "—" if x is None else ("+" if x > 0 else "") + _pct(x)


def _rel(a, b, code="sales"):
    if a is None or b is None:
        return None
    if K.AGG[code][1] == "%":  # a percentage changes in percentage points
        return a - b
    return None if b == 0 else 100.0 * (a - b) / abs(b)


def _change(x, code):
    if x is None or K.AGG[code][1] != "%":
        return _signed(x)
    return ("+" if x > 0 else "") + fmt.number(round(x, 1)) + "个百分点"


NAMES = {"sales": "销售额", "customers": "新客户", "csat": "客户满意度", "event_participants": "活动参与人数",
         "visits": "拜访", "pipeline": "管道"}


def _check_kpi_table(table: Table, data, cur, prev, ly, targets=None):
    rows = {r[0]: r for r in table.rows}
    assert set(rows) == set(NAMES.values())
    for code, name in NAMES.items():
        a = K.actual(data, code, *cur)
        p = K.actual(data, code, *prev)
        y = K.actual(data, code, *ly)
        tg = (targets or {}).get(code)
        att = None if a is None or tg is None else 100.0 * a / tg
        assert rows[name][1:8] == (_money(a, code), _money(tg, code), _pct(att), _money(p, code),
                                   _change(_rel(a, p, code), code), _money(y, code),
                                   _change(_rel(a, y, code), code)), (code, rows[name])


def _tables(reply) -> list[Table]:
    return [p for p in reply.parts if isinstance(p, Table)]


def test_monthly_summary_numbers_leaderboard_and_chart(uow):
    clock = FixedClock(K.NOW)
    _chat, data, team_id = K.world(uow, clock)
    sep = K.month(2026, 9)
    with uow() as u:
        session = u.session
        team = session.get(Team, team_id)
        metrics = {m.code: m for m in team_metrics(session, team_id)}
        # targets for September, as if set in August: the team's sales, and two members'
        for user, target in ((None, 3_000_000.0), ("李雷", 500_000.0), ("alice", 10_000_000.0)):
            session.add(Goal(team_id=team_id, metric_id=metrics["sales"].id, user_id=user, target=target, kind="month",
                       period_start=sep[0], period_end=sep[1], created_by="wang", created_at=K.local("2026-08-20"),
                       updated_at=K.local("2026-08-20")))
        session.flush()
        # Oct 1 09:00 slot, moved to Oct 8 09:00 by National Day
        out = summary_jobs.kpi_summary_monthly(session, _run(team, "kpi_summary_monthly", "2026-10-01 09:00",
                                                       "2026-10-08 09:00"))
    assert len(out) == 1
    msg = out[0]
    assert msg.destination == f"channel:{team.channel_id}" and msg.dedupe_key == f"team:{team_id}:kpi_summary_monthly:2026-09"
    reply = msg.reply
    assert not reply.private and "绩效总结" in reply.summary and "2026年9月" in reply.summary
    kpi_table, board = _tables(reply)
    _check_kpi_table(kpi_table, data, sep, K.month(2026, 8), K.month(2025, 9), {"sales": 3_000_000.0})

    # The sales leaderboard lists the people who sell: the manager only with sales or a target of their own.
    per = {u: K.actual(data, "sales", *sep, u) for u in ("wang", "李雷", "韩梅梅", "alice")}
    per = {u: v for u, v in per.items() if u != "wang" or v}
    ranked = sorted(per, key=lambda u: (-per[u], u))
    targets = {"李雷": 500_000.0, "alice": 10_000_000.0}
    expected = []
    for i, u in enumerate(ranked):
        rank = ("🥇", "🥈", "🥉")[i] if i < 3 and per[u] > 0 else f"{i + 1}."
        tg = targets.get(u)
        expected.append((rank, f"<@{u}>", _money(per[u], "sales"), _money(tg, "sales"),
                         _pct(None if tg is None else 100 * per[u] / tg)))
    assert list(board.rows) == expected
    text = reply.plain()
    assert f"本期之星：<@{ranked[0]}>" in text
    assert ("达成目标：<@李雷>" in text) == (per["李雷"] >= 500_000)
    images = [p for p in reply.parts if isinstance(p, Image)]
    assert len(images) == 1
    png = Path(images[0].path).read_bytes()
    assert png.startswith(b"\x89PNG") and msg.meta["chart"] == images[0].path


def test_weekly_summary_stops_at_the_occurrence_and_the_agenda(uow):
    clock = FixedClock(K.NOW)
    _chat, data, team_id = K.world(uow, clock)
    with uow() as u:
        team = u.session.get(Team, team_id)
        run = _run(team, "kpi_summary_weekly", "2026-10-16 17:00")
        weekly = summary_jobs.kpi_summary_weekly(u.session, run)
        agenda = summary_jobs.weekly_agenda(u.session, _run(team, "weekly_agenda", "2026-10-19 09:00"))
    until = K.local("2026-10-16", "17:00") + timedelta(microseconds=1)
    # The week is in progress on Friday 17:00: like for like, its 5 working days so far against the first 5
    # of the week before (which had only 3 after National Day: all of it) and of the same week last year.
    _check_kpi_table(_tables(weekly[0].reply)[0], data, (K.local("2026-10-12"), until),
                     (K.local("2026-10-05"), K.local("2026-10-12")), (K.local("2025-10-13"), K.local("2025-10-18")))
    assert weekly[0].dedupe_key == f"team:{team_id}:kpi_summary_weekly:2026-W42"

    (msg,) = agenda
    assert msg.dedupe_key == f"team:{team_id}:weekly_agenda:2026-10-19" and not msg.reply.private
    assert sum(msg.meta["boxes"]) == 60
    since, until = K.local("2026-10-12", "09:30"), K.local("2026-10-19", "09:00") + timedelta(microseconds=1)
    table = K.table_after(msg.reply, "进展汇报")
    rows = K.rows_by_first(table)
    for user in ("李雷", "韩梅梅", "alice"):
        entries = [e for e in data.entries if e.user == user and since <= e.at < until]
        assert rows[f"<@{user}>"][1:3] == (str(len(entries)), str(sum(e.blocker for e in entries)))
        col = table.header.index("销售额")
        assert rows[f"<@{user}>"][col] == _money(K.actual(data, "sales", since, until, user), "sales")


def test_nothing_to_say_posts_nothing(uow):
    with uow() as u:
        session = u.session
        team = Team(platform="slack", channel_id="C9", name="空团队", created_by="w", created_at=K.local("2026-01-01"))
        session.add(team)
        session.flush()
        seed_metrics(session, team.id)
        assert summary_jobs.kpi_summary_monthly(session, _run(team, "kpi_summary_monthly", "2026-10-01 09:00")) == []
        assert summary_jobs.goal_review(session, _run(team, "goal_review", "2026-10-01 10:00")) == []
        assert len(summary_jobs.weekly_agenda(session, _run(team, "weekly_agenda", "2026-10-12 09:00"))) == 1


# -- delivery through the engine into a fake Slack channel ---------------------------------------------


def _seed_slack_team(uow):
    with uow() as u:
        session = u.session
        team = Team(platform="slack", channel_id="C1", name="华东一组", tz="Asia/Shanghai", calendar="CN", lang="zh",
                    created_by="UMGR", created_at=K.local("2026-09-30"))
        session.add(team)
        session.flush()
        seed_metrics(session, team.id)
        session.add(Member(team_id=team.id, user_id="UMGR", display_name="王经理", role="manager", joined_at=team.created_at))
        for uid, name in (("U1", "李雷"), ("U2", "韩梅梅"), ("U3", "alice")):
            session.add(Member(team_id=team.id, user_id=uid, display_name=name, role="rep", joined_at=team.created_at))
        session.flush()
        data = K.generate(session, team, start=date(2026, 8, 1), end=K.local("2026-10-12", "12:00"), seed=11,
                          users=("U1", "U2", "U3"))
        m = {x.code: x for x in team_metrics(session, team.id)}
        sep = K.month(2026, 9)
        session.add(Goal(team_id=team.id, metric_id=m["sales"].id, user_id="U1", target=100_000.0, kind="month",
                   period_start=sep[0], period_end=sep[1], created_by="UMGR", created_at=K.local("2026-08-20"),
                   updated_at=K.local("2026-08-20")))
        # the team's annual goal, far above what the year brings: the quarterly review suggests lowering it
        session.add(Goal(team_id=team.id, metric_id=m["sales"].id, user_id=None, target=1e12, kind="year",
                   period_start=K.local("2026-01-01"), period_end=K.local("2027-01-01"), created_by="UMGR",
                   created_at=K.local("2026-01-05"), updated_at=K.local("2026-01-05")))
        # two activities in September, the second compared with the first; a budget that brought sales in Q3
        session.add(Activity(team_id=team.id, name="秋季沙龙", day=date(2026, 9, 5), budget=20_000, participants=100,
                       leads=10, created_by="UMGR", created_at=K.local("2026-09-01")))
        session.add(Activity(team_id=team.id, name="客户答谢会", day=date(2026, 9, 19), participants=130,
                       created_by="UMGR", created_at=K.local("2026-09-01")))
        session.add(ResourceRequest(team_id=team.id, requester="U2", type="budget", amount=20_000, allocated_amount=20_000,
                              purpose="秋季沙龙", state="closed", return_sales=170_000.0, return_customers=4,
                              created_at=K.local("2026-08-25"), updated_at=K.local("2026-09-20")))
        return team.id, data


def test_agenda_and_monthly_summary_arrive_once_on_the_first_working_day_after_national_day(uow):
    from bot.slack.sender import SlackSender

    team_id, data = _seed_slack_team(uow)
    clock = FixedClock(K.local("2026-10-01", "00:00"))
    arrivals: list[tuple[str, str, str]] = []  # (local time, channel, text)
    with FakeSlack() as fake:
        sender = SlackSender("xoxb-test", base_url=fake.url)

        def step(worker: str) -> None:
            base = clock.now()
            schedule.tick(uow, base, worker_id=worker, kinds=KINDS)
            at = base.astimezone(K.SHANGHAI).strftime("%m-%d %H:%M")
            for _ in range(20):  # Slack pacing: one message per second per channel
                before = len(fake.calls("chat.postMessage"))
                stats = outbox.drain(uow, sender, clock, worker)
                for call in fake.calls("chat.postMessage")[before:]:
                    arrivals.append((at, call.params.get("channel"), payload_text(call.params)))
                if not stats.claimed:
                    break
                clock.advance(seconds=1)
            clock.set(base)

        end = K.local("2026-10-12", "12:00")
        while clock.now() <= end:
            step("replica-a")
            clock.advance(minutes=15)
        # a restart and a second replica replaying the same days send nothing more
        clock.set(K.local("2026-10-08", "10:30"))
        step("replica-b")
        clock.set(end)
        step("replica-b")
        uploads = fake.calls("files.completeUploadExternal")

    assert all(ch == "C1" for _, ch, _ in arrivals)
    agendas = [(at, text) for at, _, text in arrivals if "周会议程" in text]
    monthly = [(at, text) for at, _, text in arrivals if "绩效总结" in text and "2026年9月" in text]
    quarterly = [(at, text) for at, _, text in arrivals if "绩效总结" in text and "2026年第三季度" in text]
    weekly = [(at, text) for at, _, text in arrivals if "绩效总结" in text and "起的一周" in text]
    reviews = [(at, text) for at, _, text in arrivals if "*目标回顾*" in text and "个目标中达成" in text]
    quarter_reviews = [(at, text) for at, _, text in arrivals if "季度目标回顾" in text]
    assert [at for at, _ in agendas] == ["10-08 09:00", "10-12 09:00"], arrivals
    assert [at for at, _ in monthly] == ["10-08 09:00"]
    assert [at for at, _ in quarterly] == ["10-08 09:15"]  # due 09:05: the first tick after it
    assert [at for at, _ in reviews] == ["10-08 10:00"]
    # the quarterly goal review: Oct 1 10:00, moved to the first working day, once for all replicas
    assert [at for at, _ in quarter_reviews] == ["10-08 10:00"]
    assert "2026年第三季度" in quarter_reviews[0][1] and "年度目标进度" in quarter_reviews[0][1]
    assert "/goal adjust 2 " in quarter_reviews[0][1]  # the annual goal: far behind, lower it
    # the monthly summary lists September's activities, each against the previous one
    assert "本月市场活动" in monthly[0][1] and "客户答谢会" in monthly[0][1] and "+30%" in monthly[0][1]
    # the quarterly summary shows what the resources brought
    assert "资源投入产出" in quarterly[0][1] and "1 : 8.5" in quarterly[0][1]
    # Fri Oct 2 (holiday) -> Thu Oct 8 17:00; Fri Oct 9 as usual
    assert [at for at, _ in weekly] == ["10-08 17:00", "10-09 17:00"]
    assert len(arrivals) == 8
    # the agenda of Oct 8 covers the meeting moved from Mon Oct 5 and progress since Mon Sep 28
    assert "2026-10-08 周四 09:30" in agendas[0][1] and "2026-09-28 周一 09:30" in agendas[0][1]
    met = K.actual(data, "sales", *K.month(2026, 9), "U1") >= 100_000
    assert ("1 个目标中达成 1 个" if met else "1 个目标中达成 0 个") in reviews[0][1]

    with uow() as u:
        rows = list(u.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows] == ["sent"] * 8
    charts = {r.dedupe_key: [p for p in reply_from_dict(json.loads(r.payload)).parts
                             if isinstance(p, Image)] for r in rows}
    monthly_images = charts[f"team:{team_id}:kpi_summary_monthly:2026-09"]
    assert len(monthly_images) == 1 and Path(monthly_images[0].path).read_bytes()[:4] == b"\x89PNG"
    assert uploads, "the charts were not uploaded to the channel"
    summaries = [r for r in rows if "kpi_summary" in (r.dedupe_key or "")]
    assert len(uploads) == len(summaries)
    assert all(c.params.get("channel_id") == "C1" for c in uploads)


def test_period_helpers_agree_with_the_calendar():
    # the facts the delivery test relies on
    cal = calendar_for("CN")
    assert [d for d in (date(2026, 10, x) for x in range(1, 13)) if cal.is_workday(d)] == [
        date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)]
    assert parsing.period_of("week", date(2026, 10, 2), K.SHANGHAI).label == "2026-W40"
