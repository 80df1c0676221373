"""Hash lists, match index, vigil scan: lists, entries, audit trail, change feed, imports,
scan runs and match statistics.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ENTRY_STATUSES = ("active", "disabled", "quarantined", "deleted")

# Database-level backstop for the ORM guard in vigil.store.lists.change_feed: the audit trail is
# append-only and entries are never hard-deleted (status 'deleted' instead).
APPEND_ONLY = {
    "list_entry_events": ("UPDATE", "DELETE"),
    "list_entries": ("DELETE",),
}


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    _create_feed_and_lists()
    _create_imports_and_scans()
    _create_entries()
    _create_entry_children()
    _create_append_only_triggers()


def _create_feed_and_lists() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.execute("INSERT INTO change_counter (id, last_seq) VALUES (1, 0)")
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("pdq_distance", sa.SmallInteger(), nullable=False),
        sa.Column("min_quality", sa.SmallInteger(), nullable=False),
        sa.Column("is_allow_list", sa.Boolean(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source_config", JSON_DOC, nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(
            "min_quality BETWEEN 0 AND 100", name=op.f("ck_hash_lists_min_quality_range")
        ),
        sa.CheckConstraint(
            "pdq_distance BETWEEN 0 AND 256", name=op.f("ck_hash_lists_pdq_distance_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_lists")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_hash_lists_change_seq")),
        sa.UniqueConstraint("name", name=op.f("uq_hash_lists_name")),
    )


def _create_imports_and_scans() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("list_version", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            _enum("import_status", "pending", "running", "completed", "failed", "cancelled"),
            nullable=False,
        ),
        sa.Column("records_done", sa.BigInteger(), nullable=False),
        sa.Column("records_total", sa.BigInteger(), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["hash_lists.id"],
            name=op.f("fk_import_jobs_list_id_hash_lists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index(
        op.f("ix_import_jobs_list_id_file_sha256"), "import_jobs", ["list_id", "file_sha256"]
    )
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column(
            "status",
            _enum("scan_status", "running", "completed", "failed", "interrupted"),
            nullable=False,
        ),
        sa.Column("options", JSON_DOC, nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_runs")),
    )
    op.create_table(
        "scan_items",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            _enum("scan_item_status", "pending", "done", "failed", "skipped"),
            nullable=False,
        ),
        sa.Column("result", JSON_DOC, nullable=True),
        _timestamp("scanned_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scan_runs.id"],
            name=op.f("fk_scan_items_run_id_scan_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "path", name=op.f("pk_scan_items")),
    )
    op.create_index(op.f("ix_scan_items_run_id_status"), "scan_items", ["run_id", "status"])


def _create_entries() -> None:
    op.create_table(
        "list_entries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column(
            "signal_type",
            _enum("signal_type", "md5", "sha1", "sha256", "pdq", "video_pdq"),
            nullable=False,
        ),
        sa.Column("signal", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("classification", sa.String(length=64), nullable=True),
        sa.Column("series", sa.String(length=255), nullable=True),
        sa.Column("victim_identified", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _timestamp("added_at"),
        sa.Column("import_job_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("list_version", sa.String(length=200), nullable=True),
        sa.Column("status", _enum("entry_status", *ENTRY_STATUSES), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_by", sa.String(length=200), nullable=True),
        _timestamp("status_at", nullable=True),
        sa.Column("match_count", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "match_count >= 0", name=op.f("ck_list_entries_match_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["import_job_id"],
            ["import_jobs.id"],
            name=op.f("fk_list_entries_import_job_id_import_jobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["hash_lists.id"],
            name=op.f("fk_list_entries_list_id_hash_lists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_list_entries_change_seq")),
        sa.UniqueConstraint(
            "list_id",
            "signal_type",
            "signal",
            name=op.f("uq_list_entries_list_id_signal_type_signal"),
        ),
    )
    op.create_index(op.f("ix_list_entries_import_job_id"), "list_entries", ["import_job_id"])
    op.create_index(
        op.f("ix_list_entries_signal_type_signal"), "list_entries", ["signal_type", "signal"]
    )


def _create_entry_children() -> None:
    op.create_table(
        "list_entry_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("old_status", _enum("entry_event_old_status", *ENTRY_STATUSES), nullable=True),
        sa.Column("new_status", _enum("entry_event_new_status", *ENTRY_STATUSES), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _timestamp("at"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_list_entry_events_entry_id_list_entries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry_events")),
    )
    op.create_index(op.f("ix_list_entry_events_entry_id"), "list_entry_events", ["entry_id"])
    op.create_table(
        "list_entry_frames",
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.Column("time_offset", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_list_entry_frames_entry_id_list_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "position", name=op.f("pk_list_entry_frames")),
    )
    op.create_table(
        "match_stats",
        sa.Column("entry_id", BIG_ID, nullable=False),
        _timestamp("bucket_start"),
        sa.Column("match_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("match_count > 0", name=op.f("ck_match_stats_match_count_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_match_stats_entry_id_list_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "bucket_start", name=op.f("pk_match_stats")),
    )
    op.create_index(op.f("ix_match_stats_bucket_start"), "match_stats", ["bucket_start"])


def _create_append_only_triggers() -> None:
    postgresql_dialect = op.get_context().dialect.name == "postgresql"
    if postgresql_dialect:
        op.execute(
            "CREATE FUNCTION vigil_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% on % is not allowed: the table is append-only', "
            "TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
        )
    for table, operations in APPEND_ONLY.items():
        for operation in operations:
            name = f"{table}_no_{operation.lower()}"
            if postgresql_dialect:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change()"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, '{operation} on {table} is not allowed: "
                    "the table is append-only'); END"
                )


def downgrade() -> None:
    # Dropping the tables drops their triggers on both backends.
    for index, table in (
        ("ix_match_stats_bucket_start", "match_stats"),
        ("ix_list_entry_events_entry_id", "list_entry_events"),
        ("ix_list_entries_signal_type_signal", "list_entries"),
        ("ix_list_entries_import_job_id", "list_entries"),
        ("ix_scan_items_run_id_status", "scan_items"),
        ("ix_import_jobs_list_id_file_sha256", "import_jobs"),
    ):
        op.drop_index(op.f(index), table_name=table)
    for table in (
        "match_stats",
        "list_entry_frames",
        "list_entry_events",
        "list_entries",
        "scan_items",
        "import_jobs",
        "scan_runs",
        "hash_lists",
        "change_counter",
    ):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION vigil_refuse_change()")
