"""Backlog scan jobs (issue 17): ``scan_jobs`` (a scan of an object source, its checkpoint
and counters) and ``scan_job_matches`` (what it matched, queued for review under a ceiling).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
JOB_STATES = ("running", "interrupted", "completed", "cancelled", "failed")
MATCH_STATES = ("queued", "released")


def _choice(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    _create_scan_jobs()
    _create_scan_job_matches()


def downgrade() -> None:
    with op.batch_alter_table("scan_job_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_job_matches_state_id"))
        batch_op.drop_index(batch_op.f("ix_scan_job_matches_released_at"))
        batch_op.drop_index(batch_op.f("ix_scan_job_matches_job_id_identity_entry_id"))
    op.drop_table("scan_job_matches")
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_jobs_source_status"))
    op.drop_table("scan_jobs")


def _create_scan_jobs() -> None:
    op.create_table(
        "scan_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("options", JSON_DOC, nullable=False),
        sa.Column("status", _choice(JOB_STATES, "scan_job_status"), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("matches", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("store_dir", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_jobs")),
    )
    with op.batch_alter_table("scan_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_jobs_source_status"), ["source", "status"], unique=False
        )


def _create_scan_job_matches() -> None:
    op.create_table(
        "scan_job_matches",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("bucket", sa.String(length=255), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("signal_type", sa.String(length=16), nullable=False),
        sa.Column("distance", sa.SmallInteger(), nullable=True),
        sa.Column("state", _choice(MATCH_STATES, "scan_match_state"), nullable=False),
        sa.Column("record_public_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["scan_jobs.id"],
            name=op.f("fk_scan_job_matches_job_id_scan_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_job_matches")),
    )
    with op.batch_alter_table("scan_job_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_job_matches_job_id_identity_entry_id"),
            ["job_id", "identity", "entry_id"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_scan_job_matches_state_id"), ["state", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scan_job_matches_released_at"), ["released_at"], unique=False
        )
