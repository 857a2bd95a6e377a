"""Engine from URL. SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL goes through psycopg 3."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

from storage import checkpoint

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


# No pool_pre_ping: it costs a round trip (three psycopg calls) per unit of work. A connection
# that went away (a restart, a failover) fails its first statement instead; SQLAlchemy then
# discards the whole pool and the dispatcher runs the command again (commands.core.dispatch).
# pool_recycle retires connections before an idle timeout in between (a proxy, a firewall) can.
PG_POOL = {"pool_size": 10, "max_overflow": 20, "pool_recycle": 1800}


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, echo=echo, **PG_POOL)


def _sqlite_setup(engine: Engine) -> None:
    file_backed = engine.url.database not in (None, "", ":memory:")
    if file_backed:
        checkpoint.attach(engine, engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if file_backed:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if file_backed:
            cur.execute(f"PRAGMA wal_autocheckpoint={checkpoint.SAFETY_NET_PAGES}")
        cur.close()

    # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it upgrades a read lock mid-transaction.
    # Set on this engine's dialect rather than through a "begin" event: any connection event makes
    # SQLAlchemy run its event hooks around every statement, which cost more than the statements.
    engine.dialect.do_begin = _begin_immediate


def _begin_immediate(dbapi_conn) -> None:
    dbapi_conn.execute("BEGIN IMMEDIATE")


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"
