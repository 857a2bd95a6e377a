"""Migration 0002 (delivery engine) goes up and down and matches the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage import migrate
from storage.db import make_engine

NEW_TABLES = {"schedule", "fire_ledger", "outbox_pace"}


def test_0002_up_down_up_and_no_drift(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, "0001")
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
    assert "ix_outbox_dest_status" in {i["name"] for i in inspect(engine).get_indexes("outbox_message")}
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
    mine = [d for d in diff if any(t in repr(d) for t in (*NEW_TABLES, "ix_outbox_dest_status"))]
    assert mine == []

    from alembic import command

    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert NEW_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
