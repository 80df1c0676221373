"""Index list entries by (list, external id): hash-sharing sources delete by their own id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_list_entries_list_id_external_id"


def upgrade() -> None:
    op.create_index(INDEX, "list_entries", ["list_id", "external_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="list_entries")
