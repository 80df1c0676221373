"""Region hashes of pictures Vigil holds (issue 19): ``held_region_hashes`` keeps the PDQ of a
few named regions of a confirmed review item's media or a labelled clearinghouse file, for
the second screening stage that finds captioned and watermarked copies of them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change. Each row has exactly one owner (check constraint) and goes
with it (on delete cascade).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "held_region_hashes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_item_id", BIG_ID, nullable=True),
        sa.Column("intake_file_id", BIG_ID, nullable=True),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(case_item_id IS NULL) <> (intake_file_id IS NULL)",
            name=op.f("ck_held_region_hashes_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["review_items.id"],
            name=op.f("fk_held_region_hashes_case_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["intake_file_id"],
            ["intake_files.id"],
            name=op.f("fk_held_region_hashes_intake_file_id_intake_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_region_hashes")),
        sa.UniqueConstraint(
            "case_item_id", "region", name=op.f("uq_held_region_hashes_case_item_id_region")
        ),
        sa.UniqueConstraint(
            "intake_file_id", "region", name=op.f("uq_held_region_hashes_intake_file_id_region")
        ),
    )


def downgrade() -> None:
    op.drop_table("held_region_hashes")
