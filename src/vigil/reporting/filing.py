"""Filing a confirmed case: one validated report per configured destination, queued for the
sender; and the background job that sends due reports and preserves finished ones.

With no destination configured, reports go to an XML file destination in
``<data_dir>/reports`` for a manual upload, so the embedded default can file reports too.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import DestinationConfig, Settings
from vigil.reporting.cybertipline import ReporterDetails, ReportRefused, build_case_report
from vigil.reporting.preservation import on_report_filed
from vigil.reporting.sending import ReportSender
from vigil.store.audit import AuditLog
from vigil.store.database import Database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import (
    AuditAction,
    Case,
    Report,
    ReportCase,
    ReportFile,
    ReportKind,
    ReportState,
    utcnow,
)

log = logging.getLogger(__name__)

MANUAL_DESTINATION = "manual-xml"
PLACEHOLDER_REPORT_ID = 0  # the sender puts the destination's ids in before /fileinfo
PLACEHOLDER_FILE_ID = "0"
SETTLED = frozenset({ReportState.FAILED, ReportState.RETRACTED})
JOB_ACTOR = "reporting"


def destinations(settings: Settings) -> list[DestinationConfig]:
    configured = list(settings.reporting.destinations)
    return configured or [
        DestinationConfig(
            name=MANUAL_DESTINATION, kind="xml_file", directory=settings.data_dir / "reports"
        )
    ]


def reporter_details(settings: Settings) -> ReporterDetails:
    reporting = settings.reporting
    if not (
        reporting.reporter_company
        and reporting.reporter_contact_name
        and reporting.reporter_contact_email
    ):
        raise ReportRefused(
            "who is reporting is not configured: set [reporting] reporter_company, "
            "reporter_contact_name and reporter_contact_email"
        )
    return ReporterDetails(
        company_name=reporting.reporter_company,
        contact_name=reporting.reporter_contact_name,
        contact_email=reporting.reporter_contact_email,
    )


def file_case_report(
    session: Session,
    case_public_id: str,
    *,
    settings: Settings,
    actor: str,
    incident_type: str | None = None,
    supplemental: bool = False,
) -> list[Report]:
    """Build and validate the case's report and queue one per destination. A second report
    of the same case is refused unless it is supplemental. Raises ReportRefused."""
    document = build_case_report(
        session, case_public_id, reporter=reporter_details(settings), incident_type=incident_type
    )
    case = session.scalars(
        select(Case).where(Case.public_id == case_public_id).with_for_update()
    ).one()  # the builder found it already
    earlier = _reports_of(session, case.id)
    if earlier and not supplemental:
        raise ReportRefused(
            f"this case was already reported (report {earlier[0].public_id}); "
            "file a supplemental report to add to it"
        )
    if supplemental and not earlier:
        raise ReportRefused("a supplemental report needs an earlier report of the case")
    reports = [
        _queued(
            session,
            case.id,
            destination.name,
            document,
            actor,
            earlier[0].id if supplemental else None,
        )
        for destination in destinations(settings)
    ]
    AuditLog(session).append(
        AuditAction.REPORT,
        actor=actor,
        subject_type="review_case",
        subject_id=case_public_id,
        details={
            "change": "filed",
            "supplemental": supplemental,
            "reports": [r.public_id for r in reports],
            "destinations": [r.destination for r in reports],
        },
    )
    return reports


def _reports_of(session: Session, case_id: int) -> list[Report]:
    rows = session.scalars(
        select(Report).where(Report.case_id == case_id).order_by(Report.id)
    ).all()
    return [row for row in rows if row.state not in SETTLED]


def _queued(
    session: Session,
    case_id: int,
    destination: str,
    document: Any,
    actor: str,
    supplemental_of: int | None,
) -> Report:
    report = Report(
        public_id=uuid.uuid4().hex,
        destination=destination,
        case_id=case_id,
        kind=ReportKind.SUPPLEMENTAL if supplemental_of else ReportKind.CASE,
        supplemental_of_id=supplemental_of,
        xml=document.report_xml.decode(),
        created_by=actor,
    )
    session.add(report)
    session.flush()
    session.add(ReportCase(report_id=report.id, case_id=case_id))
    for file in document.files:
        details = file.details_xml(PLACEHOLDER_REPORT_ID, PLACEHOLDER_FILE_ID).decode()
        session.add(
            ReportFile(
                report_id=report.id,
                item_id=file.item_id,
                evidence_item_id=file.evidence_item_id,
                file_name=file.file_name,
                sha256=file.sha256,
                viewed_by_esp=file.viewed_by_esp,
                file_details_xml=details,
            )
        )
    session.flush()
    return report


def send_now(
    database: Database, settings: Settings, vault: EvidenceVault, report_public_id: str
) -> ReportState | None:
    """Advance one report at once (a person asked), and preserve it if it finished. A
    failure to even start (e.g. a destination without credentials) leaves the report queued
    for the background job and returns None."""
    try:
        return _send_now(database, settings, vault, report_public_id)
    except Exception as exc:  # the report is saved: it must not look lost to the person
        log.error("report %s not sent now: %s: %s", report_public_id, type(exc).__name__, exc)
        return None


def _send_now(
    database: Database, settings: Settings, vault: EvidenceVault, report_public_id: str
) -> ReportState:
    with database.session() as session:
        report = session.scalars(select(Report).where(Report.public_id == report_public_id)).one()
        destination = _destination(settings, report.destination)
    state = ReportSender(database, destination, vault).advance(report_public_id)
    if state is ReportState.FINISHED:
        preserve_finished(database, settings, vault)
    return state


def _destination(settings: Settings, name: str) -> DestinationConfig:
    for destination in destinations(settings):
        if destination.name == name:
            return destination
    raise ReportRefused(f"destination {name!r} is no longer configured")


def preserve_finished(database: Database, settings: Settings, vault: EvidenceVault) -> int:
    """Holds and packages for every finished report not yet preserved."""
    with database.session() as session:
        waiting = session.scalars(
            select(Report.public_id).where(
                Report.state == ReportState.FINISHED, Report.package_sha256.is_(None)
            )
        ).all()
    for public_id in waiting:
        with database.session(write=True) as session:
            on_report_filed(session, public_id, settings=settings, actor=JOB_ACTOR, vault=vault)
    return len(waiting)


class ReportJob:
    """Background (declared in vigil.jobs.registry): send due reports of every destination,
    then preserve finished ones."""

    def __init__(self, database: Database, settings: Settings, vault: EvidenceVault) -> None:
        self.database, self.settings, self.vault = database, settings, vault

    def run_once(self, now: datetime | None = None) -> None:
        for destination in destinations(self.settings):
            try:
                ReportSender(self.database, destination, self.vault).run_due(now or utcnow())
            except Exception as exc:  # one misconfigured destination must not stop the rest
                log.error(
                    "reports to %s not sent: %s: %s", destination.name, type(exc).__name__, exc
                )
        preserve_finished(self.database, self.settings, self.vault)
