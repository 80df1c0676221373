"""Hash exchanges (issue 16): configured accounts at hash-sharing services (credentials
sealed under the evidence master key), the lists each feeds, the queue of feedback going
back to them, and the exchange's provenance on list entries (member, tags).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change. Nothing is sealed here: no exchange exists before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
FETCH_STATES = ("never", "running", "succeeded", "failed")
SIGNAL_TYPES = ("md5", "sha1", "sha256", "pdq", "video_pdq")
VERDICTS = ("affirmative", "negative")
FEEDBACK_STATES = ("pending", "sent", "failed")


def _choice(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    _create_exchanges()
    _create_exchange_lists()
    _create_exchange_feedback()
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.drop_column("tags")
        batch_op.drop_column("member")
    with op.batch_alter_table("exchange_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_feedback_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_exchange_feedback_entry_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_feedback_exchange_id"))
    op.drop_table("exchange_feedback")
    with op.batch_alter_table("exchange_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_lists_list_id"))
    op.drop_table("exchange_lists")
    op.drop_table("exchanges")


def _create_exchanges() -> None:
    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=True),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("options", JSON_DOC, nullable=False),
        sa.Column("sealed_credentials", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("feedback_enabled", sa.Boolean(), nullable=False),
        sa.Column("fetch_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("fetch_state", _choice(FETCH_STATES, "exchange_fetch_state"), nullable=False),
        sa.Column("last_fetch_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetch_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetch_succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_kind", sa.String(length=32), nullable=True),
        sa.Column("entries_fetched", sa.BigInteger(), nullable=False),
        sa.Column("entries_deleted", sa.BigInteger(), nullable=False),
        sa.Column("record_errors", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
        sa.UniqueConstraint("name", name=op.f("uq_exchanges_name")),
    )


def _create_exchange_lists() -> None:
    op.create_table(
        "exchange_lists",
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_exchange_lists_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["hash_lists.id"],
            name=op.f("fk_exchange_lists_list_id_hash_lists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("exchange_id", "list_id", name=op.f("pk_exchange_lists")),
    )
    with op.batch_alter_table("exchange_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_lists_list_id"), ["list_id"], unique=False)


def _create_exchange_feedback() -> None:
    op.create_table(
        "exchange_feedback",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("signal_type", _choice(SIGNAL_TYPES, "feedback_signal_type"), nullable=False),
        sa.Column("signal", sa.String(length=64), nullable=False),
        sa.Column("verdict", _choice(VERDICTS, "feedback_verdict"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("state", _choice(FEEDBACK_STATES, "feedback_state"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_exchange_feedback_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_exchange_feedback_entry_id_list_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_feedback")),
    )
    with op.batch_alter_table("exchange_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_feedback_exchange_id"), ["exchange_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_feedback_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_feedback_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )
