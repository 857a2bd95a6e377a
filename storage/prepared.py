"""Prebuilt statements run on the DB-API cursor, for the few statements every command runs.

SQLAlchemy's execute path (execution context, result wrapper, compiled-cache lookup) costs about
30 µs a statement on top of SQLite's own 2-7 µs, and more than that on PostgreSQL's asyncio path
(bench/run.py). `Prepared` keeps what SQLAlchemy would do and drops the per-call bookkeeping: the
Core statement is compiled once per dialect (SQLAlchemy writes the SQL and the parameter order),
the column types convert the values (their own bind processors, e.g. storage.types.UTCDateTime),
and the SQL runs on the unit of work's connection, inside its transaction. Errors are wrapped as
SQLAlchemy wraps them (a duplicate key is still an `IntegrityError`). On PostgreSQL psycopg
prepares a statement on the server once it has run a few times on a connection.

A connection the server has dropped (a restart, a failover) is handed back to SQLAlchemy: the next
statement through `Connection` fails at once on it, and SQLAlchemy does what it does for any lost
connection (discards the pool's connections, marks the error `connection_invalidated`, on which
the dispatcher runs the command again). Only for statements whose results need no conversion on
the way out (ids, text, numbers): rows come back as named tuples of the DB-API values;
`compile()` checks this.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    positional: bool
    names: tuple[str, ...]
    #: (name, bind processor or None) in parameter order.
    steps: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    #: Values the statement carries itself (a LIMIT, a literal compared with).
    fixed: Mapping[str, Any]
    row: type | None


def insert_columns(table: Table, *columns: str) -> Insert:
    """INSERT INTO table (columns...) VALUES (:column, ...): every column named, each value a
    parameter of the same name (what Prepared needs: no column left to a Python-side default)."""
    return insert(table).values({c: bindparam(c) for c in columns})


class Prepared:
    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def compile(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("expanding parameters (IN lists) are not supported: use conn.execute()")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # Columns left to their Python-side defaults: SQLAlchemy fills those in per execution.
            missing = [c.key for c in (compiled.insert_prefetch or compiled.update_prefetch)]
            raise ValueError(f"give every column a value (no Python-side defaults): {missing}")
        binds = compiled.binds
        names = tuple(compiled.positiontup) if compiled.positional else tuple(binds)
        fixed = {name: binds[name].effective_value for name in names
                 if not binds[name].required and binds[name].callable is None}
        steps = tuple((name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
        row = None
        columns = getattr(self.statement, "selected_columns", None)
        if columns is None and getattr(self.statement, "_returning", None):
            columns = self.statement._returning
        if columns is not None:
            keys = []
            for col in columns:
                if col.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                    raise ValueError(f"column {col.key!r} needs converting on the way out: use conn.execute()")
                keys.append(col.key)
            row = namedtuple("Row", keys, rename=True)
        return _Plan(compiled.string, compiled.positional, names, steps, fixed, row)

    def _args(self, plan: _Plan, params: Mapping[str, Any]):
        values = []
        for name, proc in plan.steps:
            value = params[name] if name in params else plan.fixed[name]
            values.append(proc(value) if proc is not None and value is not None else value)
        return tuple(values) if plan.positional else dict(zip(plan.names, values))

    def _run(self, conn: Connection, params, fetch: str, many: bool = False) -> list | None:
        """fetch: "" (no rows), "one" or "all"; rows as the DB-API gives them."""
        plan = self.compile(conn.dialect)
        args = [self._args(plan, p) for p in params] if many else self._args(plan, params)
        with _wrapped(conn, plan.sql, args, many):
            dbapi = conn.connection.dbapi_connection
            if conn.dialect.is_async:  # psycopg's AsyncConnection, in a greenlet (storage.awaited)
                return dbapi.run_async(lambda driver: _run_async(driver, plan.sql, args, fetch, many))
            cursor = dbapi.cursor()
            try:
                (cursor.executemany if many else cursor.execute)(plan.sql, args)
                if fetch == "one":
                    row = cursor.fetchone()
                    return [row] if row is not None else []
                return cursor.fetchall() if fetch else None
            finally:
                cursor.close()

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        self._run(conn, params, "")

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        self._run(conn, rows, "", many=True)

    def first(self, conn: Connection, params: Mapping[str, Any]):
        """The first row (with attribute access by column name), or None."""
        rows = self._run(conn, params, "one")
        return self._plans[conn.dialect.name].row._make(rows[0]) if rows else None

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list:
        make = self.compile(conn.dialect).row._make
        return [make(r) for r in self._run(conn, params, "all")]

    def literal(self, conn: Connection, params: Mapping[str, Any]) -> str:
        """The statement with its values written in (PostgreSQL: psycopg quotes them as a client-side
        binding cursor does), for several statements sent in one message (see send_together)."""
        plan = self.compile(conn.dialect)
        return _client_cursor(conn)(conn.connection.driver_connection).mogrify(plan.sql, self._args(plan, params))


async def _run_async(driver, sql: str, args, fetch: str, many: bool) -> list | None:
    cursor = driver.cursor()
    try:
        if many:
            await cursor.executemany(sql, args)
            return None
        await cursor.execute(sql, args)
        if fetch == "one":
            row = await cursor.fetchone()
            return [row] if row is not None else []
        return await cursor.fetchall() if fetch else None
    finally:
        await cursor.close()


def send_together(conn: Connection, statements: Sequence[str]) -> None:
    """Several statements (Prepared.literal, or plain SQL such as BEGIN and COMMIT) in one message
    to PostgreSQL, one round trip: the simple query protocol runs them in order and stops at the
    first error. Not on SQLite, whose statements cost no round trip."""
    sql = ";\n".join(statements)
    with _wrapped(conn, sql, None, False):
        dbapi = conn.connection.dbapi_connection
        if conn.dialect.is_async:
            dbapi.run_async(lambda driver: driver.execute(sql, prepare=False))
        else:
            with dbapi.cursor() as cursor:
                cursor.execute(sql, prepare=False)


def _client_cursor(conn: Connection):
    import psycopg

    return psycopg.AsyncClientCursor if conn.dialect.is_async else psycopg.ClientCursor


@contextmanager
def _wrapped(conn: Connection, sql: str, args, many: bool) -> Iterator[None]:
    """DB-API errors as SQLAlchemy raises them; a lost connection handed back to SQLAlchemy."""
    error_class = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except error_class as e:
        if conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, None):
            # On the broken connection this fails at once (nothing reaches the server), and
            # SQLAlchemy invalidates it and the pool and raises with connection_invalidated set.
            conn.exec_driver_sql("SELECT 1")
        raise DBAPIError.instance(sql, args, e, error_class, dialect=conn.dialect, ismulti=many) from e
