"""The packaged migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from vigil.store import SchemaNotReady, create_engine, ensure_current_schema, head_revision
from vigil.store.migrate import current_revision, downgrade_database, upgrade_database
from vigil.store.models import Base


def _schema_differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    assert _schema_differences(empty_database_url) == []


def test_upgrade_is_idempotent_and_downgrade_reverses_it(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    upgrade_database(empty_database_url)
    downgrade_database(empty_database_url, "base")
    engine = create_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade_database(empty_database_url)
    assert _schema_differences(empty_database_url) == []


def test_schema_check_tells_to_migrate(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    with pytest.raises(SchemaNotReady, match="vigil db upgrade"):
        ensure_current_schema(engine)
    upgrade_database(empty_database_url)
    ensure_current_schema(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
