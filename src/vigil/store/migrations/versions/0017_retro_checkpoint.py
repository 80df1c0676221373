"""Retroactive matching in the database (issue 17): ``scan_retro_state`` (one row: the
change-feed number the last round matched up to, and how the last round went) replaces the
``<data_dir>/scan-jobs/retro.checkpoint`` file, and ``exchanges.retro_after_fetch`` says
whether a round follows each scheduled fetch of the exchange that stored a change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change. The row is created by the first round (a file checkpoint
left from before is not read: the first round starts from the beginning of the feed, and
the unique (job, object, entry) index keeps it from queueing a match twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_retro_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("checkpoint", sa.BigInteger(), nullable=False),
        sa.Column("last_retro_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_retro_by", sa.String(length=200), nullable=True),
        sa.Column("last_retro_matches", sa.BigInteger(), nullable=True),
        sa.Column("last_retro_error", sa.Text(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_scan_retro_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_retro_state")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retro_after_fetch", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_column("retro_after_fetch")
    op.drop_table("scan_retro_state")
