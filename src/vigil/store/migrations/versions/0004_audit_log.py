"""Security audit log: hash-chained records and the chain head, both guarded by triggers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ACTIONS = (
    "sign_in",
    "key_created",
    "media_viewed",
    "decision",
    "report",
    "deletion",
    "export",
    "setting_changed",
)
# Backstop for the ORM guard in vigil.store.models.audit. The head is updated on every append
# but never deleted (that would silently reset the anchor).
APPEND_ONLY = {
    "audit_records": ("UPDATE", "DELETE"),
    "audit_chain_head": ("DELETE",),
}


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                *ACTIONS, name="audit_action", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("subject_type", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    _create_triggers()


def _create_triggers() -> None:
    postgresql_dialect = op.get_context().dialect.name == "postgresql"
    for table, operations in APPEND_ONLY.items():
        for operation in operations:
            name = f"{table}_no_{operation.lower()}"
            if postgresql_dialect:  # vigil_refuse_change() comes from revision 0001
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change()"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, '{operation} on {table} is not allowed: "
                    "the table is append-only'); END"
                )


def downgrade() -> None:
    # Dropping the tables drops their triggers on both backends.
    op.drop_table("audit_chain_head")
    op.drop_table("audit_records")
