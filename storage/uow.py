"""Unit of work: one Session per `with`, committed when the block ends cleanly and nowhere else."""
from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
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
        self.session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.session = Session(self._engine, expire_on_commit=False)
            self.session.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.session is not None
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            try:
                self.session.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def flush(self) -> None:
        assert self.session is not None
        self.session.flush()


UowFactory = Callable[[], UnitOfWork]


def uow_factory(engine: Engine) -> UowFactory:
    return lambda: UnitOfWork(engine)
