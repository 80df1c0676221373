"""Separation of duties and per-address sign-in locks (issue 14, items 8 and 11):

- ``access_grants``: media access for an administrator (an API key with media:view, or roles
  that would let an administrator view media) waits for a second administrator's approval;
- ``api_keys.awaiting_approval``: such a key exists (its token was shown once) but does not
  work until approved;
- ``sign_in_locks``: failed sign-ins and locks per (account, client address), replacing the
  account-wide ``users.locked_until`` that let anyone lock anyone out;
- the audit actions ``access_grant`` and ``sign_in_alert``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Types and values are spelled out here rather than imported from the models, so this revision
keeps its meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigil.store.migrations.allowed_values import set_allowed_values

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIONS = (
    "sign_in",
    "key_created",
    "media_viewed",
    "decision",
    "report",
    "deletion",
    "export",
    "setting_changed",
    "sign_in_failed",
    "sign_out",
    "user_created",
    "user_changed",
    "key_revoked",
    "webhook_changed",
    "escalation",
    "assignment",
    "triage_override",
    "triage_weights",
    "routing",
    "referral_action",
    "outcome",
    "info_request",
    "agency_changed",
)
NEW_ACTIONS = (*OLD_ACTIONS, "access_grant", "sign_in_alert")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", NEW_ACTIONS)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("awaiting_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")  # every lock now belongs to an address
    op.create_table(
        "sign_in_locks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_in_locks_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "source", name=op.f("pk_sign_in_locks")),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("grant_kind", "api_key", "roles"), nullable=False),
        sa.Column("state", _enum("grant_state", "pending", "approved", "refused"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=True),
        sa.Column("previous_roles", sa.JSON(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_access_grants_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_access_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_grants_api_key_id"), ["api_key_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_grants_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grants_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_grants_api_key_id"))
    op.drop_table("access_grants")
    op.drop_table("sign_in_locks")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    # A key still awaiting approval must not start working on the older schema.
    op.execute(
        "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP, revoked_by = 'migration' "
        "WHERE awaiting_approval AND revoked_at IS NULL"
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("awaiting_approval")
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", OLD_ACTIONS)
