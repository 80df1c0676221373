"""Engines and sessions for SQLite (WAL) and PostgreSQL (psycopg 3).

Driver errors meaning "try later" or "cannot reach it" surface as DatabaseUnavailable, wherever
they happen (session, Core, Alembic), because the translation is an engine event.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import URL, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from vigil.core.database_urls import mask_url, normalise_database_url, sqlite_path
from vigil.core.private_files import private_file, tighten_directory
from vigil.core.settings import (
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_SQLITE_SYNCHRONOUS,
    Settings,
    SqliteSynchronous,
)
from vigil.store.errors import DatabaseUnavailable, UnavailableReason

_BEGIN_OPTION = "vigil_sqlite_begin"


def create_engine(
    url: str | URL,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    echo: bool = False,
    sqlite_foreign_keys: bool = True,
    sqlite_synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS,
    **engine_options: Any,
) -> Engine:
    """An engine with Vigil's connection setup; ``engine_options`` go to SQLAlchemy."""
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(
            parsed, busy_timeout, sqlite_foreign_keys, echo, engine_options, sqlite_synchronous
        )
    else:
        engine = _postgresql_engine(parsed, connect_timeout, echo, engine_options)
    event.listen(engine, "handle_error", _ErrorTranslator(parsed, busy_timeout))
    return engine


def _create_private(url: URL) -> None:
    """Create the database file 0600 before SQLite does (it would follow the umask); SQLite
    gives its -wal and -shm files the database file's mode."""
    path = sqlite_path(url)
    if path is None or path.startswith("file:") or not Path(path).parent.is_dir():
        return  # in memory, a URI SQLite opens itself, or a folder SQLite will complain of
    private_file(Path(path))


def _sqlite_engine(
    url: URL,
    busy_timeout: float,
    foreign_keys: bool,
    echo: bool,
    options: dict[str, Any],
    synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS,
) -> Engine:
    connect_args = {"timeout": busy_timeout, **options.pop("connect_args", {})}
    _create_private(url)
    engine = sqlalchemy.create_engine(url, echo=echo, connect_args=connect_args, **options)
    pragmas = (
        "PRAGMA journal_mode=WAL",  # readers never wait for the writer
        # FULL: a commit is on disk before it is acknowledged. Under WAL, NORMAL can lose the
        # last commits on power loss - a /finish or a record already answered "kept".
        f"PRAGMA synchronous={synchronous.upper()}",
        f"PRAGMA busy_timeout={int(busy_timeout * 1000)}",
        f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}",  # off by default in SQLite
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # sqlite3's own implicit BEGIN skips SELECTs and DDL; SQLAlchemy emits BEGIN instead.
        dbapi_connection.isolation_level = None
        for pragma in pragmas:
            dbapi_connection.execute(pragma).close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sqlalchemy.Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgresql_engine(
    url: URL, connect_timeout: float, echo: bool, options: dict[str, Any]
) -> Engine:
    connect_args = {
        "connect_timeout": max(1, math.ceil(connect_timeout)),  # libpq takes whole seconds
        **options.pop("connect_args", {}),
    }
    options.setdefault("pool_pre_ping", True)  # survive server restarts between requests
    return sqlalchemy.create_engine(url, echo=echo, connect_args=connect_args, **options)


def writer_engine(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions take the write lock at BEGIN (IMMEDIATE).

    A deferred SQLite transaction that reads and then writes fails at once, without waiting,
    if another writer committed in between; taking the lock first makes it wait (busy_timeout)
    instead. No difference on PostgreSQL.
    """
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


class _ErrorTranslator:
    """``handle_error`` listener: locked/unreachable driver errors become DatabaseUnavailable."""

    def __init__(self, url: URL, busy_timeout: float) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.busy_timeout = busy_timeout

    def __call__(self, context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:
            return None  # the pool handles stale connections by reconnecting
        reason = self._reason(context)
        if reason is None:
            return None
        return DatabaseUnavailable(
            self._message(reason, context), reason=reason, url=self.masked_url
        )

    def _reason(self, context: ExceptionContext) -> UnavailableReason | None:
        error = context.original_exception
        if isinstance(error, sqlite3.OperationalError):
            return _sqlite_reason(str(error))
        if getattr(error, "sqlstate", None) == "55P03":  # lock_not_available
            return UnavailableReason.LOCKED
        if context.connection is None or context.is_disconnect:
            return UnavailableReason.UNREACHABLE
        return None

    def _message(self, reason: UnavailableReason, context: ExceptionContext) -> str:
        if reason is UnavailableReason.LOCKED and self.url.get_backend_name() == "sqlite":
            return (
                f"The database {self.masked_url} is locked by another program (waited "
                f"{self.busy_timeout:g} s). Wait for it to finish or stop other Vigil "
                "processes using this database, then try again."
            )
        if reason is UnavailableReason.LOCKED:
            return f"The database {self.masked_url} is busy (lock timeout); try again later."
        detail = _first_line(str(context.original_exception))
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        return f"Cannot connect to the database {self.masked_url}: {detail}"


def _sqlite_reason(message: str) -> UnavailableReason | None:
    text = message.lower()
    if "locked" in text or "busy" in text:
        return UnavailableReason.LOCKED
    if "unable to open database file" in text:
        return UnavailableReason.UNREACHABLE
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no details from the driver"


class Database:
    """An engine plus session factories: the handle every other layer receives.

    Sessions keep loaded attributes after commit (``expire_on_commit=False``) so results can be
    used after the transaction; re-query when fresh data matters.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=writer_engine(engine), expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def masked_url(self) -> str:
        return mask_url(self.engine.url)

    def session(self, *, write: bool = False) -> Session:
        """A new session; the caller commits and closes it (use it as a context manager)."""
        return (self._write_sessions if write else self._sessions)()

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error.
        Pass ``write=True`` when the transaction writes, so SQLite waits for the lock."""
        with self.session(write=write) as session, session.begin():
            yield session

    def ping(self) -> None:
        """Run the cheapest query there is (``SELECT 1``) in a transaction of its own; raises
        what the driver raises when the database does not answer (the readiness check)."""
        with self.transaction() as session:
            session.execute(sqlalchemy.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.masked_url!r})"


def open_database(source: Settings | str | URL) -> Database:
    """A Database for the configured URL (creating Vigil's data directory if needed)."""
    if isinstance(source, Settings):
        tighten_directory(source.data_dir)
        engine = create_engine(
            source.database_url,
            busy_timeout=source.database.busy_timeout,
            connect_timeout=source.database.connect_timeout,
            echo=source.database.echo,
            sqlite_synchronous=source.database.sqlite_synchronous,
        )
    else:
        engine = create_engine(source)
    return Database(engine)
