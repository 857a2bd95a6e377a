"""SQLite WAL checkpoints on a background thread instead of inside a command's commit.

In WAL mode SQLite copies the log back into the database file ("checkpoint") when a commit finds
the log past `wal_autocheckpoint` pages, and that commit then pays for the copy and an fsync:
measured here, a commit took 0.12 ms at the median and 15 ms at the 99th percentile because of
it. The checkpointer does the same work on its own connection and thread a few times a second
when something was committed; SQLite's PASSIVE mode never waits for, or blocks, readers and
writers. The autocheckpoint stays on with a larger threshold as a safety net, should the thread
fall behind."""
from __future__ import annotations

import logging
import sqlite3
import threading
import weakref

from sqlalchemy.engine import Engine

log = logging.getLogger("teambot.storage")

#: How often the thread looks for committed work to checkpoint (seconds). Longer pauses copy less
#: (a page written again and again is copied once) but in bigger bursts: 1 s doubled bench/run.py's
#: p99 (22 -> 30 ms) for no gain in throughput.
INTERVAL = 0.25
#: The in-commit checkpoint still happens past this many log pages (4 KB each): ~40 MB.
SAFETY_NET_PAGES = 10_000


class WalCheckpointer:
    def __init__(self, path: str, interval: float = INTERVAL):
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def committed(self) -> None:
        """Called after every commit on the engine: cheap (sets a flag; starts the thread once)."""
        self._dirty.set()
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint",
                                                    daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        busy, log_pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        if busy:
            log.debug("WAL checkpoint busy: %s of %s pages copied", done, log_pages)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            log.exception("WAL checkpointer could not open %s; SQLite's own checkpoints continue",
                          self.path)
            return
        try:
            while not self._stop.is_set():
                self._dirty.wait()
                if self._stop.wait(self.interval):
                    break
                self._dirty.clear()
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as e:  # e.g. the file was removed under us; try again later
                    log.warning("WAL checkpoint failed: %s", e)
        finally:
            conn.close()


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


def of(engine: Engine) -> WalCheckpointer | None:
    """The checkpointer of a file-backed SQLite engine from storage.db.make_engine."""
    return _BY_ENGINE.get(engine)


def attach(engine: Engine, path: str) -> WalCheckpointer:
    """Checkpoint `engine`'s database file in the background from its first commit on; stops when
    the engine is garbage-collected (or with `stop()`)."""
    cp = WalCheckpointer(path)
    # Wrapped on the dialect, not a "commit" event: see storage.db (events slow every statement).
    commit = engine.dialect.do_commit

    def do_commit(dbapi_conn) -> None:
        commit(dbapi_conn)
        cp.committed()

    engine.dialect.do_commit = do_commit
    weakref.finalize(engine, cp.stop)
    _BY_ENGINE[engine] = cp
    return cp
