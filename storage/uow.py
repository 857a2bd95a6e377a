"""Unit of work: one connection and one transaction per `with`, committed when the block ends
cleanly and nowhere else.

The hot paths (the dispatcher's context and receipt, a progress entry) run prebuilt Core
statements through `uow.read` and `uow.write`. The ORM Session is made only when something asks for
`uow.session`, bound to that same connection and transaction: a command that needs no ORM object
pays nothing for one (measured in bench/run.py: the Session's bookkeeping cost more per
command than SQLite's own work).

Inside `SharedTransaction.joined()` a unit of work is a savepoint of that shared transaction
instead (group commit, bot.group_commit): its end releases or rolls back the savepoint, and the
shared transaction's commit makes it durable. Inside `awaiting()` (PostgreSQL on the HTTP server's
event loop, storage.awaited) it connects through the engine's asyncio twin, and begins its
transaction only when something needs it: reads before that run on their own, and writes made
with `write` go out with the commit, in one round trip."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import Connection, Dialect, Engine
from sqlmodel import Session

from storage.prepared import Prepared, run_together

_SQLITE_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock | None:
    """SQLite takes one writer at a time (every transaction here is BEGIN IMMEDIATE), and its own
    wait backs off in growing sleeps, so under load some requests waited half a second. Queuing the
    process's threads on a lock first makes the wait fair and short (p99 in bench/run.py)."""
    if engine.dialect.name != "sqlite":
        return None
    with _GUARD:
        return _SQLITE_LOCKS.setdefault(str(engine.url.database), threading.RLock())


class SharedTransaction:
    """One database transaction that several units of work share, each in a savepoint of its own
    (group commit, see bot.group_commit): a unit of work's failure rolls back only its savepoint;
    nothing of any of them is durable before `commit()`. Begun on the first unit of work that
    joins; holds the SQLite writer lock from then until commit or rollback. SQLite only: it is
    for commands run one after another on one thread, whose statements do not wait on a network."""

    def __init__(self, engine: Engine):
        if engine.dialect.name != "sqlite":
            raise ValueError("a shared transaction is for SQLite (see bot.group_commit)")
        self.engine = engine
        self._lock = _writer_lock(engine)
        self.connection: Connection | None = None
        self.units = 0
        self._locked = False

    @contextmanager
    def joined(self) -> Iterator[None]:
        """Units of work on this engine, in this thread, inside the block join the transaction."""
        token = _SHARED.set(self)
        try:
            yield
        finally:
            _SHARED.reset(token)

    def _connection(self) -> Connection:
        if self.connection is None:
            if self._lock is not None:
                self._lock.acquire()
                self._locked = True
            try:
                self.connection = self.engine.connect()
                self.connection.begin()
            except BaseException:
                self._close()
                raise
        else:
            self._check()
        self.units += 1
        return self.connection

    def _check(self) -> None:
        # SQLite ends a transaction on its own after some errors (a full disk, an I/O error): what
        # came after would then run, and commit, outside it, so that is an error for everyone.
        if not self._open():
            raise RuntimeError("the shared transaction was rolled back by the database")

    def _open(self) -> bool:
        return self.connection.connection.dbapi_connection.in_transaction

    # Savepoints straight on the DB-API connection: SQLAlchemy's own (begin_nested) cost about
    # 30 µs each way, more than the commit they share (bench/run.py).
    def savepoint(self) -> str:
        name = f"uow_{self.units}"
        self._execute(f"SAVEPOINT {name}")
        return name

    def release(self, name: str) -> None:
        self._check()
        self._execute(f"RELEASE {name}")

    def rollback_to(self, name: str) -> None:
        if self._open():  # else the database has rolled back everything already
            self._execute(f"ROLLBACK TO {name}")
            self._execute(f"RELEASE {name}")

    def _execute(self, sql: str) -> None:
        self.connection.connection.dbapi_connection.execute(sql)

    def commit(self) -> None:
        """Commit what every unit of work left (no-op when none joined); on failure roll back."""
        if self.connection is None:
            return
        try:
            self._check()
            self.connection.commit()
        except BaseException:
            self.rollback()
            raise
        self._close()

    def rollback(self) -> None:
        """Undo what every unit of work left."""
        try:
            if self.connection is not None:
                _rollback(self.connection)
        finally:
            self._close()

    def _close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
        finally:
            self.connection = None
            if self._locked:
                self._locked = False
                self._lock.release()


def _rollback(connection: Connection) -> None:
    """Roll back, also when a failed COMMIT (SQLITE_BUSY, a deferred foreign key) left SQLite's
    transaction open: SQLAlchemy then counts the transaction as ended, and the pool would hand
    the connection to the next unit of work still inside it."""
    if connection.in_transaction():
        connection.rollback()
    if connection.invalidated:
        return
    dbapi = connection.connection.dbapi_connection
    if getattr(dbapi, "in_transaction", False) is True:  # sqlite3 only (psycopg ends it itself)
        dbapi.rollback()


