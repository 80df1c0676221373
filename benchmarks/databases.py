"""A fresh migrated database for one benchmark run: a file on SQLite, a database of its own on
PostgreSQL (dropped at the end), so runs never see each other's rows."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

from vigil.store import upgrade_database

POSTGRES_ADMIN = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path, label: str) -> Iterator[str]:
    """The URL of a fresh migrated database; ``label`` names the PostgreSQL one
    (vigil_bench_<label>_<random>)."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'vigil.db'}"
        upgrade_database(url)
        yield url
        return
    name = f"vigil_bench_{label}_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
