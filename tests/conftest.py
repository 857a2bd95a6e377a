from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from commands.core.clock import FixedClock
from storage.db import make_engine
from storage.uow import uow_factory
from tests.kit.databases import PgDatabase, SqliteTemplate, pg_available, require_pg

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _pg_database():
    if pg_available() is not None:
        yield None
        return
    db = PgDatabase()
    yield db
    db.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, _sqlite_template, tmp_path):
    """A migrated, empty database: every test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield _sqlite_template.fresh(tmp_path)
        return
    require_pg()
    db = request.getfixturevalue("_pg_database")
    db.clean()
    yield db.url


@pytest.fixture
def sqlite_url(_sqlite_template, tmp_path):
    """SQLite only, for tests about the adapters rather than storage."""
    return _sqlite_template.fresh(tmp_path)


@pytest.fixture
def sqlite_uow(sqlite_url):
    """A unit-of-work factory on a fresh SQLite database, for dialog tests where storage is not the point."""
    eng = make_engine(sqlite_url)
    yield uow_factory(eng)
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url):
    """An engine on a fresh SQLite database, for what exists on SQLite only (group commit)."""
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def uow(engine):
    return uow_factory(engine)


@pytest.fixture
def clock():
    # Thursday 2026-11-26 10:00 in Shanghai.
    return FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
