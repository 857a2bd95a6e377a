"""Migration 0006 (lean write path) swaps indexes only: every row stays, a retry answered before
the upgrade still gets its first answer after it, and the KPI queries keep their covering index;
on both engines, up, down and up again."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text

from commands.core.clock import FixedClock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from commands.core.reply import Reply, reply_to_dict
from storage import migrate
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.databases import PgDatabase, require_pg

OLD = {("progress_entry", "ix_progress_entry_user_id"), ("inbound_receipt", "ix_inbound_receipt_received_at"),
       ("progress_value", "ix_value_kpi_cover"), ("progress_value", "ix_value_team_metric_time"),
       ("progress_value", "ix_value_team_user_metric_time")}
NEW = {("progress_value", "ix_value_team_time_cover")}
AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request, tmp_path):
    """An empty database (no tables yet) on each engine."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield eng
        eng.dispose()
        return
    require_pg()
    db = PgDatabase(migrated=False)
    try:
        yield db.engine
    finally:
        db.drop()


def indexes(engine) -> set[tuple[str, str]]:
    insp = inspect(engine)
    return {(t, i["name"]) for t in ("progress_entry", "progress_value", "inbound_receipt")
            for i in insp.get_indexes(t)}


def downgrade(engine, revision: str) -> None:
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as c:
        return {t: [tuple(r) for r in c.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
                for t in ("progress_entry", "progress_value", "inbound_receipt")}


def test_0006_keeps_every_row_and_swaps_the_indexes(blank_engine):
    engine = blank_engine
    migrate.upgrade(engine, "0005")
    assert OLD <= indexes(engine) and not NEW & indexes(engine)
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
        c.execute(text('INSERT INTO inbound_receipt (platform, "key", reply_json, received_at) '
                       "VALUES ('slack', 'trigger-1', :reply, :at)"),
                  {"reply": json.dumps(reply_to_dict(Reply.text("已记录 / Logged")), ensure_ascii=False), "at": AT})
    before = rows(engine)

    migrate.upgrade(engine)
    assert not migrate.pending(engine)
    assert rows(engine) == before
    assert NEW <= indexes(engine) and not OLD & indexes(engine)

    # A retry of a delivery answered before the upgrade gets that first answer and writes nothing.
    dispatcher = Dispatcher(uow_factory(engine), FixedClock(AT))
    retry = Invocation(actor=Actor(platform="slack", user_id="U1", name="u1"), channel="C1",
                       command="progress", text="signed ACME sales=1", received_at=AT, delivery_key="trigger-1")
    assert dispatcher.handle(retry).plain() == "已记录 / Logged"
    assert rows(engine) == before

    downgrade(engine, "0005")
    assert rows(engine) == before
    assert OLD <= indexes(engine) and not NEW & indexes(engine)
    migrate.upgrade(engine)
    assert rows(engine) == before and NEW <= indexes(engine)
