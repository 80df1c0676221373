"""Provenance on match hits (issue 16): the exchange (name and kind) that shared the matched
entry, its member and tags, and the entry's source, frozen at match time as the list name
and classification already are, so a record still says where a match came from after the
exchange updates, deletes or stops feeding the entry.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Older hits keep NULL: their provenance was not recorded when they matched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("exchange_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("member", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("entry_source", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.drop_column("entry_source")
        batch_op.drop_column("tags")
        batch_op.drop_column("member")
        batch_op.drop_column("exchange_kind")
        batch_op.drop_column("exchange")
