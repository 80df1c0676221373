"""The clearinghouse intake: reporting companies, reports and files as received, verdicts
(known, seen, new), viral incidents and linking entities.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Types are spelled out here rather than imported from the models, so this revision keeps its
meaning when the models change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "intake_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_companies")),
        sa.UniqueConstraint("username", name=op.f("uq_intake_companies_username")),
    )
    op.create_table(
        "intake_entities",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_entities")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_intake_entities_kind_value")),
    )
    op.create_table(
        "intake_incidents",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_incidents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_intake_incidents_sha256")),
    )
    op.create_table(
        "intake_reports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "finished",
                "retracted",
                "expired",
                name="intake_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("raw_xml", sa.LargeBinary(), nullable=False),
        sa.Column("parsed", JSON_DOC, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("batched", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_id", BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["intake_companies.id"],
            name=op.f("fk_intake_reports_company_id_intake_companies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["intake_incidents.id"],
            name=op.f("fk_intake_reports_incident_id_intake_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_reports")),
    )
    with op.batch_alter_table("intake_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_reports_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intake_reports_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intake_reports_state_last_activity_at"),
            ["state", "last_activity_at"],
            unique=False,
        )

    op.create_table(
        "intake_entity_links",
        sa.Column("entity_id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["intake_entities.id"],
            name=op.f("fk_intake_entity_links_entity_id_intake_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_intake_entity_links_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entity_id", "report_id", name=op.f("pk_intake_entity_links")),
    )
    with op.batch_alter_table("intake_entity_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_entity_links_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "intake_files",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=True),
        sa.Column("evidence_item_id", sa.String(length=32), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("media_type", sa.String(length=16), nullable=True),
        sa.Column("details_xml", sa.LargeBinary(), nullable=True),
        sa.Column("details", JSON_DOC, nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "known",
                "seen",
                "new",
                name="file_verdict",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("matched_entry_id", BIG_ID, nullable=True),
        sa.Column("matched_file_id", BIG_ID, nullable=True),
        sa.Column("classification", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_item_id"],
            ["evidence_items.id"],
            name=op.f("fk_intake_files_evidence_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["matched_entry_id"],
            ["list_entries.id"],
            name=op.f("fk_intake_files_matched_entry_id_list_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["matched_file_id"],
            ["intake_files.id"],
            name=op.f("fk_intake_files_matched_file_id_intake_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_intake_files_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_files")),
        sa.UniqueConstraint("public_id", name=op.f("uq_intake_files_public_id")),
    )
    with op.batch_alter_table("intake_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_files_pdq"), ["pdq"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_files_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_files_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_intake_files_report_id"))
        batch_op.drop_index(batch_op.f("ix_intake_files_pdq"))

    op.drop_table("intake_files")
    with op.batch_alter_table("intake_entity_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_entity_links_report_id"))

    op.drop_table("intake_entity_links")
    with op.batch_alter_table("intake_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_reports_state_last_activity_at"))
        batch_op.drop_index(batch_op.f("ix_intake_reports_incident_id"))
        batch_op.drop_index(batch_op.f("ix_intake_reports_company_id"))

    op.drop_table("intake_reports")
    op.drop_table("intake_incidents")
    op.drop_table("intake_entities")
    op.drop_table("intake_companies")
