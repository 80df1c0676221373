"""The CyberTipline XML a person downloads from the reports console for a manual upload: the
report's document or one file's <fileDetails>. Each download is handed-out material about a
child-safety report, so it is audited (EXPORT, like any other hand-out) in the transaction
that reads it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from vigil.reporting.preservation import REPORT_SUBJECT
from vigil.reporting.report_queue import report_by_public_id
from vigil.store.audit import AuditLog
from vigil.store.models import AuditAction, Report

PURPOSE = "manual_upload"  # details["purpose"] of these downloads in the audit log


class NoSuchDocument(LookupError):
    """The report, or the file's details within it, do not exist."""


@dataclass(frozen=True)
class XmlDocument:
    """What the browser saves: the XML and the file name it is saved under."""

    content: str
    file_name: str


def download_report_xml(session: Session, report_id: str, *, actor: str) -> XmlDocument:
    """The report's XML as filed, audited as handed out to ``actor``."""
    report = _report(session, report_id)
    document = XmlDocument(report.xml, f"{report.public_id}.xml")
    _audit(session, report, actor=actor, document="report")
    return document


def download_file_details(
    session: Session, report_id: str, index: int, *, actor: str
) -> XmlDocument:
    """The <fileDetails> of the report's ``index``-th file (from 1), audited likewise."""
    report = _report(session, report_id)
    files = report.files
    if not 0 < index <= len(files) or not files[index - 1].file_details_xml:
        raise NoSuchDocument("no such file in this report")
    document = XmlDocument(
        str(files[index - 1].file_details_xml), f"{report.public_id}.file-{index:03d}.xml"
    )
    _audit(session, report, actor=actor, document="file_details", file=index)
    return document


def _report(session: Session, report_id: str) -> Report:
    report = report_by_public_id(session, report_id)
    if report is None:
        raise NoSuchDocument("no such report")
    return report


def _audit(session: Session, report: Report, *, actor: str, document: str, **more: int) -> None:
    AuditLog(session).append(
        AuditAction.EXPORT,
        actor=actor,
        subject_type=REPORT_SUBJECT,
        subject_id=report.public_id,
        details={
            "purpose": PURPOSE,
            "document": document,
            "destination": report.destination,
            **more,
        },
    )
