"""Prebuilt statements on an asyncio psycopg connection, straight through libpq (storage.prepared).

A statement through psycopg's AsyncCursor costs the bot about 100 µs of CPU on the event loop
(a cursor and its adapters made and closed, a lock, psycopg's generators and waiting code), more
than twice what the same work costs done here (bench/run.py, /progress on PostgreSQL): the values
converted by psycopg's own Transformer, the statement prepared on the server once per connection,
one wait on the socket through the running loop, the rows made by the Transformer too.

`run` sends its statements in one pipeline (libpq's pipeline mode) ending in one Sync: one round
trip, whatever their number. Statements before a Sync with no BEGIN run as one implicit
transaction (PostgreSQL's protocol): all of them are kept, or none when one fails. A first use on
a connection sends its Parse in the same pipeline. Errors are psycopg's own (a duplicate key is
psycopg.errors.UniqueViolation), raised once the pipeline is over. A failure on the wire itself
(the server went away) is psycopg's OperationalError, with the connection broken; one that
leaves the connection in an unknown state (the caller gave up half way) closes it, so that
SQLAlchemy throws it away instead of handing it to the next unit of work.
"""
from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_FAILED = pq.ExecStatus.FATAL_ERROR
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_NAMES = itertools.count()


class _State:
    """What one connection keeps: its Transformer and the statements prepared on it."""

    __slots__ = ("encoding", "prepared", "tx")

    def __init__(self, driver) -> None:
        self.tx = Transformer(driver)
        self.encoding = driver.info.encoding
        #: (SQL, parameter types) -> name of the server's prepared statement.
        self.prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}


_STATES: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()


class Step:
    """One statement to send: its SQL (with $1, $2 ...) and its values in that order."""

    __slots__ = ("make_row", "query", "values")

    def __init__(self, query: bytes, values: Sequence[Any], make_row: Callable[[Sequence], Any] | None = None):
        self.query, self.values, self.make_row = query, values, make_row


async def run(driver, steps: Sequence[Step], *, begin: bool = False) -> list:
    """Send steps in one round trip; the last one's rows (made by its make_row), or [].
    begin: open a transaction first, left open after them (BEGIN in the same pipeline)."""
    state = _STATES.get(driver)
    if state is None:
        state = _STATES[driver] = _State(driver)
    pgconn = driver.pgconn
    pgconn.enter_pipeline_mode()
    try:
        parses = _send(pgconn, state, steps, begin)
        pgconn.pipeline_sync()
        results = await _exchange(pgconn)
        pgconn.exit_pipeline_mode()
    except BaseException:
        if pgconn.status == pq.ConnStatus.OK:  # half way through: nobody can tell what is pending
            pgconn.finish()
        raise
    return _outcome(state, results, parses, steps[-1] if steps else None)


def _send(pgconn, state: _State, steps: Sequence[Step], begin: bool) -> list[tuple[tuple, bytes]]:
    """Queue everything; returns the statements whose Parse went out with them (not yet known to
    exist on the server: only a Parse that succeeds is remembered)."""
    parses: list[tuple[tuple, bytes]] = []
    if begin:
        pgconn.send_query_params(b"BEGIN", None)
    tx = state.tx
    for step in steps:
        values = tx.dump_sequence(step.values, _auto(len(step.values)))
        key = (step.query, tuple(tx.types or ()))
        name = state.prepared.get(key)
        if name is None:
            name = next((n for k, n in parses if k == key), None)
        if name is None:
            name = f"teambot_{next(_NAMES)}".encode()
            pgconn.send_prepare(name, step.query, param_types=key[1])
            parses.append((key, name))
        pgconn.send_query_prepared(name, values, param_formats=tx.formats)
    return parses


def _auto(n: int, _formats: dict[int, list] = {}) -> list:  # noqa: B006 - a cache on purpose
    """[PyFormat.AUTO] * n, made once per n: psycopg picks each value's format itself."""
    formats = _formats.get(n)
    if formats is None:
        formats = _formats[n] = [PyFormat.AUTO] * n
    return formats


async def _exchange(pgconn) -> list:
    """Flush what was queued, then every result up to the Sync's."""
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    while pgconn.flush():
        await _ready(loop, fd, loop.add_writer, loop.remove_writer)
    results = []
    while True:
        while pgconn.is_busy():
            await _ready(loop, fd, loop.add_reader, loop.remove_reader)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one statement's results
            continue
        if result.status == _SYNC:
            return results
        results.append(result)


async def _ready(loop, fd: int, add, remove) -> None:
    fut = loop.create_future()
    add(fd, _wake, fut)
    try:
        await fut
    finally:
        remove(fd)


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _outcome(state: _State, results: list, parses: list, last: Step | None) -> list:
    for result in results:
        status = result.status
        if status == _FAILED:  # nothing of the pipeline was kept (a Parse before the failure may
            error = errors.error_from_result(result, encoding=state.encoding)  # be: new names next time)
            if isinstance(error, errors.InvalidSqlStatementName):
                # Someone cleared the session's prepared statements (DISCARD ALL, DEALLOCATE ALL):
                # this command fails, the next ones prepare theirs again.
                state.prepared.clear()
            raise error
        if status not in _OK:
            raise errors.InternalError(f"unexpected result from PostgreSQL: {pq.ExecStatus(status).name}")
    for key, name in parses:
        state.prepared[key] = name
    if last is None or last.make_row is None:
        return []
    rows = results[-1]
    tx = state.tx
    tx.set_pgresult(rows)
    return tx.load_rows(0, rows.ntuples, last.make_row)
