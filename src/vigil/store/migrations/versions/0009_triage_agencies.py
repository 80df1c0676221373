"""Triage, routing and the agency side: analysts' assignments and deconfliction on intake
reports, explained scores with weight versions and notes, agencies with members and routing
rules, report locations, referrals with outcomes and requests to reporting companies; the
agency role and the new audit actions.

Revision ID: 0009
Revises: 0008
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

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OLD_ROLES = ("admin", "list_curator", "reviewer", "report_submitter", "auditor")
NEW_ROLES = (*OLD_ROLES, "agency")
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
)
NEW_ACTIONS = (
    *OLD_ACTIONS,
    "assignment",
    "triage_override",
    "triage_weights",
    "routing",
    "referral_action",
    "outcome",
    "info_request",
    "agency_changed",
)


def upgrade() -> None:
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", NEW_ACTIONS)
    set_allowed_values("user_roles", "ck_user_roles_user_role", "role", NEW_ROLES)
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "task_force",
                "national",
                "international",
                name="agency_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("media_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_agencies_code")),
    )
    op.create_table(
        "triage_weight_sets",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("rescored", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_triage_weight_sets")),
    )
    op.create_table(
        "agency_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_members_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agency_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agency_members")),
    )
    with op.batch_alter_table("agency_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agency_members_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("conditions", JSON_DOC, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_routing_rules_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_rules_position"), ["position"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "unrouted",
                "routed",
                "accepted",
                "declined",
                name="referral_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("routed_by", sa.String(length=200), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acted_by", sa.String(length=200), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_referrals_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_referrals_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["routing_rules.id"],
            name=op.f("fk_referrals_rule_id_routing_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referrals_agency_id_state"), ["agency_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referrals_report_id"), ["report_id"], unique=False)

    op.create_table(
        "report_locations",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("database", sa.String(length=200), nullable=True),
        sa.Column("located_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_report_locations_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_locations")),
    )
    with op.batch_alter_table("report_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_locations_country"), ["country"], unique=False)

    op.create_table(
        "report_triage",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JSON_DOC, nullable=False),
        sa.Column(
            "disposition",
            sa.Enum(
                "referral",
                "informational",
                name="disposition",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("weights_version", sa.String(length=64), nullable=False),
        sa.Column("first_computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computations", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("override_priority", sa.Integer(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.String(length=200), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_report_triage_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_triage")),
    )
    with op.batch_alter_table("report_triage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_triage_effective_priority_score"),
            ["effective_priority", "score"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_report_triage_stale"), ["stale"], unique=False)

    op.create_table(
        "triage_notes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_triage_notes_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_notes")),
    )
    with op.batch_alter_table("triage_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_notes_report_id"), ["report_id"], unique=False)

    op.create_table(
        "info_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("referral_id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "answered",
                "withdrawn",
                name="info_request_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["intake_companies.id"],
            name=op.f("fk_info_requests_company_id_intake_companies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_info_requests_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intake_reports.id"],
            name=op.f("fk_info_requests_report_id_intake_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_info_requests")),
    )
    with op.batch_alter_table("info_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_info_requests_company_id_state"), ["company_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_info_requests_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "referral_outcomes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("referral_id", BIG_ID, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "investigation_opened",
                "search_warrant",
                "arrest",
                "child_identified",
                "no_action",
                name="outcome_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_outcomes_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_outcomes")),
    )
    with op.batch_alter_table("referral_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_outcomes_referral_id"), ["referral_id"], unique=False
        )

    with op.batch_alter_table("intake_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deconflicted_with_id", BIG_ID, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_intake_reports_assigned_user_id"), ["assigned_user_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_intake_reports_deconflicted_with_id_intake_reports"),
            "intake_reports",
            ["deconflicted_with_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_intake_reports_assigned_user_id_users"),
            "users",
            ["assigned_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    op.execute("DELETE FROM user_roles WHERE role = 'agency'")
    set_allowed_values("user_roles", "ck_user_roles_user_role", "role", OLD_ROLES)
    set_allowed_values("audit_records", "ck_audit_records_audit_action", "action", OLD_ACTIONS)
    with op.batch_alter_table("intake_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_intake_reports_assigned_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_intake_reports_deconflicted_with_id_intake_reports"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_intake_reports_assigned_user_id"))
        batch_op.drop_column("deconflicted_with_id")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assigned_user_id")

    with op.batch_alter_table("referral_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_outcomes_referral_id"))

    op.drop_table("referral_outcomes")
    with op.batch_alter_table("info_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_info_requests_referral_id"))
        batch_op.drop_index(batch_op.f("ix_info_requests_company_id_state"))

    op.drop_table("info_requests")
    with op.batch_alter_table("triage_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_notes_report_id"))

    op.drop_table("triage_notes")
    with op.batch_alter_table("report_triage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_triage_stale"))
        batch_op.drop_index(batch_op.f("ix_report_triage_effective_priority_score"))

    op.drop_table("report_triage")
    with op.batch_alter_table("report_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_locations_country"))

    op.drop_table("report_locations")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_report_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_agency_id_state"))

    op.drop_table("referrals")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_rules_position"))

    op.drop_table("routing_rules")
    with op.batch_alter_table("agency_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_members_agency_id"))

    op.drop_table("agency_members")
    op.drop_table("triage_weight_sets")
    op.drop_table("agencies")
