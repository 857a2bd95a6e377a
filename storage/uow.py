"""Unit of work: one connection and one transaction per `with`, committed when the block ends
cleanly and nowhere else.

The hot paths (the dispatcher's context and receipt, a progress entry) run prebuilt Core
statements on `uow.connection`. The ORM Session is made only when something asks for
`uow.session`, bound to that same connection and transaction: a command that needs no ORM object
pays nothing for one (measured in bench/run.py: the Session's bookkeeping cost more per
command than SQLite's own work)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

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


class UnitOfWork:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = _writer_lock(engine)
        self.connection: Connection | None = None
        self._session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.connection = self._engine.connect()
            self.connection.begin()
        except BaseException:
            if self.connection is not None:
                self.connection.close()
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    @property
    def session(self) -> Session:
        """The ORM Session of this unit of work (made on first use; same transaction)."""
        if self._session is None:
            assert self.connection is not None, "use the unit of work in a `with` block"
            # control_fully: the Session's commit/rollback are the connection's; only __exit__ calls them.
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="control_fully")
        return self._session

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.connection is not None
        try:
            if exc_type is None:
                self._commit()
            else:
                self._rollback()
        finally:
            try:
                if self._session is not None:
                    self._session.close()
                self.connection.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _commit(self) -> None:
        try:
            if self._session is not None:
                self._session.commit()  # flushes, then commits the connection's transaction
            else:
                self.connection.commit()
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self.connection.in_transaction():
            self.connection.rollback()

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()


UowFactory = Callable[[], UnitOfWork]


def uow_factory(engine: Engine) -> UowFactory:
    return lambda: UnitOfWork(engine)
