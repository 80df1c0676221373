"""Database fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

Use them anywhere by adding ``pytest_plugins = ["tests.db"]`` to tests/conftest.py.

* ``database_url`` - parametrised over ``sqlite`` (a copy of a migrated file, under tmp_path)
  and ``postgresql`` (one uniquely named database migrated per test session and dropped at its
  end, emptied before every test - so tests must not change the schema; use
  ``empty_database_url`` for that).
* ``sqlite_url`` / ``postgres_url`` - one backend only; ``database`` / ``session`` on top.
* ``empty_database_url`` - like ``database_url`` but not migrated (migration tests).
* ``module_database_url`` - like ``database_url`` but one database for all the tests of a
  module (matrices of many cases on one application that each add their own, uniquely named
  rows); on PostgreSQL a schema of its own, so the per-test fixtures never empty it.

Safe under pytest-xdist: each worker process has its own PostgreSQL database (the process id
is in its name) and its own temporary directories.

PostgreSQL: the server at VIGIL_TEST_POSTGRES_URL, else 127.0.0.1:5432 database ``test`` as
``root`` then ``postgres`` (trust auth). Unreachable: with CI=true the tests FAIL, otherwise
they are skipped with the reason. Nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from vigil.store import Database, open_database, upgrade_database
from vigil.store.models import Base, ChangeCounter

POSTGRES_ADMIN_URLS = (
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)
# Everything but the counter row, which is reset instead (the migration created it).
# Children first, so deleting in this order never trips a foreign key.
_DATA_TABLES = [
    table.name
    for table in reversed(Base.metadata.sorted_tables)
    if table.name != ChangeCounter.__tablename__
]
BACKENDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))
# Test databases need no durability across a server crash: commits do not wait for the WAL
# to reach the disk (what they see and lock is unchanged; a commit costs less than a millisecond
# instead of a disk flush).
FAST_COMMITS = "-c synchronous_commit=off"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _admin_engine(url: str | URL) -> sqlalchemy.Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return sqlalchemy.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


def _reachable_admin_url() -> tuple[str | None, list[str]]:
    candidates = (
        [os.environ["VIGIL_TEST_POSTGRES_URL"]]
        if os.environ.get("VIGIL_TEST_POSTGRES_URL")
        else list(POSTGRES_ADMIN_URLS)
    )
    failures: list[str] = []
    for url in candidates:
        engine = _admin_engine(url)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return url, failures
        except sqlalchemy.exc.DBAPIError as exc:
            failures.append(f"{make_url(url).render_as_string()}: {str(exc.orig).strip()}")
        finally:
            engine.dispose()
    return None, failures


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url, failures = _reachable_admin_url()
    if url is None:
        reason = "PostgreSQL unreachable: " + " | ".join(failures)
        if in_ci():
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    return url


def _create_database(admin_url: str, name: str) -> URL:
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name)


def _drop_database(admin_url: str, name: str) -> None:
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def _unique_name(kind: str) -> str:
    return f"vigil_test_{os.getpid()}_{uuid.uuid4().hex[:10]}_{kind}"


def _url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_session_url(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database for this test session, dropped at its end."""
    name = _unique_name("session")
    created = _create_database(postgres_admin_url, name)
    url = _url_string(created.update_query_dict({"options": FAST_COMMITS}))
    try:
        upgrade_database(url)
        yield url
    finally:
        _drop_database(postgres_admin_url, name)


@pytest.fixture
def postgres_url(postgres_session_url: str) -> str:
    """The session database, emptied before the test (a database per test would cost a
    server checkpoint, often a second, each time)."""
    return _emptied(postgres_session_url)


def _emptied(url: str) -> str:
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            _empty_database(connection)
    finally:
        engine.dispose()
    return url


def _empty_database(connection: sqlalchemy.Connection) -> None:
    superuser = connection.exec_driver_sql(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).scalar()
    if superuser:
        # DELETE is ~10x faster than TRUNCATE on tiny tables; replica mode lets it past the
        # append-only triggers.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in _DATA_TABLES:
            connection.exec_driver_sql(f"DELETE FROM {table}")
        sequences = connection.exec_driver_sql(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = current_schema()"
        ).scalars()
        for sequence in sequences:
            connection.exec_driver_sql(f"ALTER SEQUENCE {sequence} RESTART")
    else:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(_DATA_TABLES)} RESTART IDENTITY CASCADE")
    connection.execute(update(ChangeCounter).values(last_seq=0))


@pytest.fixture
def empty_postgres_url(postgres_session_url: str) -> Iterator[str]:
    """A new, empty schema in the session database, first on the search path."""
    with _own_schema(postgres_session_url) as url:
        yield url


@contextmanager
def _own_schema(postgres_session_url: str) -> Iterator[str]:
    """A schema rather than a database: DROP DATABASE forces a server checkpoint, which can
    take seconds."""
    schema = _unique_name("schema")
    engine = sqlalchemy.create_engine(postgres_session_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(postgres_session_url).update_query_dict(
        {"options": f"{FAST_COMMITS} -c search_path={schema}"}
    )
    try:
        yield _url_string(url)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; closing the last connection folds the WAL into it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "vigil.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "vigil.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated database; the test runs once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest) -> str:
    fixture = "empty_sqlite_url" if request.param == "sqlite" else "empty_postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated database shared by the tests of one module, once per backend."""
    if request.param == "postgresql":
        with _own_schema(request.getfixturevalue("postgres_session_url")) as url:
            upgrade_database(url)
            yield url
        return
    path = tmp_path_factory.mktemp("module-db") / "vigil.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    yield f"sqlite:///{path}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session on the fresh database; the test commits what it needs to."""
    with database.session() as db_session:
        yield db_session
