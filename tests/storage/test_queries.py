"""storage/queries.py: SQL aggregations equal plain Python over the same rows, on SQLite and PostgreSQL."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage import queries
from storage.models import Metric, ProgressEntry, ProgressValue, Team

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _seed(session, rng):
    team = Team(platform="console", channel_id="C", name="T", created_by="w", created_at=T0)
    other = Team(platform="console", channel_id="D", name="O", created_by="w", created_at=T0)
    session.add_all([team, other])
    session.flush()
    metrics = {}
    for tid in (team.id, other.id):
        for code, unit, agg in (("sales", "CNY", "sum"), ("csat", "%", "average"), ("pipe", "CNY", "last"),
                                ("nps", "%", "last")):
            m = Metric(team_id=tid, code=code, name_zh=code, name_en=code, unit=unit, aggregation=agg)
            session.add(m)
            session.flush()
            metrics[(tid, code)] = m
    rows = []
    for i in range(600):
        tid = team.id if rng.random() < 0.8 else other.id
        user = rng.choice(["a", "b", "c"])
        # coarse times, so several values share a timestamp (ties go to the later row)
        at = T0 + timedelta(hours=rng.randrange(0, 24 * 40, 6))
        e = ProgressEntry(team_id=tid, user_id=user, note="n", is_blocker=rng.random() < 0.1, created_at=at)
        session.add(e)
        session.flush()
        for code in rng.sample(["sales", "csat", "pipe", "nps"], rng.randint(1, 3)):
            v = float(rng.randint(1, 100) * (1000 if code in ("sales", "pipe") else 1))
            pv = ProgressValue(entry_id=e.id, team_id=tid, metric_id=metrics[(tid, code)].id, user_id=user,
                               value=v, created_at=at)
            session.add(pv)
            session.flush()
            rows.append((tid, code, user, v, at, pv.id))
    return team, metrics, rows


def _expected(rows, tid, code, agg, unit, a, b, user=None):
    vals = [r for r in rows if r[0] == tid and r[1] == code and a <= r[4] < b and (user is None or r[2] == user)]
    if not vals:
        return None
    if agg == "sum":
        return sum(r[3] for r in vals)
    if agg == "average":
        return sum(r[3] for r in vals) / len(vals)
    latest = {}
    for r in vals:
        if r[2] not in latest or (r[4], r[5]) > (latest[r[2]][4], latest[r[2]][5]):
            latest[r[2]] = r
    xs = [r[3] for r in latest.values()]
    return sum(xs) / len(xs) if unit == "%" else sum(xs)


def test_aggregations_match_python(uow):
    rng = random.Random(5)
    with uow() as u:
        session = u.session
        team, metrics, rows = _seed(session, rng)
        mine = [m for (tid, _), m in metrics.items() if tid == team.id]
        for a, b in ((T0, T0 + timedelta(days=40)), (T0 + timedelta(days=3), T0 + timedelta(days=17)),
                     (T0 + timedelta(days=50), T0 + timedelta(days=60))):
            got = queries.actuals(session, team.id, mine, a, b)
            by_user = queries.actuals_by_user(session, team.id, mine, a, b)
            for m in mine:
                exp = _expected(rows, team.id, m.code, m.aggregation, m.unit, a, b)
                assert got.get(m.id) == (None if exp is None else pytest.approx(exp)), m.code
                for user in ("a", "b", "c"):
                    e = _expected(rows, team.id, m.code, m.aggregation, m.unit, a, b, user)
                    g = by_user.get(user, {}).get(m.id)
                    assert (g is None and e is None) or abs(g - e) < 1e-6, (m.code, user, g, e)
                    one = queries.actuals(session, team.id, [m], a, b, user_id=user).get(m.id)
                    assert (one is None and e is None) or abs(one - e) < 1e-6
        a, b = T0, T0 + timedelta(days=40)
        sales = metrics[(team.id, "sales")]
        top = queries.biggest(session, team.id, sales.id, a, b, limit=3)
        exp = sorted((r for r in rows if r[0] == team.id and r[1] == "sales"), key=lambda r: (-r[3], r[4], r[5]))[:3]
        assert [(d.user_id, d.value, d.created_at) for d in top] == [(r[2], r[3], r[4]) for r in exp]
        act = queries.activity(session, team.id, a, b)
        assert sum(x.entries for x in act.values()) == session.execute(text(
            "select count(*) from progress_entry where team_id = :t"), {"t": team.id}).scalar()


def test_kpi_queries_use_the_covering_index(engine):
    """Every aggregation is an index range scan bounded by the time range -- team-wide ones on the
    covering index ix_value_team_time_cover, a person's too (SQLite's plan; PostgreSQL picks plans
    by statistics and the benchmark shows its times)."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    from storage.models import Metric as M

    plans: list[str] = []
    metrics = [M(id=i, team_id=1, code=c, name_zh=c, name_en=c, unit="CNY", aggregation=a)
               for i, (c, a) in enumerate((("s", "sum"), ("a", "average"), ("l", "last")), start=1)]

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "progress_value" in statement:
            plans.append(" | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                       parameters).fetchall()))

    from sqlmodel import Session
    event.listen(engine, "before_cursor_execute", explain)
    try:
        with Session(engine) as session:
            queries.actuals(session, 1, metrics, T0, T0 + timedelta(days=30))
            queries.actuals(session, 1, metrics, T0, T0 + timedelta(days=30), user_id="a")
            queries.actuals_by_user(session, 1, metrics, T0, T0 + timedelta(days=30))
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    assert len(plans) == 6
    for plan in plans:
        assert "created_at>? AND created_at<?" in plan and "SCAN progress_value" not in plan, plan
    assert all("USING COVERING INDEX ix_value_team_time_cover (team_id=? AND created_at>? AND created_at<?)" in p
               for p in plans), plans
