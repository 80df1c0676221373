"""Engines: SQLite connection settings, UTC datetimes, and locked/unreachable databases."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.store.samples import add_list
from vigil.core.settings import load_settings
from vigil.store import (
    Database,
    DatabaseUnavailable,
    UnavailableReason,
    create_engine,
    open_database,
    upgrade_database,
)
from vigil.store.database import Database as DatabaseClass
from vigil.store.models import HashList


@pytest.fixture
def locked_sqlite(sqlite_url: str) -> Iterator[str]:
    """Another program holds SQLite's write lock on the database for the whole test."""
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield sqlite_url
    finally:
        holder.rollback()
        holder.close()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, busy_timeout=2.5)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    engine.dispose()


SYNCHRONOUS_FULL, SYNCHRONOUS_NORMAL = 2, 1  # SQLite's numbers for the two levels


def test_sqlite_commits_are_durable_by_default(tmp_path: Path) -> None:
    """FULL: an acknowledged commit (a /finish, a kept record) survives power loss; under
    WAL, NORMAL may lose the last ones."""
    database = open_database(load_settings(data_dir=tmp_path / "data"))
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == SYNCHRONOUS_FULL
    finally:
        database.dispose()


def test_an_operator_may_trade_durability_for_speed(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", database={"sqlite_synchronous": "normal"})
    database = open_database(settings)
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == SYNCHRONOUS_NORMAL
    finally:
        database.dispose()


def test_datetimes_come_back_aware_utc(database: Database) -> None:
    created = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with database.transaction(write=True) as session:
        add_list(session, created_at=created)
    with database.transaction() as session:
        stored = session.scalars(select(HashList.created_at)).one()
    assert stored == created
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.tzinfo == UTC


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.transaction() as session:
        add_list(session, created_at=datetime(2024, 5, 1))


def test_locked_sqlite_write_is_database_unavailable(locked_sqlite: str) -> None:
    db = DatabaseClass(create_engine(locked_sqlite, busy_timeout=0.1))
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught, db.transaction(write=True) as session:
        add_list(session)
    assert caught.value.reason is UnavailableReason.LOCKED
    assert "is locked by another program" in str(caught.value)
    assert "waited 0.1 s" in str(caught.value)
    assert time.monotonic() - started < 5
    db.dispose()


def test_locked_sqlite_deferred_commit_is_database_unavailable(locked_sqlite: str) -> None:
    db = DatabaseClass(create_engine(locked_sqlite, busy_timeout=0.1))
    with db.session() as session:
        session.add(HashList(name="x"))
        with pytest.raises(DatabaseUnavailable, match="locked"):
            session.commit()
    db.dispose()


def test_locked_sqlite_still_serves_readers(locked_sqlite: str) -> None:
    # WAL: a writer holding the lock must not stop the review console from reading.
    db = DatabaseClass(create_engine(locked_sqlite, busy_timeout=0.1))
    with db.transaction() as session:
        assert session.scalars(select(HashList)).all() == []
    db.dispose()


def test_migrating_a_locked_sqlite_database_is_database_unavailable(
    locked_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", locked_sqlite)
    monkeypatch.setenv("VIGIL_DATABASE__BUSY_TIMEOUT", "0.1")
    monkeypatch.setenv("VIGIL_DATA_DIR", str(Path(locked_sqlite.removeprefix("sqlite:///")).parent))
    with pytest.raises(DatabaseUnavailable, match="locked"):
        upgrade_database(load_settings(), revision="base")  # a downgrade would need the lock


def test_unreachable_postgresql_is_database_unavailable() -> None:
    # Port 1 on localhost: nothing listens, the connection is refused at once.
    db = open_database("postgresql://vigil:hunter2@127.0.0.1:1/vigil")
    with pytest.raises(DatabaseUnavailable) as caught, db.transaction() as session:
        session.execute(text("SELECT 1"))
    assert caught.value.reason is UnavailableReason.UNREACHABLE
    message = str(caught.value)
    assert message.startswith("Cannot connect to the database postgresql+psycopg://vigil:***@")
    assert "hunter2" not in message and "hunter2" not in caught.value.url
    db.dispose()


def test_upgrade_of_unreachable_postgresql_is_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable, match="Cannot connect"):
        upgrade_database("postgresql+psycopg://root@127.0.0.1:1/test")


def test_sqlite_file_in_a_missing_directory_is_database_unavailable(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'missing' / 'vigil.db'}")
    with pytest.raises(DatabaseUnavailable) as caught, db.transaction() as session:
        session.execute(text("SELECT 1"))
    assert caught.value.reason is UnavailableReason.UNREACHABLE
    db.dispose()


def test_open_database_from_settings_creates_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("VIGIL_CONFIG", raising=False)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "new" / "data"))
    settings = load_settings()
    upgrade_database(settings)
    with open_database(settings) as db, db.transaction(write=True) as session:
        add_list(session)
    assert (tmp_path / "new" / "data" / "vigil.db").is_file()


def test_database_repr_masks_the_password() -> None:
    db = open_database("postgresql://vigil:hunter2@127.0.0.1:1/vigil")
    assert "hunter2" not in repr(db)
    db.dispose()
