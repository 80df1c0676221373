"""What an agency reads: its queue (live referrals in priority order, each with the reasons
for its priority) and one referral's page. Everything starts from scope.visible_referrals,
and linked reports held elsewhere are only ever counted, never named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from vigil.agency.scope import visible_referrals
from vigil.reporting.cybertipline.received import (
    ReceivedIncidentSummary,
    flag_names,
    read_report,
)
from vigil.reporting.cybertipline.xml_writer import xml_value
from vigil.store.models import (
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeReport,
    ReportingCompany,
    ReportTriage,
)
from vigil.store.models.agencies import (
    AGENCY_HELD_STATES,
    Agency,
    InfoRequest,
    Referral,
    ReferralOutcome,
    ReferralState,
)
from vigil.store.shared.report_links import shared_with

QUEUE_LIMIT = 500
MAX_ENTITIES = 500  # listed on one page; a report names a handful
UNSCORED = 5  # sorts after informational (4): not yet triaged
MAX_SHOWN_CHARS = 1000  # of one report field


@dataclass(frozen=True)
class QueueEntry:
    referral_id: int
    report_id: int
    state: ReferralState
    priority: int | None  # the effective one: a person's override, else the computed one
    score: float | None
    overridden: bool
    reasons: list[dict[str, Any]]
    company: str
    incident_type: str
    routed_at: datetime | None


@dataclass(frozen=True)
class ReportSummary:
    report_id: int
    company: str
    incident_type: str
    incident_time: str
    annotations: list[str]
    escalation: str
    finished_at: datetime | None


@dataclass(frozen=True)
class FileFacts:
    """A file as an agency sees it: what it is and its fingerprints, never its content."""

    public_id: str
    file_name: str | None
    size: int
    media_type: str | None
    verdict: str | None
    classification: str | None
    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    media_kept: bool


@dataclass(frozen=True)
class EntityFacts:
    kind: str
    value: str
    context: str | None
    seen_at: datetime | None


@dataclass(frozen=True)
class LinkedHere:
    report_id: int
    referral_id: int
    state: ReferralState


@dataclass(frozen=True)
class TriageFacts:
    priority: int
    computed_priority: int
    score: float
    reasons: list[dict[str, Any]]
    disposition: str
    override_reason: str | None
    computed_at: datetime


@dataclass(frozen=True)
class ReferralPage:
    referral: Referral
    agency: Agency
    summary: ReportSummary
    files: list[FileFacts]
    entities: list[EntityFacts]
    linked_here: list[LinkedHere]
    linked_elsewhere: int  # linked live reports not routed to this agency: a count only
    triage: TriageFacts | None
    outcomes: list[ReferralOutcome]
    info_requests: list[InfoRequest]


# --- the queue -----------------------------------------------------------------------------


def agency_queue(session: Session, agency_id: int, *, limit: int = QUEUE_LIMIT) -> list[QueueEntry]:
    """Live referrals, most urgent first: effective priority, then score (highest first),
    then the longest waiting. Reports not yet scored come last."""
    mine = visible_referrals(agency_id).subquery()
    referral = aliased(Referral, mine)
    priority = func.coalesce(ReportTriage.effective_priority, UNSCORED)
    query = (
        select(
            referral, ReportTriage, IntakeReport.parsed, IntakeReport.raw_xml, ReportingCompany.name
        )
        .join(IntakeReport, IntakeReport.id == referral.report_id)
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .outerjoin(ReportTriage, ReportTriage.report_id == referral.report_id)
        .order_by(
            priority, func.coalesce(ReportTriage.score, 0.0).desc(), referral.routed_at, referral.id
        )
        .limit(limit)
    )
    return [
        _entry(row, triage, read_report(parsed, raw_xml).incident_summary, company)
        for row, triage, parsed, raw_xml, company in session.execute(query)
    ]


def _entry(
    referral: Referral, triage: ReportTriage | None, incident: ReceivedIncidentSummary, company: str
) -> QueueEntry:
    return QueueEntry(
        referral_id=referral.id,
        report_id=referral.report_id,
        state=referral.state,
        priority=triage.effective_priority if triage else None,
        score=triage.score if triage else None,
        overridden=bool(triage and triage.override_priority is not None),
        reasons=list(triage.reasons or []) if triage else [],
        company=company,
        incident_type=_shown(incident.incident_type),
        routed_at=referral.routed_at,
    )


# --- one referral --------------------------------------------------------------------------


def referral_page(session: Session, agency: Agency, referral: Referral) -> ReferralPage:
    """Everything an agency may read about one of its referrals (from scope)."""
    report = session.get(IntakeReport, referral.report_id)
    assert report is not None  # the foreign key cascades: a referral has its report
    here, elsewhere = _linked(session, agency.id, report.id)
    return ReferralPage(
        referral=referral,
        agency=agency,
        summary=_summary(session, report),
        files=[_file(file) for file in report.files],
        entities=_entities(session, report.id),
        linked_here=here,
        linked_elsewhere=elsewhere,
        triage=_triage(session.get(ReportTriage, report.id)),
        outcomes=list(
            session.scalars(
                select(ReferralOutcome)
                .where(ReferralOutcome.referral_id == referral.id)
                .order_by(ReferralOutcome.recorded_at, ReferralOutcome.id)
            )
        ),
        info_requests=list(
            session.scalars(
                select(InfoRequest)
                .where(InfoRequest.referral_id == referral.id)
                .order_by(InfoRequest.requested_at, InfoRequest.id)
            )
        ),
    )


def _summary(session: Session, report: IntakeReport) -> ReportSummary:
    incident = read_report(report.parsed, report.raw_xml).incident_summary
    when = incident.incident_date_time
    company = session.get(ReportingCompany, report.company_id)
    return ReportSummary(
        report_id=report.id,
        company=company.name if company else "",
        incident_type=_shown(incident.incident_type),
        incident_time=xml_value(when) if when else "",
        annotations=sorted(flag_names(incident.report_annotations)),
        escalation=_shown(incident.escalate_to_high_priority),
        finished_at=report.finished_at,
    )


def _shown(text: str | None) -> str:
    return (text or "")[:MAX_SHOWN_CHARS]


def _file(file: IntakeFile) -> FileFacts:
    return FileFacts(
        public_id=file.public_id,
        file_name=file.file_name,
        size=file.size,
        media_type=file.media_type,
        verdict=file.verdict.value if file.verdict else None,
        classification=file.classification,
        md5=file.md5,
        sha1=file.sha1,
        sha256=file.sha256,
        pdq=file.pdq,
        media_kept=file.evidence_item_id is not None,
    )


def _entities(session: Session, report_id: int) -> list[EntityFacts]:
    rows = session.execute(
        select(
            IntakeEntity.kind,
            IntakeEntity.value,
            IntakeEntityLink.context,
            IntakeEntityLink.seen_at,
        )
        .join(IntakeEntityLink, IntakeEntityLink.entity_id == IntakeEntity.id)
        .where(IntakeEntityLink.report_id == report_id)
        .order_by(IntakeEntity.kind, IntakeEntity.value)
        .limit(MAX_ENTITIES)
    )
    return [EntityFacts(*row) for row in rows]


def _triage(triage: ReportTriage | None) -> TriageFacts | None:
    if triage is None:
        return None
    return TriageFacts(
        priority=triage.effective_priority,
        computed_priority=triage.priority,
        score=triage.score,
        reasons=list(triage.reasons or []),
        disposition=triage.disposition.value,
        override_reason=triage.override_reason,
        computed_at=triage.computed_at,
    )


def _linked(session: Session, agency_id: int, report_id: int) -> tuple[list[LinkedHere], int]:
    """Live reports sharing an entity or a new/seen file with this one, split into those
    this agency holds (listed) and the rest (counted)."""
    return split_by_agency(
        session, agency_id, list(shared_with(session, report_id, near_copies=False))
    )


def split_by_agency(
    session: Session, agency_id: int, linked: list[int]
) -> tuple[list[LinkedHere], int]:
    """Of the ``linked`` report ids, those routed to (or accepted by) this agency, and how
    many others there are: an agency may see that links exist, not whose they are."""
    if not linked:
        return [], 0
    held = session.execute(
        select(Referral.report_id, Referral.id, Referral.state)
        .where(
            Referral.agency_id == agency_id,
            Referral.state.in_(AGENCY_HELD_STATES),
            Referral.report_id.in_(linked),
        )
        .order_by(Referral.report_id)
    )
    here = [LinkedHere(*row) for row in held]
    return here, len(linked) - len({item.report_id for item in here})
