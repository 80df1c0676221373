"""Held windows (issue 19): ``held_region_hashes`` rows may also be windows of a held picture,
compared with a whole query by PDQ and a colour-layout vector, for cropped copies. Two
nullable columns: ``vector`` (float32 bytes) and ``descriptor`` (the version that made it).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("held_region_hashes", sa.Column("vector", sa.LargeBinary(), nullable=True))
    op.add_column(
        "held_region_hashes", sa.Column("descriptor", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("held_region_hashes") as batch:
        batch.drop_column("descriptor")
        batch.drop_column("vector")
