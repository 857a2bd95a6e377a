"""PostgreSQL commands on an event loop with each statement awaited (storage.awaited), as the Slack
HTTP server runs typed commands there: a slow statement holds up no other command, a failure
leaves nothing, a lost connection is retried, and closing lets go of every connection. A real
event loop and a real PostgreSQL, nothing mocked."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from commands.core.context import Actor, Invocation
from commands.core.dispatch import Dispatcher
from storage.awaited import AwaitedEngine
from storage.db import make_engine
from storage.models import InboundReceipt
from storage.prepared import Prepared
from storage.uow import UnitOfWork, uow_factory
from tests.kit.databases import pg_admin_engine, require_pg
from tests.kit.transactions import NOW, write, write_receipt, write_then_raise


@pytest.fixture
def pg_engine(request):
    require_pg()
    db = request.getfixturevalue("_pg_database")
    db.clean()
    engine = make_engine(db.url)
    yield engine
    engine.dispose()


def receipts(engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(select(InboundReceipt.key).order_by(InboundReceipt.key)).scalars())


def backends(engine) -> int:
    """Connections open to the test database, as the server counts them."""
    admin = pg_admin_engine()
    try:
        with admin.connect() as c:
            return c.execute(text("select count(*) from pg_stat_activity where datname = :db and pid <> "
                                  "pg_backend_pid()"), {"db": engine.url.database}).scalar_one()
    finally:
        admin.dispose()


def test_sqlite_is_refused(sqlite_engine):
    with pytest.raises(ValueError, match="PostgreSQL"):
        AwaitedEngine(sqlite_engine)


def test_a_slow_statement_holds_up_no_other_command(pg_engine):
    awaited = AwaitedEngine(pg_engine)
    done: list[str] = []

    def slow():
        with UnitOfWork(pg_engine) as u:
            u.connection.execute(text("select pg_sleep(0.5)"))
            write_receipt(u, "slow")
        done.append("slow")

    def quick(key: str):
        done.append(write(pg_engine, key))

    async def main():
        slow_one = asyncio.ensure_future(awaited.run(slow))
        await asyncio.sleep(0.05)  # the slow command is now waiting on its statement
        started = time.monotonic()
        await asyncio.gather(*(awaited.run(lambda k=k: quick(k)) for k in ("q1", "q2", "q3")))
        quick_took = time.monotonic() - started
        await slow_one
        return quick_took

    try:
        quick_took = asyncio.run(main())
    finally:
        awaited.close()
    # Run in place, the quick ones would have waited the half second out. (They interleave too, so
    # their own order is any.)
    assert sorted(done[:3]) == ["q1", "q2", "q3"] and done[3] == "slow" and quick_took < 0.4
    assert receipts(pg_engine) == ["q1", "q2", "q3", "slow"]


def test_outside_run_the_synchronous_engine_is_used(pg_engine):
    awaited = AwaitedEngine(pg_engine)

    def is_async() -> bool:
        with UnitOfWork(pg_engine) as u:
            return u.connection.dialect.is_async

    try:
        assert asyncio.run(awaited.run(is_async)) is True
        assert is_async() is False  # the scheduler's and the thread pool's units of work
    finally:
        awaited.close()


def test_a_failing_command_raises_and_leaves_nothing(pg_engine):
    awaited = AwaitedEngine(pg_engine)

    fails = RuntimeError("after the first write")
    try:
        with pytest.raises(RuntimeError, match="after the first write"):
            asyncio.run(awaited.run(lambda: write_then_raise(pg_engine, "half", fails)))
        # The connection went back to the pool clean: the next command commits.
        asyncio.run(awaited.run(lambda: write(pg_engine, "whole")))
    finally:
        awaited.close()
    assert receipts(pg_engine) == ["whole"]


def test_a_command_survives_the_server_dropping_the_connections(pg_engine, clock, caplog):
    awaited = AwaitedEngine(pg_engine)
    dispatcher = Dispatcher(uow_factory(pg_engine), clock)

    def say(text_: str, key: str):
        return dispatcher.handle(Invocation(actor=Actor(platform="slack", user_id="U1"), channel="C1",
                                            command="team", text=text_, received_at=clock.now(),
                                            delivery_key=key))

    def backend_pid() -> int:
        with UnitOfWork(pg_engine) as u:
            return u.connection.execute(text("select pg_backend_pid()")).scalar_one()

    try:
        assert asyncio.run(awaited.run(lambda: say("setup 华东一组", "k1"))).ok
        pid = asyncio.run(awaited.run(backend_pid))  # the one pooled connection of the twin
        admin = pg_admin_engine()
        with admin.connect() as c:  # a restart or a failover, as far as that connection knows
            assert c.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        admin.dispose()
        with caplog.at_level("WARNING", logger="teambot.dispatch"):
            reply = asyncio.run(awaited.run(lambda: say("add <@U2> rep", "k2")))
        assert reply.ok, reply.plain()
        assert any("connection lost" in r.getMessage() for r in caplog.records)  # it did run twice
    finally:
        awaited.close()
    with pg_engine.connect() as c:
        assert c.execute(text("select count(*) from member")).scalar_one() == 2
        assert c.execute(select(func.count()).select_from(InboundReceipt)).scalar_one() == 2


def test_close_lets_go_of_every_connection(pg_engine):
    awaited = AwaitedEngine(pg_engine)

    async def main():
        await asyncio.gather(*(awaited.run(lambda k=k: write(pg_engine, k)) for k in ("a", "b", "c")))

    pg_engine.dispose()
    others = backends(pg_engine)  # the test database's own housekeeping connection
    asyncio.run(main())
    pg_engine.dispose()
    assert backends(pg_engine) > others  # the twin's pool keeps its connections for the next commands
    awaited.close()
    assert backends(pg_engine) == others


# --- reads on their own, writes at the commit (the twin's units of work) --------------------------------

_RECEIPT_ROW = Prepared(select(InboundReceipt.key, InboundReceipt.reply_json)
                        .where(InboundReceipt.key == bindparam("key")))
_COUNT = Prepared(select(func.count().label("n")).select_from(InboundReceipt))


def committed_keys(engine) -> list[str]:
    """What another connection sees: committed rows only."""
    return receipts(engine)


@pytest.fixture
def on_the_loop(pg_engine):
    """Run a function as the HTTP server runs a typed command (one twin pool for the whole test)."""
    awaited = AwaitedEngine(pg_engine)
    yield lambda fn: asyncio.run(awaited.run(fn))
    awaited.close()


def test_deferred_writes_are_kept_together_and_only_at_the_end(pg_engine, on_the_loop):
    seen_inside: list = []

    def command():
        with UnitOfWork(pg_engine) as u:
            assert u.read(_COUNT, {}).n == 0  # read before any write: no transaction yet
            write_receipt(u, "a")
            write_receipt(u, "b")
            seen_inside.append(committed_keys(pg_engine))  # nothing sent yet
            seen_inside.append(u.read(_COUNT, {}).n)  # a read sees the unit's own writes...
            seen_inside.append(committed_keys(pg_engine))  # ...which others still do not

    on_the_loop(command)
    assert seen_inside == [[], 2, []]
    assert committed_keys(pg_engine) == ["a", "b"]


def test_a_failing_deferred_write_keeps_none_of_the_units_writes(pg_engine, on_the_loop):
    write(pg_engine, "taken")

    def command():
        with UnitOfWork(pg_engine) as u:
            write_receipt(u, "fresh")
            write_receipt(u, "taken")  # the duplicate key fails in the commit's one message

    with pytest.raises(IntegrityError):
        on_the_loop(command)
    assert committed_keys(pg_engine) == ["taken"]
    on_the_loop(lambda: write(pg_engine, "next"))  # the pooled connection came back clean
    assert committed_keys(pg_engine) == ["next", "taken"]


def test_asking_for_the_connection_begins_a_transaction_with_the_writes_so_far(pg_engine, on_the_loop):
    def command():
        with UnitOfWork(pg_engine) as u:
            write_receipt(u, "deferred")
            u.connection.execute(text("select 1"))  # e.g. an ORM query: the transaction begins here
            write_receipt(u, "in the transaction")
            raise RuntimeError("after both writes")

    with pytest.raises(RuntimeError):
        on_the_loop(command)
    assert committed_keys(pg_engine) == []


def test_user_text_in_a_deferred_write_is_stored_exactly(pg_engine, on_the_loop):
    # Several deferred writes go out as one message with their values written in (psycopg quotes
    # them): whatever a user typed must come back byte for byte, never become SQL.
    nasty = "引号 ' \" \\ %s %(x)s $1 $$ ; COMMIT; --\n\t🙂 ' OR '1'='1"

    def command():
        with UnitOfWork(pg_engine) as u:
            write_receipt(u, "k1", reply_json=nasty)
            write_receipt(u, nasty)

    on_the_loop(command)
    with UnitOfWork(pg_engine) as u:
        assert u.read(_RECEIPT_ROW, {"key": "k1"}).reply_json == nasty
        assert u.read(_RECEIPT_ROW, {"key": nasty}).key == nasty
        stored = u.connection.execute(text("select received_at from inbound_receipt")).scalars().all()
    assert stored == [NOW, NOW]


def test_a_connection_lost_before_the_commit_is_invalidated_and_the_next_unit_connects_afresh(pg_engine, on_the_loop):
    def lose_it():
        with UnitOfWork(pg_engine) as u:
            pid = u.read(Prepared(select(func.pg_backend_pid().label("pid"))), {}).pid
            admin = pg_admin_engine()
            with admin.connect() as c:  # a restart or a failover, between the reads and the commit
                c.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
            write_receipt(u, "a")
            write_receipt(u, "b")

    with pytest.raises(DBAPIError) as lost:
        on_the_loop(lose_it)
    assert lost.value.connection_invalidated  # what the dispatcher runs the command again on
    assert committed_keys(pg_engine) == []
    on_the_loop(lambda: write(pg_engine, "after"))
    assert committed_keys(pg_engine) == ["after"]


def test_a_progress_in_a_channel_is_two_round_trips_and_writes_once(pg_engine, on_the_loop, clock, tmp_path):
    """Who is asking (with the team's metrics), and the entry with its values and the receipt in
    one message: each round trip costs the bot more CPU on the loop than the statement does."""
    dispatcher = Dispatcher(uow_factory(pg_engine), clock)

    def say(text_: str, key: str):
        return dispatcher.handle(Invocation(actor=Actor(platform="slack", user_id="U1"), channel="C1",
                                            command=text_.split()[0], text=text_.partition(" ")[2],
                                            received_at=clock.now(), delivery_key=key))

    def traced(fn):
        """fn() on the twin's one pooled connection, with the wire traced: round trips counted."""
        trace = tmp_path / "wire.txt"
        with UnitOfWork(pg_engine) as u:
            pgconn = u._conn.connection.driver_connection.pgconn
        with open(trace, "w") as f:
            pgconn.trace(f.fileno())
            try:
                result = fn()
            finally:
                pgconn.untrace()
        return result, trace.read_text().count("\tReadyForQuery\t")

    assert on_the_loop(lambda: say("team setup 华东一组", "k0")).ok
    reply, round_trips = on_the_loop(lambda: traced(lambda: say("progress 签约 sales=5万 customers=1", "k1")))
    assert reply.ok, reply.plain()
    assert round_trips == 2
    again, _ = on_the_loop(lambda: traced(lambda: say("progress 签约 sales=5万 customers=1", "k1")))
    assert again.plain() == reply.plain()  # a retry: the first answer, nothing written twice
    with pg_engine.connect() as c:
        assert c.execute(text("select count(*) from progress_entry")).scalar_one() == 1
        assert c.execute(text("select count(*) from progress_value")).scalar_one() == 2


def test_writes_sent_together_need_no_begin_or_commit(pg_engine, on_the_loop, tmp_path):
    """The writes waiting for the commit go out as one implicit transaction (one Sync after them):
    no BEGIN or COMMIT, and ending the unit of work and handing the connection back to the pool
    then send nothing more."""
    trace = tmp_path / "wire.txt"

    def command():
        u = UnitOfWork(pg_engine).__enter__()
        pgconn = u._conn.connection.driver_connection.pgconn
        with open(trace, "w") as f:
            pgconn.trace(f.fileno())
            try:
                assert u.read(_COUNT, {}).n == 0
                write_receipt(u, "a")
                write_receipt(u, "b")
                u.__exit__(None, None, None)  # the commit and the pool's reset, traced too
            finally:
                pgconn.untrace()

    on_the_loop(command)
    wire = trace.read_text()
    assert wire.count("\tReadyForQuery\t") == 2  # the read, then both writes
    assert "COMMIT" not in wire and "ROLLBACK" not in wire and "BEGIN" not in wire
    assert committed_keys(pg_engine) == ["a", "b"]


def test_a_request_given_up_half_way_closes_its_connection(pg_engine):
    """A request cancelled while its statement is on the wire (the client hung up): nobody knows
    what is still to come on that connection, so it is closed, and the next command gets another."""
    awaited = AwaitedEngine(pg_engine)
    pid = Prepared(select(func.pg_backend_pid().label("pid")))
    slow = Prepared(select(func.pg_sleep(0.5).label("slept")))

    def backend() -> int:
        with UnitOfWork(pg_engine) as u:
            return u.read(pid, {}).pid

    def sleeper() -> None:
        with UnitOfWork(pg_engine) as u:
            u.read(slow, {})

    async def main():
        first = await awaited.run(backend)
        task = asyncio.ensure_future(awaited.run(sleeper))
        await asyncio.sleep(0.1)  # the sleep is on the wire
        task.cancel()
        with pytest.raises(BaseException):  # noqa: B017 - cancelled, or the closed connection's error
            await task
        return first, await awaited.run(backend)

    try:
        first, after = asyncio.run(main())
    finally:
        awaited.close()
    assert after != first


def test_prebuilt_statements_stay_prepared_after_orm_work_and_a_rollback(pg_engine, on_the_loop):
    """A command's ORM queries, run often enough on one connection, and then a refused command
    rolled back, must not take the prebuilt statements prepared on that connection with them."""
    def orm_work_then_refused():
        with UnitOfWork(pg_engine) as u:
            for _ in range(8):
                u.connection.execute(select(InboundReceipt.key).where(InboundReceipt.key == "x")).all()
            raise RuntimeError("refused")

    def count() -> int:
        with UnitOfWork(pg_engine) as u:
            return u.read(_COUNT, {}).n

    assert on_the_loop(count) == 0  # prepared on the twin's one connection
    with pytest.raises(RuntimeError):
        on_the_loop(orm_work_then_refused)
    on_the_loop(lambda: write(pg_engine, "a"))
    assert on_the_loop(count) == 1


def test_prepared_statements_cleared_by_someone_else_are_prepared_again(pg_engine, on_the_loop):
    def count() -> int:
        with UnitOfWork(pg_engine) as u:
            return u.read(_COUNT, {}).n

    def discard_all():
        with UnitOfWork(pg_engine) as u:
            u.connection.exec_driver_sql("COMMIT")
            u.connection.exec_driver_sql("DISCARD ALL")

    assert on_the_loop(count) == 0
    on_the_loop(discard_all)
    with pytest.raises(DBAPIError):
        on_the_loop(count)  # this once: the statement was gone
    assert on_the_loop(count) == 0
