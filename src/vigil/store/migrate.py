"""Schema migrations, run programmatically so an installed Vigil can upgrade its database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from vigil.core.private_files import tighten_directory
from vigil.core.settings import DATABASE_FILE_NAME, Settings, load_settings
from vigil.store.database import Database, create_engine, writer_engine
from vigil.store.errors import SchemaNotReady

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(
    connection: Connection | None = None, settings: Settings | None = None
) -> Config:
    """Alembic configuration pointing at the packaged migrations. env.py uses
    ``connection`` when given, else the configured VIGIL_DATABASE_URL. Data migrations that
    need a key (0011 seals webhook secrets) find it through ``settings``, else through the
    environment's settings (:func:`migration_settings`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["settings"] = settings
    return config


def migration_settings(config: Config) -> Settings:
    """The settings of the Vigil being migrated (for its master key, say)."""
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else load_settings()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations packaged"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(url: str | URL | Settings, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: latest). Idempotent.

    Raises DatabaseUnavailable if the database is locked or unreachable.
    """
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade_database(url: str | URL | Settings, revision: str) -> None:
    _run(url, lambda config: command.downgrade(config, revision))


def ensure_current_schema(engine: Engine) -> None:
    """Raise SchemaNotReady unless the database is at the revision this Vigil expects."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaNotReady("the database has no Vigil tables yet: run `vigil db upgrade`")
    raise SchemaNotReady(
        f"the database schema is at revision {current}, this Vigil needs {head}: "
        "run `vigil db upgrade` (or upgrade Vigil if the database is newer)"
    )


def _run(url: str | URL | Settings, action: Callable[[Config], None]) -> None:
    engine = _migration_engine(url)
    try:
        # IMMEDIATE: take SQLite's write lock up front instead of failing half way.
        with writer_engine(engine).connect() as connection:
            action(alembic_config(connection, url if isinstance(url, Settings) else None))
            _check_foreign_keys(connection)
    finally:
        engine.dispose()


def _migration_engine(url: str | URL | Settings) -> Engine:
    # SQLite batch migrations rebuild tables, which must not trip foreign keys mid-way;
    # _check_foreign_keys verifies the result instead.
    if not isinstance(url, Settings):
        return create_engine(url, sqlite_foreign_keys=False, poolclass=NullPool)
    tighten_directory(url.data_dir)
    return create_engine(
        url.database_url,
        busy_timeout=url.database.busy_timeout,
        connect_timeout=url.database.connect_timeout,
        sqlite_synchronous=url.database.sqlite_synchronous,
        sqlite_foreign_keys=False,
        poolclass=NullPool,
    )


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    connection.rollback()
    if violations:
        raise SchemaNotReady(f"migration left foreign key violations: {violations[:5]}")


def prepare_schema(settings: Settings, database: Database) -> None:
    """Create or upgrade the embedded SQLite database on first use, so a new user needs no
    setup step; any other database is upgraded only on purpose (`vigil db upgrade`), as
    others may share it."""
    if not is_embedded_default(settings):
        ensure_current_schema(database.engine)
        return
    current = current_revision(database.engine)
    if current == head_revision():
        return
    try:
        upgrade_database(settings)
    except CommandError:
        # Alembic does not know the revision: the database is from a newer Vigil.
        raise SchemaNotReady(
            f"the database schema is at revision {current}, which this Vigil does not know: "
            "upgrade Vigil"
        ) from None


def is_embedded_default(settings: Settings) -> bool:
    return settings.database_url == f"sqlite:///{settings.data_dir / DATABASE_FILE_NAME}"
