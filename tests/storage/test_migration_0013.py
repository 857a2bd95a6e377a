"""Migration 0013 (assessments) adds a column to `metric` and a table: every progress value that
points at a metric survives up, down and up again on both engines (a batch copy of `metric` on
SQLite would drop the old table and cascade-delete them), and a weight and an assessment can be
stored after it."""
from __future__ import annotations

from sqlalchemy import text

from storage import migrate
from tests.storage.test_migration_0006 import AT, blank_engine, downgrade  # noqa: F401 (fixture)


def _rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as c:
        return {t: [tuple(r) for r in c.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in ("team", "progress_entry", "progress_value", "goal")}


def test_0013_keeps_every_value_of_every_metric(blank_engine):  # noqa: F811
    engine = blank_engine
    migrate.upgrade(engine, "0012")
    with engine.begin() as c:
        team = c.execute(text("INSERT INTO team (platform, channel_id, name, tz, calendar, lang, created_by, "
                              "created_at) VALUES ('slack', 'C1', 'East', 'Asia/Shanghai', 'CN', 'zh', 'U1', :at) "
                              "RETURNING id"), {"at": AT}).scalar()
        metric = c.execute(text("INSERT INTO metric (team_id, code, name_zh, name_en, unit, aggregation, aliases) "
                                "VALUES (:t, 'sales', '销售额', 'Sales', 'CNY', 'sum', '') RETURNING id"),
                           {"t": team}).scalar()
        entry = c.execute(text("INSERT INTO progress_entry (team_id, user_id, note, is_blocker, created_at) "
                               "VALUES (:t, 'U1', 'signed ACME', false, :at) RETURNING id"),
                          {"t": team, "at": AT}).scalar()
        c.execute(text("INSERT INTO progress_value (entry_id, team_id, metric_id, user_id, value, created_at) "
                       "VALUES (:e, :t, :m, 'U1', 500000, :at)"), {"e": entry, "t": team, "m": metric, "at": AT})
        c.execute(text("INSERT INTO goal (team_id, metric_id, user_id, target, kind, recurring, basis, status, "
                       "created_by, created_at, updated_at) VALUES (:t, :m, 'U1', 100, 'month', true, 'absolute', "
                       "'active', 'U1', :at, :at)"), {"t": team, "m": metric, "at": AT})
    before = _rows(engine)
    assert before["progress_value"] and before["goal"]

    migrate.upgrade(engine)
    assert not migrate.pending(engine)
    assert _rows(engine) == before
    with engine.begin() as c:
        c.execute(text("UPDATE metric SET weight = 60 WHERE id = :m"), {"m": metric})
        c.execute(text("INSERT INTO assessment (team_id, user_id, period, kind, computed, band, sheet, comment, "
                       "confirmed_by, confirmed_at, status, response) VALUES (:t, 'U1', '2026-11', 'month', 88, 'B', "
                       "'{}', '', 'U2', :at, 'confirmed', '')"), {"t": team, "at": AT})
        assert c.execute(text("SELECT weight FROM metric")).scalar() == 60

    downgrade(engine, "0012")
    assert _rows(engine) == before
    migrate.upgrade(engine)
    assert _rows(engine) == before
