"""Engine and sessions. SQLite (WAL) in the business directory by default; any SQLAlchemy URL by config."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # Let SQLAlchemy control transactions, then make each one take the write lock up
            # front (BEGIN IMMEDIATE): two workers can never interleave a read-then-write, which
            # keeps the audit chain and idempotency checks correct across processes.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


# PostgreSQL advisory-lock key for migrations (any constant; this one spells "safedesk" in hex-ish).
_MIGRATION_LOCK_KEY = 0x5AFEDE5C
TURN_LOCK_CONNECTIONS = 16  # per worker: each running turn holds one (PostgreSQL's default max is 100)
_TURN_LOCK_SPACE = 0x5AFE  # first key of the two-key advisory locks that hold one conversation's turns


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent).

    On PostgreSQL the migration holds a transaction-scoped advisory lock: several workers starting together
    on an empty database would otherwise race to create the same tables, and all but one would fail. The
    others wait, then find the schema current. It runs at READ COMMITTED whatever the server's default: under
    REPEATABLE READ a waiter's snapshot would predate the first migrator's commit and still see no tables.
    (SQLite's BEGIN IMMEDIATE already serialises migrators.)"""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as base:
        connection = base.execution_options(isolation_level="READ COMMITTED") if postgres else base
        with connection.begin():
            if postgres:
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")


class Database:
    """An engine plus a session factory; `session()` commits on success, rolls back on error."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._lock_engine: Engine | None = None
        self._lock_slots = threading.BoundedSemaphore(TURN_LOCK_CONNECTIONS)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def turn_locks_span_processes(self) -> bool:
        """Does `turn_lock` keep other processes out (PostgreSQL), not just this process's threads?"""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def turn_lock(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold `key`'s turn lock (one turn of a conversation at a time) across every worker; yields
        whether it was acquired within `timeout` seconds.

        PostgreSQL: a session-level advisory lock on a connection of its own (outside the pool, so turns
        never starve the pool), held across the turn's several transactions and released when the turn
        ends or, if the worker dies, when its connection does. SQLite: nothing to do, because one worker
        serves a SQLite desk and the caller's in-process lock covers its threads."""
        if not self.turn_locks_span_processes:
            yield True
            return
        if self._lock_engine is None:
            # TCP keepalives: a worker cut off from the network (not killed) lets go within about a minute.
            keepalive = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
            self._lock_engine = create_engine(self.url, poolclass=NullPool, connect_args=keepalive)
        lock_id = int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:4], "big", signed=True)
        params = {"space": _TURN_LOCK_SPACE, "id": lock_id}
        deadline = time.monotonic() + timeout
        # At most TURN_LOCK_CONNECTIONS lock connections per worker; more turns wait for a free one.
        if not self._lock_slots.acquire(timeout=timeout):
            yield False
            return
        try:
            connection = self._lock_engine.connect()
        except OperationalError:  # the server refuses more connections, or is away: "busy, retry"
            self._lock_slots.release()
            yield False
            return
        acquired = False
        try:
            while True:
                acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:space, :id)"), params).scalar())
                connection.commit()
                if acquired or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            yield acquired
        finally:
            try:
                if acquired:
                    connection.execute(text("SELECT pg_advisory_unlock(:space, :id)"), params)
                    connection.commit()
            except Exception:
                connection.invalidate()  # closing the session releases its locks
                raise
            finally:
                connection.close()
                self._lock_slots.release()

    def dispose(self) -> None:
        if self._lock_engine is not None:
            self._lock_engine.dispose()
        self.engine.dispose()
