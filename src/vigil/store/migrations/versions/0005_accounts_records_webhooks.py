"""Users, roles, sessions and API keys; match records and their hits; webhook outbox and log;
new audit actions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from vigil.store.migrations.allowed_values import set_allowed_values

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OLD_ACTIONS = (
    "sign_in",
    "key_created",
    "media_viewed",
    "decision",
    "report",
    "deletion",
    "export",
    "setting_changed",
)
NEW_ACTIONS = (
    *OLD_ACTIONS,
    "sign_in_failed",
    "sign_out",
    "user_created",
    "user_changed",
    "key_revoked",
    "webhook_changed",
    "escalation",
)
ACTION_CHECK = "ck_audit_records_audit_action"


def upgrade() -> None:
    _set_audit_actions(NEW_ACTIONS)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "match_records",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "upload",
                "hashes",
                "user_report",
                "escalation",
                "classifier",
                name="record_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "verdict",
            sa.Enum(
                "match",
                "review",
                "no_match",
                name="verdict",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("platform_content_id", sa.String(length=255), nullable=False),
        sa.Column("platform_account_id", sa.String(length=255), nullable=True),
        sa.Column("context", JSON_DOC, nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha1", sa.String(length=40), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("pdq_quality", sa.SmallInteger(), nullable=True),
        sa.Column("frame_count", sa.SmallInteger(), nullable=True),
        sa.Column("classifier", JSON_DOC, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence_item_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_match_records_evidence_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_records")),
        sa.UniqueConstraint("public_id", name=op.f("uq_match_records_public_id")),
    )
    with op.batch_alter_table("match_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_records_evidence_item_id"), ["evidence_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_match_records_platform_content_id"),
            ["platform_content_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_match_records_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_match_records_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_match_records_verdict_received_at"),
            ["verdict", "received_at"],
            unique=False,
        )

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "list_curator",
                "reviewer",
                "report_submitter",
                "auditor",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("second_factor_passed", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "match_hits",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("record_id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=200), nullable=False),
        sa.Column("list_version", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("signal_type", sa.String(length=16), nullable=False),
        sa.Column("distance", sa.SmallInteger(), nullable=True),
        sa.Column("variant", sa.String(length=32), nullable=True),
        sa.Column("classification", sa.String(length=64), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_match_hits_entry_id_list_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["hash_lists.id"],
            name=op.f("fk_match_hits_list_id_hash_lists"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["match_records.id"],
            name=op.f("fk_match_hits_record_id_match_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_hits")),
    )
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_hits_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_hits_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    _set_audit_actions(OLD_ACTIONS)
    with op.batch_alter_table("match_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_hits_record_id"))
        batch_op.drop_index(batch_op.f("ix_match_hits_entry_id"))

    op.drop_table("match_hits")
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_delivery_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_endpoint_id"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))

    op.drop_table("user_sessions")
    op.drop_table("user_roles")
    with op.batch_alter_table("match_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_records_verdict_received_at"))
        batch_op.drop_index(batch_op.f("ix_match_records_sha256"))
        batch_op.drop_index(batch_op.f("ix_match_records_received_at"))
        batch_op.drop_index(batch_op.f("ix_match_records_platform_content_id"))
        batch_op.drop_index(batch_op.f("ix_match_records_evidence_item_id"))

    op.drop_table("match_records")
    op.drop_table("webhook_endpoints")
    op.drop_table("users")
    op.drop_table("api_keys")


def _set_audit_actions(actions: tuple[str, ...]) -> None:
    set_allowed_values("audit_records", ACTION_CHECK, "action", actions)
