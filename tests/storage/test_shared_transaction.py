"""storage.uow.SharedTransaction: units of work that share one SQLite transaction (group commit,
bot.group_commit), each in a savepoint of its own. SQLite only, as group commit is: on
PostgreSQL typed commands run in the thread pool, each in its own transaction."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commands.core.clock import FixedClock
from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from storage.db import make_engine
from storage.models import InboundReceipt, Team
from storage.uow import SharedTransaction, UnitOfWork, uow_factory
from tests.kit.transactions import NOW, committed, committed_keys, fail_at_commit, write_receipt

@pytest.fixture
def engine(sqlite_engine):
    return sqlite_engine


receipt = write_receipt


def test_units_of_work_commit_together_and_only_at_the_shared_commit(engine):
    shared = SharedTransaction(engine)
    with shared.joined():
        with UnitOfWork(engine) as u:
            receipt(u, "a")  # Core, on the connection
        with UnitOfWork(engine) as u:
            u.session.add(Team(platform="slack", channel_id="C1", name="华东", created_by="U1", created_at=NOW))
        with UnitOfWork(engine) as u:  # sees what the earlier ones left
            assert u.session.scalars(select(Team.name)).one() == "华东"
    assert shared.units == 3
    assert committed_keys(engine) == []  # nothing is durable before the shared commit
    assert committed(engine, "select name from team") == []
    shared.commit()
    assert committed_keys(engine) == ["a"]
    assert committed(engine, "select name from team") == ["华东"]


def test_a_failing_unit_of_work_loses_only_its_own_writes(engine):
    shared = SharedTransaction(engine)
    with shared.joined():
        with UnitOfWork(engine) as u:
            receipt(u, "before")
        with pytest.raises(RuntimeError):
            with UnitOfWork(engine) as u:
                receipt(u, "failed-core")
                u.session.add(Team(platform="slack", channel_id="C9", name="x", created_by="U1", created_at=NOW))
                u.flush()
                raise RuntimeError("stop")
        with pytest.raises(IntegrityError):  # a duplicate key fails at the end, in the ORM flush
            with UnitOfWork(engine) as u:
                receipt(u, "failed-flush")
                u.session.add(InboundReceipt(platform="slack", key="before", reply_json="{}", received_at=NOW))
        with UnitOfWork(engine) as u:
            receipt(u, "after")
    shared.commit()
    assert committed_keys(engine) == ["after", "before"]
    assert committed(engine, "select count(*) from team") == [0]


def test_rollback_undoes_every_unit_of_work(engine):
    shared = SharedTransaction(engine)
    with shared.joined():
        for key in ("a", "b"):
            with UnitOfWork(engine) as u:
                receipt(u, key)
    shared.rollback()
    assert committed_keys(engine) == []


def test_on_another_database_or_after_the_block_a_unit_of_work_is_its_own_transaction(engine, sqlite_url):
    other = make_engine(sqlite_url.replace(".db", "-other.db"))
    try:
        from storage import migrate
        migrate.upgrade(other)
        shared = SharedTransaction(engine)
        with shared.joined():
            with UnitOfWork(engine) as u:
                receipt(u, "shared")
            with UnitOfWork(other) as u:  # another database: not part of it, committed at once
                receipt(u, "other")
        assert committed_keys(other) == ["other"]
        shared.commit()
        with UnitOfWork(engine) as u:  # after the block: its own transaction again
            receipt(u, "own")
            assert u._shared is None
        assert committed_keys(engine) == ["own", "shared"]
    finally:
        other.dispose()


def test_a_retried_delivery_in_the_same_transaction_gets_the_first_answer(engine):
    """The dispatcher's receipt, under group commit: the retry's insert fails on the unique key in
    its savepoint, which is rolled back, and it answers with the first reply (written once)."""
    clock = FixedClock(NOW)
    dispatcher = Dispatcher(uow_factory(engine), clock)
    actor = Actor(platform="slack", user_id="U1", name="u1")

    def say(text: str, key: str):
        return dispatcher.handle(Invocation(actor=actor, channel="C1", command="team", text=text,
                                            received_at=NOW, delivery_key=key))

    shared = SharedTransaction(engine)
    with shared.joined():
        first = say("setup 华东销售一组", "trigger-1")
        again = say("setup 华东销售一组", "trigger-1")
        other = say("setup 华北销售组", "trigger-2")  # same channel: refused
    shared.commit()
    assert first.ok and again.plain() == first.plain()
    assert not other.ok
    assert committed(engine, "select name from team") == ["华东销售一组"]
    assert committed(engine, "select count(*) from member") == [1]
    # A refused command writes nothing but its receipt (a redelivery of it is answered once).
    assert committed_keys(engine) == ["trigger-1", "trigger-2"]


def test_other_threads_wait_for_the_shared_commit(engine):
    shared = SharedTransaction(engine)
    done = threading.Event()

    def writer():
        with UnitOfWork(engine) as u:
            receipt(u, "thread")
        done.set()

    with shared.joined():
        with UnitOfWork(engine) as u:
            receipt(u, "shared")
    t = threading.Thread(target=writer)
    t.start()
    assert not done.wait(0.3)  # the shared transaction still holds SQLite's one writer slot
    shared.commit()
    assert done.wait(5)
    t.join()
    assert committed_keys(engine) == ["shared", "thread"]


def test_a_transaction_the_database_rolled_back_is_never_committed_in_pieces(engine):
    """SQLite ends a transaction itself after some errors (a full disk): later units of work
    must not run outside it (each savepoint would then commit on its own), and the shared commit
    fails, so that no command answers "saved"."""
    shared = SharedTransaction(engine)
    with shared.joined():
        with UnitOfWork(engine) as u:
            receipt(u, "kept until the database rolls back")
        with pytest.raises(RuntimeError, match="rolled back"):
            with UnitOfWork(engine) as u:
                receipt(u, "lost")
                # What SQLite does on SQLITE_FULL / SQLITE_IOERR: the whole transaction is gone.
                u.connection.connection.dbapi_connection.execute("ROLLBACK")
        with pytest.raises(RuntimeError, match="rolled back"):
            with UnitOfWork(engine) as u:
                receipt(u, "after")
    with pytest.raises(RuntimeError, match="rolled back"):
        shared.commit()
    assert committed_keys(engine) == []
    with UnitOfWork(engine) as u:  # the lock and connection were given back
        receipt(u, "next")
    assert committed_keys(engine) == ["next"]


def test_only_for_sqlite():
    with pytest.raises(ValueError, match="SQLite"):
        SharedTransaction(make_engine("postgresql+psycopg://u@127.0.0.1:9/x"))


def test_progress_entries_of_one_turn_are_all_there(engine):
    """Many /progress commands in one shared transaction: one entry each, none lost."""
    clock = FixedClock(NOW)
    dispatcher = Dispatcher(uow_factory(engine), clock)
    boss = Actor(platform="slack", user_id="U1", name="u1")
    dispatcher.handle(Invocation(actor=boss, channel="C1", command="team", text="setup 华东销售一组",
                                 received_at=NOW))
    shared = SharedTransaction(engine)
    with shared.joined():
        replies = [dispatcher.handle(Invocation(actor=boss, channel="C1", command="progress",
                                                text=f"拜访客户 {i} sales=1万", received_at=NOW,
                                                delivery_key=f"t{i}")) for i in range(20)]
    shared.commit()
    assert all(r.ok for r in replies)
    assert committed(engine, "select note from progress_entry order by id") == [f"拜访客户 {i}" for i in range(20)]
    assert committed(engine, "select count(*) from progress_value") == [20]


def test_a_failed_commit_gives_the_pool_back_a_clean_connection(engine):
    """A COMMIT that fails (here a deferred foreign key; SQLITE_BUSY does the same) leaves SQLite's
    transaction open while SQLAlchemy counts it as ended; the unit of work rolls it back, or the
    next unit of work on that pooled connection could not begin ("transaction within a
    transaction"). Both with and without a shared transaction."""
    with pytest.raises(IntegrityError):
        with UnitOfWork(engine) as u:
            receipt(u, "lost-1")
            fail_at_commit(u)
    shared = SharedTransaction(engine)
    with shared.joined():
        with UnitOfWork(engine) as u:
            receipt(u, "lost-2")
            fail_at_commit(u)
    with pytest.raises(IntegrityError):
        shared.commit()
    for key in ("next-1", "next-2"):
        with UnitOfWork(engine) as u:
            receipt(u, key)
    assert committed_keys(engine) == ["next-1", "next-2"]
    assert committed(engine, "select count(*) from member") == [0]
