"""The audit record of an agency's export of a referral (the signed package or its VICS
JSON), appended in the transaction that builds the export: what left, in which format, with
or without media, for which report and agency."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.models import AuditAction, Referral


def record_export(
    session: Session, referral: Referral, *, actor: str, export_format: str, media: bool
) -> None:
    AuditLog(session).append(
        AuditAction.EXPORT,
        actor=actor,
        subject_type="referral",
        subject_id=str(referral.id),
        details={
            "format": export_format,
            "media": media,
            "report_id": referral.report_id,
            "agency_id": referral.agency_id,
        },
    )
