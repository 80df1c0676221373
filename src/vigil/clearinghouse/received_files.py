"""Received reports and files as an analyst opens them: a report that is still there (an
expired one is gone for the analyst as for the company), one received file, and how often
each file was seen unblurred. A view's audit record is written by vigil.review.media_views,
once the browser confirms the person was shown the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.models import (
    IntakeFile,
    IntakeIncident,
    IntakeReport,
    IntakeState,
    ReportingCompany,
)
from vigil.store.models.audit import AuditAction, AuditRecord

SUBJECT = "intake_file"  # the audit log's subject type of a received file


@dataclass(frozen=True)
class OpenedReport:
    """A received report with the names the report screen shows beside it."""

    report: IntakeReport
    company: str  # the reporting company's name; "" if the company is gone
    incident: IntakeIncident | None


def open_report(session: Session, report_id: int) -> OpenedReport | None:
    """The report with its company and incident; None when there is none or it expired."""
    report = session.get(IntakeReport, report_id)
    if report is None or report.state is IntakeState.EXPIRED:
        return None
    company = session.get(ReportingCompany, report.company_id)
    incident = session.get(IntakeIncident, report.incident_id) if report.incident_id else None
    return OpenedReport(report, company.name if company else "", incident)


def received_file(session: Session, file_id: int) -> IntakeFile | None:
    """One received file by its row id; None for an unknown one."""
    return session.get(IntakeFile, file_id)


def reveal_counts(session: Session, files: Iterable[IntakeFile | None]) -> dict[int, int]:
    """How many times each file was seen unblurred (MEDIA_VIEWED records), by file id; a
    file never revealed is left out. ``None`` entries are skipped."""
    ids = [str(file.id) for file in files if file is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(AuditRecord.subject_id, func.count())
        .where(
            AuditRecord.action == AuditAction.MEDIA_VIEWED,
            AuditRecord.subject_type == SUBJECT,
            AuditRecord.subject_id.in_(ids),
        )
        .group_by(AuditRecord.subject_id)
    )
    # subject_id is nullable; these rows matched ids, so the filter drops nothing.
    return {int(subject): int(count) for subject, count in rows if subject is not None}
