"""The storage pieces the command hot path stands on: the unit of work (one connection, the ORM
Session only on demand), prebuilt statements on the DB-API cursor, a lost PostgreSQL connection,
and SQLite's WAL checkpoints off the request path. Each on both databases where it applies."""
from __future__ import annotations

import gc
import sqlite3
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage import checkpoint
from storage.db import make_engine
from storage.models import InboundReceipt, Member, Team
from storage.prepared import Prepared, insert_columns
from storage.uow import UnitOfWork
from tests.kit.databases import require_pg

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)

_INSERT_RECEIPT = Prepared(insert_columns(InboundReceipt.__table__, "platform", "key", "reply_json", "received_at"))
_INSERT_TEAM = Prepared(insert_columns(Team.__table__, "platform", "channel_id", "name", "tz", "calendar", "lang",
                                       "created_by", "created_at").returning(Team.__table__.c.id))
_TEAM = {"platform": "slack", "tz": "Asia/Shanghai", "calendar": "CN", "lang": "zh", "created_by": "U1",
         "created_at": NOW}
_TEAMS = Prepared(select(Team.id, Team.name).where(Team.platform == bindparam("platform"))
                  .order_by(Team.id).limit(2))


def _receipts(uow) -> list[tuple]:
    with uow() as u:
        return [tuple(r) for r in u.connection.execute(
            select(InboundReceipt.key, InboundReceipt.received_at).order_by(InboundReceipt.key))]


# --- unit of work ------------------------------------------------------------------------------------


def test_core_and_orm_work_share_one_transaction(uow):
    with uow() as u:
        team_id = _INSERT_TEAM.first(u.connection, {**_TEAM, "channel_id": "C1", "name": "华东"}).id
        u.session.add(Member(team_id=team_id, user_id="U1", role="manager", joined_at=NOW))
    with uow() as u:
        member = u.session.scalars(select(Member)).one()
        assert (member.team_id, member.role) == (team_id, "manager")


def test_a_failure_after_core_and_orm_writes_leaves_nothing(uow):
    with pytest.raises(RuntimeError):
        with uow() as u:
            team_id = _INSERT_TEAM.first(u.connection, {**_TEAM, "channel_id": "C1", "name": "x"}).id
            u.session.add(Member(team_id=team_id, user_id="U1", role="rep", joined_at=NOW))
            u.flush()
            raise RuntimeError("stop")
    with uow() as u:
        assert u.connection.execute(select(func.count()).select_from(Team)).scalar_one() == 0
        assert u.connection.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def test_a_core_only_unit_of_work_makes_no_session(uow):
    with uow() as u:
        _INSERT_RECEIPT.execute(u.connection, {"platform": "slack", "key": "k1", "reply_json": "{}",
                                               "received_at": NOW})
        assert u._session is None
    assert _receipts(uow) == [("k1", NOW)]


def test_a_failing_flush_at_the_end_rolls_back_the_core_writes_too(uow):
    with uow() as u:
        team = Team(platform="slack", channel_id="C1", name="a", created_by="U1", created_at=NOW)
        u.session.add(team)
    with pytest.raises(IntegrityError):
        with uow() as u:
            _INSERT_RECEIPT.execute(u.connection, {"platform": "slack", "key": "k2", "reply_json": "{}",
                                                   "received_at": NOW})
            # Same channel again: the unique key fails when the session flushes at commit.
            u.session.add(Team(platform="slack", channel_id="C1", name="b", created_by="U1", created_at=NOW))
    assert _receipts(uow) == []


# --- prebuilt statements -----------------------------------------------------------------------------


def test_prepared_statements_store_values_exactly_as_sqlalchemy_does(uow):
    # An aware datetime goes in through the column's own type (UTCDateTime, then the dialect's own
    # DATETIME): the stored value is the one SQLAlchemy writes, so comparisons in SQL still hold.
    with uow() as u:
        _INSERT_RECEIPT.execute(u.connection, {"platform": "slack", "key": "prepared", "reply_json": "{}",
                                               "received_at": NOW})
        u.connection.execute(insert(InboundReceipt.__table__), {"platform": "slack", "key": "core",
                                                                "reply_json": "{}", "received_at": NOW})
    with uow() as u:
        stored = dict(u.connection.execute(text(
            "select key, cast(received_at as text) from inbound_receipt")).all())
    assert stored["prepared"] == stored["core"]
    assert _receipts(uow) == [("core", NOW), ("prepared", NOW)]


def test_prepared_rows_have_column_names_and_fixed_values_apply(uow):
    with uow() as u:
        ids = [_INSERT_TEAM.first(u.connection, {**_TEAM, "channel_id": f"C{i}", "name": f"t{i}"}).id for i in range(3)]
        rows = _TEAMS.all(u.connection, {"platform": "slack"})
        first = _TEAMS.first(u.connection, {"platform": "slack"})
        none = _TEAMS.first(u.connection, {"platform": "wecom"})
    assert [(r.id, r.name) for r in rows] == [(ids[0], "t0"), (ids[1], "t1")]  # LIMIT 2 carried along
    assert (first.id, first.name) == (ids[0], "t0") and none is None


