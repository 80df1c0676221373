"""The flood guard escalates instead of silencing: suspicions of surging entries, with the
person's decision, and a suspect flag on match hits.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change. Entries the old flood guard quarantined stay quarantined:
their history says why, and `vigil lists enable` lets them match again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SUSPICION_STATES = ("open", "confirmed", "quarantined")


def upgrade() -> None:
    op.create_table(
        "flood_suspicions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                *SUSPICION_STATES,
                name="suspicion_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matches", sa.BigInteger(), nullable=False),
        sa.Column("baseline_rate", sa.Float(), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("accepted_rate", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_flood_suspicions_entry_id_list_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flood_suspicions")),
    )
    with op.batch_alter_table("flood_suspicions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flood_suspicions_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            "uq_flood_suspicions_open_entry",
            ["entry_id"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspect", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.drop_column("suspect")
    with op.batch_alter_table("flood_suspicions", schema=None) as batch_op:
        batch_op.drop_index("uq_flood_suspicions_open_entry")
        batch_op.drop_index(batch_op.f("ix_flood_suspicions_entry_id"))
    op.drop_table("flood_suspicions")
