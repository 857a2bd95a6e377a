"""Real databases for tests: a migrated SQLite file per test, and a PostgreSQL database per run.

PostgreSQL comes from TEAMBOT_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Where it is unreachable the PostgreSQL variants skip, except under CI=true, where they fail."""
from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from storage import migrate
from storage.db import make_engine

PG_URL = os.environ.get("TEAMBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_admin_engine() -> Engine:
    return make_engine(PG_URL)


def pg_available() -> str | None:
    """None when reachable, else the reason."""
    try:
        eng = make_engine(PG_URL)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL at {make_url(PG_URL).render_as_string()} unreachable: {type(e).__name__}: {e}".split("\n")[0]


def require_pg() -> None:
    reason = pg_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


class PgDatabase:
    """One throw-away database for the whole test run, migrated once, emptied between tests."""

    def __init__(self, *, migrated: bool = True) -> None:
        """migrated=False: an empty database, for tests that run the migrations themselves."""
        self.name = f"teambot_test_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)
        self.engine = make_engine(self.url)
        if migrated:
            migrate.upgrade(self.engine)

    def clean(self) -> None:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with self.engine.begin() as c:
            c.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def drop(self) -> None:
        self.engine.dispose()
        admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


class SqliteTemplate:
    """Migrating once and copying the file keeps a fresh SQLite database per test cheap."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        eng = make_engine(f"sqlite:///{self.path}")
        migrate.upgrade(eng)
        eng.dispose()
        # Fold the WAL into the main file so that copying one file copies the whole database.
        con = sqlite3.connect(self.path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()

    def fresh(self, folder: Path) -> str:
        target = folder / f"teambot-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"
