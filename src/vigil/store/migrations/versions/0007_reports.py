"""Reports to clearinghouses (state machine, files, exchanges) and law-enforcement requests
(links, chain of custody).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "legal_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=300), nullable=False),
        sa.Column("agency_case_number", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "preservation",
                "subpoena",
                "warrant",
                "emergency",
                name="legal_request_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "closed",
                name="legal_request_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_evidence_id", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_evidence_id"],
            ["evidence_items.id"],
            name=op.f("fk_legal_requests_document_evidence_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_legal_requests_public_id")),
    )
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_requests_status_due_at"), ["status", "due_at"], unique=False
        )

    op.create_table(
        "custody_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_custody_events_request_id_legal_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custody_events_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "reports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "case",
                "batched",
                "supplemental",
                name="report_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("supplemental_of_id", BIG_ID, nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "opened",
                "files",
                "finishing",
                "finished",
                "failed",
                "retracted",
                name="report_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("remote_report_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_reports_case_id_review_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supplemental_of_id"],
            ["reports.id"],
            name=op.f("fk_reports_supplemental_of_id_reports"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("public_id", name=op.f("uq_reports_public_id")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reports_remote_report_id"), ["remote_report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reports_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "legal_request_links",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=True),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_legal_request_links_report_id_reports"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["legal_requests.id"],
            name=op.f("fk_legal_request_links_request_id_legal_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_links")),
    )
    with op.batch_alter_table("legal_request_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_request_links_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_legal_request_links_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "report_cases",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_report_cases_case_id_review_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_cases_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "case_id", name=op.f("pk_report_cases")),
    )
    op.create_table(
        "report_exchanges",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_exchanges_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_exchanges")),
    )
    with op.batch_alter_table("report_exchanges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_exchanges_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "report_files",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.Column("evidence_item_id", sa.String(length=32), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("viewed_by_esp", sa.Boolean(), nullable=False),
        sa.Column("file_details_xml", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "uploaded",
                "described",
                name="file_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("remote_file_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_report_files_evidence_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_report_files_item_id_review_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_files_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_files")),
    )
    with op.batch_alter_table("report_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_files_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_files_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_files_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_files_item_id"))

    op.drop_table("report_files")
    with op.batch_alter_table("report_exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_exchanges_report_id"))

    op.drop_table("report_exchanges")
    op.drop_table("report_cases")
    with op.batch_alter_table("legal_request_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_request_links_request_id"))
        batch_op.drop_index(batch_op.f("ix_legal_request_links_account_id"))

    op.drop_table("legal_request_links")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_reports_remote_report_id"))
        batch_op.drop_index(batch_op.f("ix_reports_case_id"))

    op.drop_table("reports")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_events_request_id"))

    op.drop_table("custody_events")
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_requests_status_due_at"))

    op.drop_table("legal_requests")
