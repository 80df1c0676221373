"""Escalation with a person's reason and its undo (issue 18): ``review_cases.escalation_reason``
holds the words of the reviewer who escalated (they go into the CyberTipline report's
escalateToHighPriority), and a review decision may be ``de_escalate``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

The allowed decision kinds are spelled out here rather than read from the models, so this
revision keeps its meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.migrations.allowed_values import set_allowed_values

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("confirm", "false_positive", "second_opinion", "escalate")
NEW_KINDS = (*OLD_KINDS, "de_escalate")
CHECK = "ck_review_decisions_decision_kind"


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.add_column(sa.Column("escalation_reason", sa.Text(), nullable=True))
    set_allowed_values("review_decisions", CHECK, "kind", NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM review_decisions WHERE kind = 'de_escalate'")
    set_allowed_values("review_decisions", CHECK, "kind", OLD_KINDS)
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_column("escalation_reason")
