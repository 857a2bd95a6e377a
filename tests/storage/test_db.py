from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage import migrate
from storage.models import Member, Team
from tests.kit.databases import require_pg


def _team(**kw) -> Team:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    return Team(platform="slack", channel_id=kw.pop("channel_id", "C1"), name="华东", created_by="U1",
                created_at=now, **kw)


def test_migrations_match_the_models(engine):
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                SQLModel.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_datetimes_come_back_aware_utc(uow):
    local = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with uow() as u:
        team = _team()
        team.created_at = local
        u.session.add(team)
    with uow() as u:
        got = u.session.scalars(select(Team)).one().created_at
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == local


@pytest.mark.parametrize("value", [
    datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
])
def test_sqlite_stores_the_text_sqlalchemy_writes(value):
    """storage.types.UTCDateTime writes SQLite's DATETIME text in one step: the same text as
    SQLAlchemy's own DATETIME gets for the UTC time, so ranges and ORDER BY compare alike."""
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from storage.types import UTCDateTime

    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stock = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours(value) == stock(value.astimezone(timezone.utc).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 1, 1))


def test_naive_datetimes_are_refused(uow):
    with pytest.raises(Exception, match="naive"):
        with uow() as u:
            team = _team()
            team.created_at = datetime(2026, 1, 1)
            u.session.add(team)


def test_one_team_per_channel_and_unique_membership(uow):
    with uow() as u:
        u.session.add(_team())
    with pytest.raises(IntegrityError):
        with uow() as u:
            u.session.add(_team())
    with uow() as u:
        team = u.session.scalars(select(Team)).one()
        u.session.add(Member(team_id=team.id, user_id="U1", role="manager", joined_at=team.created_at))
    with pytest.raises(IntegrityError):
        with uow() as u:
            u.session.add(Member(team_id=team.id, user_id="U1", role="rep", joined_at=team.created_at))


def test_unit_of_work_rolls_back_on_error(uow):
    with pytest.raises(RuntimeError):
        with uow() as u:
            u.session.add(_team())
            u.flush()
            raise RuntimeError("stop")
    with uow() as u:
        assert u.session.scalars(select(Team)).all() == []


def test_foreign_keys_are_enforced(uow):
    with pytest.raises(IntegrityError):
        with uow() as u:
            u.session.add(Member(team_id=999, user_id="U1", role="rep",
                                 joined_at=datetime.now(timezone.utc)))


def test_sqlite_pragmas(sqlite_url):
    from storage.db import make_engine
    eng = make_engine(sqlite_url)
    with eng.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    eng.dispose()


def test_postgres_url_uses_psycopg3():
    from storage.db import normalize_url
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_upgrade_is_idempotent(db_url):
    from storage.db import make_engine
    if db_url.startswith("postgresql"):
        require_pg()
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    migrate.upgrade(eng)
    assert not migrate.pending(eng)
    eng.dispose()
