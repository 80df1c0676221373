"""Change the values a VARCHAR + CHECK enum column allows, for revisions that add members.

Revisions call this with the literal values of their time, so they keep their meaning when
the models change; only the mechanics live here.
"""

from __future__ import annotations

from alembic import op


def set_allowed_values(table: str, check: str, column: str, values: tuple[str, ...]) -> None:
    """Replace CHECK ``check`` on ``table`` with ``column IN (values)``.

    SQLite cannot alter a CHECK, and rebuilding an append-only table (the audit log) would
    copy it through its own triggers, so there the CHECK is rewritten in place in the table
    definition that sqlite_master keeps."""
    allowed = ", ".join(f"'{value}'" for value in values)
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint(op.f(check), table, type_="check")
        op.create_check_constraint(op.f(check), table, f"{column} IN ({allowed})")
        return
    _rewrite_sqlite_check(table, check, f"{column} IN ({allowed})")


def _rewrite_sqlite_check(table: str, check: str, condition: str) -> None:
    connection = op.get_bind()
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    start = sql.index(f"CONSTRAINT {check} CHECK")
    end = sql.index(")", sql.index("IN (", start)) + 1
    rewritten = sql[:start] + f"CONSTRAINT {check} CHECK ({condition})"
    rewritten += sql[end + 1 :] if sql[end] == ")" else sql[end:]
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (rewritten, table)
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
