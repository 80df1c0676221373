"""The review console: cases (one open per account), items, decisions, entry-disable
requests (the two-reviewer rule) and reviewers' exposure.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "review_cases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("account_key", sa.String(length=300), nullable=False),
        sa.Column("platform_account_id", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "confirmed",
                "dismissed",
                name="case_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("priority_reason", sa.Text(), nullable=False),
        sa.Column("imminent_danger", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("second_opinion", sa.Boolean(), nullable=False),
        sa.Column("incident_type", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["users.id"],
            name=op.f("fk_review_cases_assigned_to_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cases")),
        sa.UniqueConstraint("public_id", name=op.f("uq_review_cases_public_id")),
    )
    with op.batch_alter_table("review_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_cases_assigned_to_id"), ["assigned_to_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_cases_status_priority_opened_at"),
            ["status", "priority", "opened_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_review_cases_open_account",
            ["account_key"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "review_items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("record_id", BIG_ID, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "false_positive",
                name="item_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("inherited_classification", sa.String(length=64), nullable=True),
        sa.Column("inherited_from", sa.String(length=300), nullable=True),
        sa.Column("reveals", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_review_items_case_id_review_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["match_records.id"],
            name=op.f("fk_review_items_record_id_match_records"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("record_id", name=op.f("uq_review_items_record_id")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_items_case_id"), ["case_id"], unique=False)

    op.create_table(
        "review_decisions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "confirm",
                "false_positive",
                "second_opinion",
                "escalate",
                name="decision_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reveals_needed", sa.Integer(), nullable=False),
        sa.Column("feedback", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_review_decisions_case_id_review_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_decisions_item_id_review_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_decisions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_decisions_item_id"), ["item_id"], unique=False)

    op.create_table(
        "review_entry_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                name="request_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_review_entry_requests_entry_id_list_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_entry_requests_item_id_review_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_entry_requests")),
    )
    with op.batch_alter_table("review_entry_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_entry_requests_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "review_exposure",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "reveal",
                "media_time",
                name="exposure_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_exposure_item_id_review_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_review_exposure_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_exposure")),
    )
    with op.batch_alter_table("review_exposure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_exposure_user_id_at"), ["user_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_exposure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_exposure_user_id_at"))

    op.drop_table("review_exposure")
    with op.batch_alter_table("review_entry_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_entry_requests_entry_id"))

    op.drop_table("review_entry_requests")
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_decisions_item_id"))
        batch_op.drop_index(batch_op.f("ix_review_decisions_case_id"))

    op.drop_table("review_decisions")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_items_case_id"))

    op.drop_table("review_items")
    with op.batch_alter_table("review_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_review_cases_open_account",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_review_cases_status_priority_opened_at"))
        batch_op.drop_index(batch_op.f("ix_review_cases_assigned_to_id"))

    op.drop_table("review_cases")
