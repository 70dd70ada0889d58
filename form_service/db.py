"""Database engines and sessions shared by intake and review (the tables live in models/)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from form_service.settings import ReviewSettings, Settings

# What every SQLite connection must run with: WAL with synchronous=FULL survives
# power loss, foreign keys are off by default in SQLite, and secure_delete overwrites
# deleted rows with zeros (off in SQLite's default build; Debian's happens to turn it on).
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}


class DatabaseSetupError(RuntimeError):
    """The database connection does not have the settings the service needs."""


def make_engine(settings: Settings) -> Engine:
    """Create the engine (no connection is opened here)."""
    # hide_parameters keeps bound values (ciphertext, receipt hashes) out of error
    # messages, and so out of every traceback that reaches a log.
    if not settings.is_sqlite:
        # pool_pre_ping replaces connections that PostgreSQL dropped while idle.
        return create_engine(settings.database_url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(settings.database_url, hide_parameters=True)
    busy_timeout_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        """Apply the durability and integrity pragmas to a new SQLite connection."""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()

    return engine


def check_engine(engine: Engine) -> None:
    """Check that SQLite pragmas took effect, then close the connection used for it."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            for pragma, expected in SQLITE_PRAGMAS.items():
                value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                if str(value).lower() != str(expected):
                    raise DatabaseSetupError(f"SQLite {pragma} is {value!r}, not {expected!r}")
    finally:
        # Never hand a pooled connection to processes forked after start-up.
        engine.dispose()


class WriteLockTimeout(RuntimeError):
    """Another writer held the database for longer than the busy timeout."""


def make_write_lock(settings: Settings) -> Callable[[], AbstractContextManager[None]]:
    """Return a lock that serializes this database's writers across processes.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps
    (1, 2, 5, 10 ... 100 ms), which turns brief contention between gunicorn workers into
    long tails. An OS file lock taken first hands the database over at once instead.
    PostgreSQL needs no such lock.
    """
    path = sqlite_file(settings.database_url)
    if path is None:
        return nullcontext
    lock_path = path.with_name(path.name + ".write-lock")
    timeout = settings.sqlite_busy_timeout_ms / 1000

    @contextmanager
    def hold() -> Iterator[None]:
        """Hold the write lock for the duration of one transaction."""
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WriteLockTimeout(str(lock_path)) from None
                    time.sleep(0.0002)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    return hold


def sqlite_file(database_url: str) -> Path | None:
    """Return the file of a file-based SQLite URL (None for other databases)."""
    if not database_url.startswith("sqlite:///") or database_url.endswith(":memory:"):
        return None
    return Path(database_url.split(":///", 1)[1])


def make_session_factory(engine: Engine, settings: Settings | None = None) -> sessionmaker[Session]:
    """Create the session factory used by one app; the desk's sessions carry the audit key."""
    info = session_info(settings) if settings is not None else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


def session_info(settings: Settings) -> dict[str, object]:
    """Return what every session of these settings carries: the audit key, for the desk."""
    key = settings.read_audit_key() if isinstance(settings, ReviewSettings) else None
    # The name form_service.review.audit.AUDIT_KEY reads (the core never imports the desk).
    return {"audit_key": key} if key is not None else {}
