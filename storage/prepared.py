"""Prebuilt statements run on the DB-API cursor, for the few statements every command runs.

SQLAlchemy's execute path (execution context, result wrapper, compiled-cache lookup) costs about
30 µs a statement on top of SQLite's own 2-7 µs, and more than that on PostgreSQL's asyncio path
(bench/run.py). `Prepared` keeps what SQLAlchemy would do and drops the per-call bookkeeping: the
Core statement is compiled once per dialect (SQLAlchemy writes the SQL and the parameter order),
the column types convert the values (their own bind processors, e.g. storage.types.UTCDateTime),
and the SQL runs on the unit of work's connection, inside its transaction. Errors are wrapped as
SQLAlchemy wraps them (a duplicate key is still an `IntegrityError`). On PostgreSQL psycopg
prepares a statement on the server once it has run a few times on a connection. On the asyncio
twin (storage.awaited) the statements skip psycopg's cursors and go through libpq itself
(storage.pgwire: prepared on first use, values and rows converted by psycopg's Transformer), and
`run_together` sends several in one round trip.

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
from typing import Any, NoReturn

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Insert

from storage import pgwire


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
    #: The SQL as bytes (storage.pgwire sends it as is).
    query: bytes


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
        return _Plan(compiled.string, compiled.positional, names, steps, fixed, row, compiled.string.encode())

    def _args(self, plan: _Plan, params: Mapping[str, Any]):
        values = []
        for name, proc in plan.steps:
            value = params[name] if name in params else plan.fixed[name]
            values.append(proc(value) if proc is not None and value is not None else value)
        return tuple(values) if plan.positional else dict(zip(plan.names, values))

    def _wire_step(self, conn: Connection, params: Mapping[str, Any]) -> pgwire.Step:
        """This statement for storage.pgwire: SQL with $1, $2 ... and the values in that order."""
        plan = self._plans.get(_WIRE)
        if plan is None:
            plan = self._plans[_WIRE] = self._compile(_wire_dialect(conn.dialect))
        return pgwire.Step(plan.query, self._args(plan, params), plan.row._make if plan.row else None)

    def _run(self, conn: Connection, params, fetch: str, many: bool = False) -> list | None:
        """fetch: "" (no rows), "one" or "all"; rows made with the statement's column names."""
        if conn.dialect.is_async:  # psycopg's AsyncConnection, in a greenlet (storage.awaited)
            steps = [self._wire_step(conn, p) for p in (params if many else [params])]
            return run_wire(conn, steps)
        plan = self.compile(conn.dialect)
        args = [self._args(plan, p) for p in params] if many else self._args(plan, params)
        with _wrapped(conn, plan.sql, args, many):
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                (cursor.executemany if many else cursor.execute)(plan.sql, args)
                if fetch == "one":
                    row = cursor.fetchone()
                    return [plan.row._make(row)] if row is not None else []
                return [plan.row._make(r) for r in cursor.fetchall()] if fetch else None
            finally:
                cursor.close()

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        self._run(conn, params, "")

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        self._run(conn, rows, "", many=True)

    def first(self, conn: Connection, params: Mapping[str, Any]):
        """The first row (with attribute access by column name), or None."""
        rows = self._run(conn, params, "one")
        return rows[0] if rows else None

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list:
        return self._run(conn, params, "all")


#: The plans for storage.pgwire: PostgreSQL's own placeholders ($1), each value once.
_WIRE = "postgresql-wire"
_WIRE_DIALECTS: dict[type, Dialect] = {}


def _wire_dialect(dialect: Dialect) -> Dialect:
    kind = type(dialect)
    wire = _WIRE_DIALECTS.get(kind)
    if wire is None:
        wire = _WIRE_DIALECTS[kind] = kind(paramstyle="numeric_dollar")
    return wire


def run_wire(conn: Connection, steps: Sequence[pgwire.Step], *, begin: bool = False) -> list:
    """Steps on conn (an asyncio psycopg connection) in one round trip (storage.pgwire.run): one
    implicit transaction unless conn is inside one already, or begin opens one that stays open."""
    dbapi = conn.connection.dbapi_connection
    try:
        return dbapi.run_async(lambda driver: pgwire.run(driver, steps, begin=begin))
    except conn.dialect.loaded_dbapi.Error as e:
        _raise_wrapped(conn, e, b";\n".join(s.query for s in steps).decode(), [s.values for s in steps],
                       len(steps) > 1)


def run_together(conn: Connection, deferred: Sequence[tuple[Prepared, Mapping[str, Any]]], *,
                 begin: bool) -> None:
    """Writes waiting for a unit of work's transaction (storage.uow), in one round trip."""
    run_wire(conn, [statement._wire_step(conn, params) for statement, params in deferred], begin=begin)


@contextmanager
def _wrapped(conn: Connection, sql: str, args, many: bool) -> Iterator[None]:
    """DB-API errors as SQLAlchemy raises them; a lost connection handed back to SQLAlchemy."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as e:
        _raise_wrapped(conn, e, sql, args, many)


def _raise_wrapped(conn: Connection, e: Exception, sql: str, args, many: bool) -> NoReturn:
    if conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, None):
        # On the broken connection this fails at once (nothing reaches the server), and
        # SQLAlchemy invalidates it and the pool and raises with connection_invalidated set.
        conn.exec_driver_sql("SELECT 1")
    raise DBAPIError.instance(sql, args, e, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect,
                              ismulti=many) from e