_AWAITED: ContextVar[tuple[Engine, Engine] | None] = ContextVar("teambot_awaited_twin", default=None)


@contextmanager
def awaiting(engine: Engine, twin: Engine) -> Iterator[None]:
    """Units of work on `engine` begun inside the block connect through `twin` instead: the sync
    face of its asyncio engine, inside a greenlet of storage.awaited.AwaitedEngine."""
    token = _AWAITED.set((engine, twin))
    try:
        yield
    finally:
        _AWAITED.reset(token)


_SHARED: ContextVar[SharedTransaction | None] = ContextVar("teambot_shared_transaction", default=None)


class UnitOfWork:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = _writer_lock(engine)
        self._conn: Connection | None = None
        self._session: Session | None = None
        self._shared: SharedTransaction | None = None
        self._savepoint = ""
        #: Not None while no transaction has begun (the asyncio twin only, see `write`): the
        #: writes waiting for the commit.
        self._deferred: list[tuple[Prepared, Mapping[str, Any]]] | None = None

    def __enter__(self) -> UnitOfWork:
        shared = _SHARED.get()
        if shared is not None and shared.engine is self._engine:
            self._conn = shared._connection()
            self._shared, self._savepoint = shared, shared.savepoint()
            return self
        engine = self._engine
        twin = _AWAITED.get()
        if twin is not None and twin[0] is engine:
            engine = twin[1]
            self._deferred = []
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._conn = engine.connect()
            self._conn.begin()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    @property
    def connection(self) -> Connection:
        """The connection, inside this unit of work's transaction."""
        if self._deferred is not None:
            self._begin()
        assert self._conn is not None, "use the unit of work in a `with` block"
        return self._conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    def read(self, statement: Prepared, params: Mapping[str, Any]):
        """statement's first row (or None). Before any write of a deferring unit of work it runs on
        its own, outside a transaction: at READ COMMITTED every statement sees the database as of
        its own start either way, and a plain SELECT locks nothing until the end."""
        if self._deferred:
            self._begin()  # a read sees this unit of work's own writes
        return statement.first(self._conn, params)

    def read_all(self, statement: Prepared, params: Mapping[str, Any]) -> list:
        if self._deferred:
            self._begin()
        return statement.all(self._conn, params)

    def write(self, statement: Prepared, params: Mapping[str, Any]) -> None:
        """Run statement, whose result nobody needs. On the asyncio twin (PostgreSQL on the HTTP
        server's loop) it waits for the commit while no transaction has begun: the waiting writes
        then go out together, one round trip instead of one each plus BEGIN and COMMIT, as one
        implicit transaction (storage.pgwire). Its errors (a duplicate key) are then raised when
        the `with` block ends."""
        if self._deferred is not None:
            self._deferred.append((statement, params))
        else:
            statement.execute(self._conn, params)

    def _begin(self) -> None:
        """Open the transaction, together with the writes waiting for it (one round trip)."""
        deferred, self._deferred = self._deferred, None
        run_together(self._conn, deferred, begin=True)

    @property
    def session(self) -> Session:
        """The ORM Session of this unit of work (made on first use; same transaction)."""
        if self._session is None:
            # control_fully: the Session's commit/rollback are the connection's; only __exit__ calls
            # them. In a shared transaction the Session has a savepoint of its own, inside ours.
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="create_savepoint" if self._shared else "control_fully")
        return self._session

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._conn is not None
        if self._shared is not None:
            self._exit_savepoint(exc_type is None)
            return
        try:
            if exc_type is None:
                self._commit()
            else:
                self._rollback()
        finally:
            try:
                if self._session is not None:
                    self._session.close()
                self._conn.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _exit_savepoint(self, ok: bool) -> None:
        try:
            if ok:
                try:
                    if self._session is not None:
                        self._session.commit()  # flushes, releases the Session's savepoint
                    self._shared.release(self._savepoint)
                    return
                except BaseException:
                    self._rollback_savepoint()
                    raise
            self._rollback_savepoint()
        finally:
            if self._session is not None:
                self._session.close()

    def _rollback_savepoint(self) -> None:
        if self._session is not None:
            self._session.rollback()
        self._shared.rollback_to(self._savepoint)

    def _commit(self) -> None:
        try:
            if self._deferred:
                deferred, self._deferred = self._deferred, None
                run_together(self._conn, deferred, begin=False)  # one implicit transaction
            if self._session is not None:
                self._session.commit()  # flushes, then commits the connection's transaction
            else:
                self._conn.commit()
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        self._deferred = None
        if self._session is not None:
            self._session.rollback()
        _rollback(self._conn)

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()


UowFactory = Callable[[], UnitOfWork]


def uow_factory(engine: Engine) -> UowFactory:
    return lambda: UnitOfWork(engine)
