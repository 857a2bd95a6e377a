"""Helpers for the tests of shared transactions, group commit (SQLite) and awaited statements
(PostgreSQL): write a receipt in a unit of work, or fail after writing it; make a unit of work
whose COMMIT will fail, and see what is committed (SQLite)."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone

from storage.models import InboundReceipt
from storage.prepared import Prepared, insert_columns
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
_INSERT_RECEIPT = Prepared(insert_columns(InboundReceipt.__table__, "platform", "key", "reply_json", "received_at"))


def write_receipt(u: UnitOfWork, key: str, reply_json: str = "{}") -> None:
    u.write(_INSERT_RECEIPT, {"platform": "slack", "key": key, "reply_json": reply_json, "received_at": NOW})


def write(engine, key: str) -> str:
    """A command: one unit of work that writes the receipt `key`. Returns the key."""
    with UnitOfWork(engine) as u:
        write_receipt(u, key)
    return key


def write_then_raise(engine, key: str, error: Exception) -> None:
    """A command that fails after its first write: its unit of work must keep nothing."""
    with UnitOfWork(engine) as u:
        write_receipt(u, key)
        raise error


def fail_at_commit(u: UnitOfWork) -> None:
    """Leave a row whose foreign key SQLite checks only at COMMIT, which then fails: a real failed
    commit, as SQLITE_BUSY or a full disk would give, with nothing faked."""
    u.connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    u.connection.exec_driver_sql("INSERT INTO member (team_id, user_id, display_name, role, joined_at) "
                                 "VALUES (999, 'U9', '', 'rep', '2026-11-26 02:00:00.000000')")


def committed(engine, sql: str) -> list:
    """What another connection sees, reading without waiting for the writer: committed rows only.
    (Every transaction of the engine's own is BEGIN IMMEDIATE, which would wait.)"""
    with closing(sqlite3.connect(engine.url.database)) as c:
        return [r[0] if len(r) == 1 else r for r in c.execute(sql)]


def committed_keys(engine) -> list[str]:
    return committed(engine, 'select "key" from inbound_receipt order by "key"')
