"""PostgreSQL commands on an event loop's thread, each statement awaited (the Slack HTTP server).

In a worker thread, a PostgreSQL command lets go of the GIL at every statement's network wait;
the event loop takes it, and handing it back costs more CPU than the statement (bench/run.py:
3.3-3.6 ms of server CPU per /progress that way, 2.8-2.9 ms this way, p99 44-49 ms against
30-32 ms). `AwaitedEngine.run(fn)` runs the same synchronous command code in a greenlet on the
loop's thread (SQLAlchemy's asyncio bridge, as its AsyncSession does). Every unit of work begun
inside connects through the engine's asyncio twin, so each statement awaits psycopg's
AsyncConnection and other requests go on meanwhile. The twin has the engine's URL and pool
settings and a pool of its own; everything else (the scheduler, the outbox, deliveries in the
thread pool) keeps using the synchronous engine.

Every statement is a round trip, and on the loop each one costs the bot far more CPU than the
statement itself (psycopg's and asyncio's bookkeeping, a wake-up). So the twin's connections are in
autocommit, and a unit of work begun there begins its transaction only when it must
(storage.uow.UnitOfWork.read/write): its reads run on their own, its result-less writes wait for
the commit and go out together as one implicit transaction, with no BEGIN or COMMIT at all
(storage.pgwire, which also runs the prebuilt statements without psycopg's cursors). Anything that
asks for the unit of work's connection or ORM session gets a transaction as before.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from storage import db, uow

T = TypeVar("T")


def _skip_idle_ends(dialect) -> None:
    """COMMIT and ROLLBACK only for a connection inside a transaction. The twin's connections are in
    autocommit: most units of work never begin one (storage.uow), and the pool rolls back every
    connection it takes back. psycopg sends nothing for an idle connection either, but each call
    is still a trip through the loop (a greenlet switch each way, its lock, its wait): about a
    third of what a statement costs the bot. Set on this dialect only (the twin's own)."""
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection) -> None:
        if not _idle(dbapi_connection):
            commit(dbapi_connection)

    def do_rollback(dbapi_connection) -> None:
        if not _idle(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def _idle(dbapi_connection) -> bool:
    """Connected and outside any transaction (a broken or busy connection is not idle: ending it
    goes through psycopg as before, which reports the error)."""
    return dbapi_connection.driver_connection.pgconn.transaction_status == _IDLE


_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE (libpq's PQTRANS_IDLE)


class AwaitedEngine:
    def __init__(self, engine: Engine):
        if engine.dialect.name != "postgresql":
            raise ValueError("awaited statements are for PostgreSQL: SQLite's are local file work")
        self.engine = engine
        # prepare_threshold=None: psycopg prepares nothing of its own on the twin's connections.
        # Where it has, it clears the server's prepared statements at every ROLLBACK (DEALLOCATE
        # ALL), and so those of storage.pgwire, which prepares its own.
        self.twin: AsyncEngine = create_async_engine(engine.url, isolation_level="AUTOCOMMIT",
                                                     connect_args={"prepare_threshold": None}, **db.PG_POOL)
        _skip_idle_ends(self.twin.sync_engine.dialect)

    async def run(self, fn: Callable[[], T]) -> T:
        """fn() on this thread; its units of work on `engine` await their statements."""
        return await greenlet_spawn(self._call, fn)

    def _call(self, fn: Callable[[], T]) -> T:
        with uow.awaiting(self.engine, self.twin.sync_engine):
            return fn()

    def close(self) -> None:
        """Close the twin's pooled connections. Call it where no event loop runs (after the server
        has stopped): closing a psycopg connection awaits nothing, so a loop of its own will do."""
        asyncio.run(self.twin.dispose())