def test_a_duplicate_key_is_an_integrity_error_on_both_engines(uow):
    row = {"platform": "slack", "key": "dup", "reply_json": "{}", "received_at": NOW}
    with uow() as u:
        _INSERT_RECEIPT.execute(u.connection, row)
    with pytest.raises(IntegrityError):
        with uow() as u:
            _INSERT_RECEIPT.execute(u.connection, row)
    assert _receipts(uow) == [("dup", NOW)]


def test_statements_sqlalchemy_would_have_to_complete_are_refused(engine):
    with pytest.raises(ValueError, match="received_at"):  # a result needing conversion
        Prepared(select(InboundReceipt.received_at)).compile(engine.dialect)
    with pytest.raises(ValueError, match="tz"):  # a column left to its Python-side default
        Prepared(insert_columns(Team.__table__, "platform", "channel_id", "name", "created_by", "created_at")
                 ).compile(engine.dialect)


# --- a lost PostgreSQL connection ----------------------------------------------------------------------


def test_a_postgresql_command_survives_the_server_dropping_its_connections(request, clock, caplog):
    """Without pool_pre_ping, a pooled connection the server has closed fails its first statement;
    SQLAlchemy then drops the pool and the dispatcher runs the command once more. (PostgreSQL only:
    a SQLite file has no server to lose.)"""
    require_pg()
    db = request.getfixturevalue("_pg_database")
    db.clean()
    db_url = db.url
    from commands.core.context import Actor, Invocation
    from commands.core.dispatch import Dispatcher
    from storage.uow import uow_factory

    engine = make_engine(db_url)
    try:
        dispatcher = Dispatcher(uow_factory(engine), clock)

        def say(text_: str):
            return dispatcher.handle(Invocation(actor=Actor(platform="slack", user_id="U1"), channel="C1",
                                                command="team", text=text_, received_at=clock.now()))

        assert say("setup 华东一组").ok
        with engine.connect() as c:  # the pool now holds the command's connection; the server ends it
            pid = c.execute(text("select pg_backend_pid()")).scalar_one()
        admin = make_engine(db_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            assert c.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        admin.dispose()
        with caplog.at_level("WARNING", logger="teambot.dispatch"):
            reply = say("add <@U2> rep")
        assert reply.ok, reply.plain()
        assert any("connection lost" in r.getMessage() for r in caplog.records)  # it did run twice
        with engine.connect() as c:
            assert c.execute(select(func.count()).select_from(Member)).scalar_one() == 2
    finally:
        engine.dispose()


def test_a_prebuilt_statement_on_a_lost_postgresql_connection_invalidates_it_as_sqlalchemy_would(request):
    """The prebuilt statements bypass SQLAlchemy's execute path, not its handling of a lost
    connection: the error says connection_invalidated (the dispatcher's cue to run the command
    again), and the pool hands out a fresh connection next."""
    require_pg()
    db = request.getfixturevalue("_pg_database")
    db.clean()
    engine = make_engine(db.url)
    pid_of = Prepared(select(func.pg_backend_pid().label("pid")))
    try:
        lost = None
        with pytest.raises(Exception):  # noqa: B017 - ending a unit of work whose connection is gone fails
            with UnitOfWork(engine) as u:
                pid = u.read(pid_of, {}).pid
                admin = make_engine(db.url).execution_options(isolation_level="AUTOCOMMIT")
                with admin.connect() as c:
                    c.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
                admin.dispose()
                try:
                    u.read(pid_of, {})
                except DBAPIError as e:
                    lost = e
        assert lost is not None and lost.connection_invalidated
        with UnitOfWork(engine) as u:
            assert u.read(pid_of, {}).pid != pid
    finally:
        engine.dispose()


# --- WAL checkpoints ---------------------------------------------------------------------------------


def test_commits_leave_the_checkpoint_to_the_background_thread(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as c:
            assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar() == checkpoint.SAFETY_NET_PAGES
        cp = checkpoint.of(engine)
        assert cp is not None and cp.checkpoints == 0 and cp._thread is None  # nothing written yet
        with engine.begin() as c:
            c.execute(insert(InboundReceipt.__table__), [
                {"platform": "slack", "key": f"k{i}", "reply_json": "x" * 500, "received_at": NOW}
                for i in range(2000)])
        deadline = time.monotonic() + 5
        while cp.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cp.checkpoints >= 1
        # The log has been copied back: a PASSIVE checkpoint now finds every frame done.
        raw = sqlite3.connect(engine.url.database)
        busy, log_pages, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        raw.close()
        assert log_pages > 0 and copied == log_pages
    finally:
        engine.dispose()


def test_the_checkpointer_stops_with_its_engine(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.begin() as c:
        c.execute(insert(InboundReceipt.__table__), {"platform": "slack", "key": "k", "reply_json": "x",
                                                     "received_at": NOW})
    cp = checkpoint.of(engine)
    thread = cp._thread
    assert thread is not None and thread.is_alive()
    engine.dispose()
    del engine, c
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
