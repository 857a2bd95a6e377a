"""Group commit for the commands an HTTP server answers on its event loop (SQLite).

Each typed command on SQLite is short local work, run on the event loop's thread (see
bot.slack.server); on its own each one paid for a whole transaction: BEGIN, the commit's WAL
writes (the same few b-tree pages, again and again) and the pool round trip. Here the commands
handled in one turn of the event loop share one transaction, each in its own savepoint
(storage.uow.SharedTransaction), and the transaction commits at the start of the next turn.
No answer leaves before that commit: each request awaits it, so an answer still means "saved".
Should the commit fail, every command of that turn fails (the caller answers with its generic
error) and nothing of them is kept; a retry then runs them afresh.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine

from storage.uow import SharedTransaction

log = logging.getLogger("teambot.group_commit")
T = TypeVar("T")


class _Turn:
    """The commands of one event-loop turn: their shared transaction and who waits for it."""

    def __init__(self, engine: Engine):
        self.shared = SharedTransaction(engine)
        self.waiting: list[asyncio.Future] = []


class GroupCommit:
    def __init__(self, engine: Engine):
        if engine.dialect.name != "sqlite":
            raise ValueError("group commit is for SQLite: on PostgreSQL see storage.awaited")
        self.engine = engine
        self._turn: _Turn | None = None
        #: Turns committed and commands run, for tests and benchmarks.
        self.batches = 0
        self.commands = 0

    def close(self) -> None:
        """Nothing of its own to close: the engine is the dispatcher's."""

    async def run(self, fn: Callable[[], T]) -> T:
        """fn() now, on this thread, its units of work joining this turn's transaction; returns
        its result once that transaction has committed (raises if it could not)."""
        loop = asyncio.get_running_loop()
        turn = self._turn
        if turn is None:
            turn = self._turn = _Turn(self.engine)
            loop.call_soon(self._commit, turn)
        with turn.shared.joined():
            result = fn()
        self.commands += 1
        # One future per request: a client that hangs up cancels its own wait, not the others'.
        committed = loop.create_future()
        turn.waiting.append(committed)
        await committed
        return result

    def _commit(self, turn: _Turn) -> None:
        if self._turn is turn:
            self._turn = None
        self.batches += 1
        try:
            turn.shared.commit()
        except Exception as e:  # noqa: BLE001 - every waiting request answers with the error
            log.exception("group commit of %d unit(s) of work failed", turn.shared.units)
            for w in turn.waiting:
                if not w.done():
                    w.set_exception(e)
                    w.exception()  # retrieved here: asyncio need not warn if its request is gone
        else:
            for w in turn.waiting:
                if not w.done():
                    w.set_result(None)
