"""Encrypted evidence store: items, legal holds and purge records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _create_items()
    _create_holds_and_purges()


def _create_items() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("blob_id", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("format_version", sa.SmallInteger(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("key_nonce", sa.LargeBinary(), nullable=True),
        sa.Column("data_nonce", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=500), nullable=True),
        sa.Column("retention_policy", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("retain_until"),
        _timestamp("shredded_at", nullable=True),
        sa.CheckConstraint(
            "(shredded_at IS NULL AND wrapped_key IS NOT NULL AND key_nonce IS NOT NULL)"
            " OR (shredded_at IS NOT NULL AND wrapped_key IS NULL AND key_nonce IS NULL)",
            name=op.f("ck_evidence_items_key_until_shredded"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("blob_id", name=op.f("uq_evidence_items_blob_id")),
    )
    op.create_index(op.f("ix_evidence_items_retain_until"), "evidence_items", ["retain_until"])


def _create_holds_and_purges() -> None:
    op.create_table(
        "evidence_legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "report",
                "preservation_request",
                name="hold_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=16), nullable=True),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        _timestamp("placed_at"),
        _timestamp("expires_at"),
        _timestamp("released_at", nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_legal_holds_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_legal_holds")),
    )
    op.create_index(op.f("ix_evidence_legal_holds_item_id"), "evidence_legal_holds", ["item_id"])
    op.create_table(
        "evidence_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        _timestamp("purged_at"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _timestamp("retain_until"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_purges_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_purges")),
        sa.UniqueConstraint("item_id", name=op.f("uq_evidence_purges_item_id")),
    )


def downgrade() -> None:
    op.drop_table("evidence_purges")
    op.drop_index(op.f("ix_evidence_legal_holds_item_id"), table_name="evidence_legal_holds")
    op.drop_table("evidence_legal_holds")
    op.drop_index(op.f("ix_evidence_items_retain_until"), table_name="evidence_items")
    op.drop_table("evidence_items")
