"""Prebuilt statements run on the DB-API cursor, for the few statements every command runs.

SQLAlchemy's execute path (execution context, result wrapper, compiled-cache lookup) costs about
30 µs a statement on top of SQLite's own 2-7 µs, and a typed /progress runs five of them
(bench/run.py). `Prepared` keeps what SQLAlchemy would do and drops the per-call bookkeeping: the
Core statement is compiled once per dialect (SQLAlchemy writes the SQL and the parameter order),
the column types convert the values (their own bind processors, e.g. storage.types.UTCDateTime),
and the SQL runs on the unit of work's connection, inside its transaction. Errors are wrapped as
SQLAlchemy wraps them (a duplicate key is still an `IntegrityError`).

SQLite only, where the database is a local file: on other engines the statement goes through
`Connection.execute` as usual, since there SQLAlchemy's handling of a lost connection (dropping
the pool) matters more than the microseconds. Only for statements whose results need no
conversion on the way out (ids, text, numbers): rows come back as named tuples of the DB-API
values; `compile()` checks this.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
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

    def _run(self, conn: Connection, params, fetch: Callable | None, many: bool = False):
        plan = self.compile(conn.dialect)
        args = [self._args(plan, p) for p in params] if many else self._args(plan, params)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            (cursor.executemany if many else cursor.execute)(plan.sql, args)
            return fetch(plan, cursor) if fetch is not None else None
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance(plan.sql, args, e, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect, ismulti=many) from e
        finally:
            cursor.close()

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, params)
            return
        self._run(conn, params, None)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, list(rows))
            return
        self._run(conn, rows, None, many=True)

    def first(self, conn: Connection, params: Mapping[str, Any]):
        """The first row (with attribute access by column name), or None."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).first()
        return self._run(conn, params, _first)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list:
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).all()
        return self._run(conn, params, _all)


def _first(plan: _Plan, cursor):
    found = cursor.fetchone()
    return plan.row._make(found) if found is not None else None


def _all(plan: _Plan, cursor) -> list:
    return [plan.row._make(r) for r in cursor.fetchall()]
