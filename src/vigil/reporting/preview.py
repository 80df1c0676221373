"""What a person checks before filing a case's report: the report exactly as filing would
build it (the same builder and reporter details as filing.file_case_report), in fields a
person reads and in the CyberTipline XML, plus how urgent the case is. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.reporting.cybertipline import ReportDocument, build_case_report
from vigil.reporting.cybertipline.xml_writer import xml_value
from vigil.reporting.filing import reporter_details
from vigil.store.models import Case

# The placeholders filing puts in before the clearinghouse assigns its ids.
PREVIEW_REPORT_ID, PREVIEW_FILE_ID = 0, "0"


@dataclass(frozen=True, slots=True)
class Urgency:
    """How urgent a case is, in words: None when it is neither escalated nor in danger."""

    label: str  # "A child may be in imminent danger" or "Escalated"
    reason: str  # the reviewer's words or what escalated it at intake; "" when none


@dataclass(frozen=True, slots=True)
class FilePreview:
    name: str
    viewed: bool
    classification: str | None
    hashes: list[tuple[str, str]]  # (type, value)
    details_xml: str


@dataclass(frozen=True, slots=True)
class ReportPreview:
    case_id: str
    incident_type: str
    urgency: Urgency | None
    fields: list[tuple[str, str]]  # (what, value) in the report's order
    report_xml: str
    files: list[FilePreview]


def urgency_of(case: Case) -> Urgency | None:
    """The one wording of a case's urgency for the reporting screens."""
    reason = (case.escalation_reason or "").strip()
    if case.imminent_danger:
        return Urgency("A child may be in imminent danger", reason)
    if case.escalated:
        return Urgency("Escalated", reason)
    return None


def preview_case_report(
    session: Session, case_public_id: str, *, settings: Settings, incident_type: str
) -> ReportPreview:
    """The report filing would queue for ``case_public_id`` with ``incident_type``. Raises
    ReportRefused (with the builder's plain message) where filing would."""
    document = build_case_report(
        session,
        case_public_id,
        reporter=reporter_details(settings),
        incident_type=incident_type,
    )
    case = session.scalars(select(Case).where(Case.public_id == case_public_id)).one()
    return ReportPreview(
        case_id=case.public_id,
        incident_type=document.report.incident_summary.incident_type,
        urgency=_sent_urgency(case, document),
        fields=_fields(document),
        report_xml=document.report_xml.decode(),
        files=[
            FilePreview(
                name=each.file_name,
                viewed=each.viewed_by_esp,
                classification=each.details.industry_classification,
                hashes=[(h.hash_type, h.value) for h in each.details.original_file_hash],
                details_xml=each.details_xml(PREVIEW_REPORT_ID, PREVIEW_FILE_ID).decode(),
            )
            for each in document.files
        ],
    )


def _sent_urgency(case: Case, document: ReportDocument) -> Urgency | None:
    """The case's urgency in the words the report will carry (escalateToHighPriority)."""
    urgency = urgency_of(case)
    sent = document.report.incident_summary.escalate_to_high_priority
    return Urgency(urgency.label, sent or urgency.reason) if urgency else None


def _fields(document: ReportDocument) -> list[tuple[str, str]]:
    summary = document.report.incident_summary
    shown = [
        ("Incident type", summary.incident_type),
        ("Escalated to high priority", summary.escalate_to_high_priority or "no"),
        ("Incident time (UTC)", xml_value(summary.incident_date_time)),
        ("How the time was found", summary.incident_date_time_description or ""),
        ("Reporter", ", ".join(e.address for e in document.report.reporter.reporting_person.email)),
    ]
    for person in document.report.person_or_user_reported:
        shown += [
            ("Reported account", person.esp_identifier or ""),
            ("Screen name", person.screen_name or ""),
            ("Emails", ", ".join(e.address for e in person.person.email) if person.person else ""),
            ("IP addresses", ", ".join(e.ip_address for e in person.ip_capture_event)),
            (
                "Other accounts",
                ", ".join(a.esp_identifier or "" for a in person.associated_account),
            ),
        ]
    shown.append(("Files", str(len(document.files))))
    return [(name, value) for name, value in shown if value]


def filed_case(session: Session, case_row_id: int | None) -> Case | None:
    """The case a report was filed for (None for a batched report of several), so its page
    can link to it and say how urgent it was."""
    return session.get(Case, case_row_id) if case_row_id else None
