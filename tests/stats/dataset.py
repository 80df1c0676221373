"""A known dataset for the statistics tests, described as plain specs and inserted as rows
(companies, reports, files, locations, triage, referrals, outcomes, information requests).
Tests compute what they expect from the specs, not from hard-coded totals."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from vigil.store.models import (
    Agency,
    AgencyKind,
    Disposition,
    FileVerdict,
    InfoRequest,
    InfoRequestState,
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeReport,
    IntakeState,
    OutcomeKind,
    Referral,
    ReferralOutcome,
    ReferralState,
    ReportingCompany,
    ReportLocation,
    ReportTriage,
)

CSAM = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
SECRET_EMAIL = "reported.person@example.invalid"  # an entity value: must never be published
SECRET_IP = "198.51.100.77"
HOSTILE_TYPE = "<script>alert(1)</script> Call +1-555-0100"  # not an incidentType value


def at(year: int, month: int, day: int = 15, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class InfoSpec:
    requested_at: datetime
    due_days: int
    answered_after: timedelta | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class ReferralSpec:
    agency: str | None  # None: waiting in the routing queue
    state: ReferralState
    routed_at: datetime | None = None
    acted_after: timedelta | None = None
    outcomes: tuple[tuple[OutcomeKind, datetime], ...] = ()
    info: tuple[InfoSpec, ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    company: str
    finished_at: datetime | None
    verdicts: tuple[FileVerdict | None, ...] = ()
    incident: str | None = None
    country: str | None = None
    triage_after: timedelta | None = None
    referrals: tuple[ReferralSpec, ...] = ()
    state: IntakeState = IntakeState.FINISHED


K, S, N = FileVerdict.KNOWN, FileVerdict.SEEN, FileVerdict.NEW
HOUR = timedelta(hours=1)

REPORTS: tuple[ReportSpec, ...] = (
    # The year before: outside a 2026 period, but inside a period across the year boundary.
    ReportSpec(
        "Alpha",
        at(2025, 12, 31, 23),
        (N, N),
        CSAM,
        "DE",
        2 * HOUR,
        (
            ReferralSpec(
                "Bundeskriminalamt",
                ReferralState.ACCEPTED,
                at(2025, 12, 31, 23),
                5 * HOUR,
                ((OutcomeKind.ARREST, at(2025, 12, 31, 23)),),
            ),
        ),
    ),
    ReportSpec(
        "Alpha",
        at(2026, 1, 1, 0),
        (K, S, N),
        CSAM,
        "US",
        HOUR,
        (
            ReferralSpec(
                "ICAC-CA",
                ReferralState.ACCEPTED,
                at(2026, 1, 2),
                3 * HOUR,
                (
                    (OutcomeKind.INVESTIGATION_OPENED, at(2026, 1, 3)),
                    (OutcomeKind.SEARCH_WARRANT, at(2026, 2, 1)),
                    (OutcomeKind.CHILD_IDENTIFIED, at(2026, 3, 1)),
                ),
                (
                    InfoSpec(at(2026, 1, 5), 10, timedelta(days=2)),
                    InfoSpec(at(2026, 1, 6), 3, timedelta(days=5)),
                ),
            ),
        ),
    ),
    ReportSpec(
        "Alpha",
        at(2026, 1, 20),
        (K, K),
        CSAM,
        "US",
        4 * HOUR,
        (
            ReferralSpec("ICAC-CA", ReferralState.DECLINED, at(2026, 1, 21), 10 * HOUR),
            ReferralSpec("Bundeskriminalamt", ReferralState.ROUTED, at(2026, 1, 22)),
        ),
    ),
    ReportSpec(
        "Beta",
        at(2026, 3, 10),
        (S,),
        ENTICEMENT,
        "DE",
        30 * HOUR,
        (
            ReferralSpec(
                "Bundeskriminalamt",
                ReferralState.ACCEPTED,
                at(2026, 3, 11),
                HOUR,
                ((OutcomeKind.NO_ACTION, at(2026, 4, 1)),),
                (
                    InfoSpec(at(2026, 3, 12), 7),
                    InfoSpec(at(2026, 3, 13), 700),
                    InfoSpec(at(2026, 3, 14), 7, withdrawn=True),
                ),
            ),
        ),
    ),
    ReportSpec(
        "Beta",
        at(2026, 3, 11),
        (),
        HOSTILE_TYPE,
        None,
        None,
        (ReferralSpec(None, ReferralState.UNROUTED),),
    ),
    ReportSpec("Gamma", at(2026, 12, 31, 23), (N, None), None, "fr", 8 * HOUR),
    # Not counted anywhere: still open, retracted, or finished the year after.
    ReportSpec("Gamma", None, (N,), CSAM, "US", state=IntakeState.OPEN),
    ReportSpec("Gamma", at(2026, 6, 1), (N, N, N), CSAM, "US", state=IntakeState.RETRACTED),
    ReportSpec("Beta", at(2027, 1, 1, 0), (K,), CSAM, "US", HOUR),
)
AGENCIES = {"ICAC-CA": "ICAC California", "Bundeskriminalamt": "Bundeskriminalamt"}


@dataclass
class Inserted:
    report_ids: list[int] = field(default_factory=list)


def insert(session: Session, reports: tuple[ReportSpec, ...] = REPORTS) -> Inserted:
    companies = {name: _company(session, name) for name in sorted({r.company for r in reports})}
    agencies = {code: _agency(session, code, name) for code, name in AGENCIES.items()}
    inserted = Inserted()
    for spec in reports:
        report = _report(session, companies[spec.company], spec)
        inserted.report_ids.append(report.id)
        for referral in spec.referrals:
            _referral(session, report, referral, agencies, companies[spec.company])
    _entity(session, inserted.report_ids[0])
    session.flush()
    return inserted


def _company(session: Session, name: str) -> ReportingCompany:
    company = ReportingCompany(
        name=name,
        username=f"{name.lower()}-{uuid.uuid4().hex[:6]}",
        password_hash="$argon2id$not-used-here",
    )
    session.add(company)
    session.flush()
    return company


def _agency(session: Session, code: str, name: str) -> Agency:
    agency = Agency(code=code, name=name, kind=AgencyKind.NATIONAL, country="US")
    session.add(agency)
    session.flush()
    return agency


def _report(session: Session, company: ReportingCompany, spec: ReportSpec) -> IntakeReport:
    parsed = (
        {"report": {"incidentSummary": {"incidentType": spec.incident}}}
        if spec.incident
        else {"report": {}}
    )
    opened = spec.finished_at - HOUR if spec.finished_at else at(2026, 5, 1)
    report = IntakeReport(
        company_id=company.id,
        raw_xml=b"<report/>",
        parsed=parsed,
        request_id=uuid.uuid4().hex,
        state=spec.state,
        opened_at=opened,
        last_activity_at=opened,
        finished_at=spec.finished_at,
    )
    session.add(report)
    session.flush()
    for index, verdict in enumerate(spec.verdicts):
        digest = hashlib.sha256(f"{report.id}-{index}".encode()).hexdigest()
        session.add(
            IntakeFile(
                public_id=uuid.uuid4().hex,
                report_id=report.id,
                size=10,
                md5=digest[:32],
                sha1=digest[:40],
                sha256=digest,
                verdict=verdict,
            )
        )
    if spec.country is not None:
        session.add(
            ReportLocation(
                report_id=report.id, country=spec.country, ip=SECRET_IP, city="Springfield"
            )
        )
    if spec.triage_after is not None and spec.finished_at is not None:
        when = spec.finished_at + spec.triage_after
        session.add(
            ReportTriage(
                report_id=report.id,
                priority=2,
                score=10.0,
                reasons=[],
                disposition=Disposition.REFERRAL,
                weights_version="test",
                first_computed_at=when,
                computed_at=when,
                effective_priority=2,
            )
        )
    session.flush()
    return report


def _referral(
    session: Session,
    report: IntakeReport,
    spec: ReferralSpec,
    agencies: dict[str, Agency],
    company: ReportingCompany,
) -> None:
    acted = spec.routed_at + spec.acted_after if spec.routed_at and spec.acted_after else None
    referral = Referral(
        report_id=report.id,
        agency_id=agencies[spec.agency].id if spec.agency else None,
        state=spec.state,
        routed_by="routing",
        why="test",
        created_at=spec.routed_at or at(2026, 3, 11),
        routed_at=spec.routed_at,
        acted_at=acted,
        acted_by="agent" if acted else None,
    )
    session.add(referral)
    session.flush()
    for kind, when in spec.outcomes:
        session.add(
            ReferralOutcome(
                referral_id=referral.id,
                kind=kind,
                note="private note",
                recorded_by="agent",
                recorded_at=when,
            )
        )
    for info in spec.info:
        answered = info.requested_at + info.answered_after if info.answered_after else None
        state = (
            InfoRequestState.WITHDRAWN
            if info.withdrawn
            else (InfoRequestState.ANSWERED if answered else InfoRequestState.OPEN)
        )
        session.add(
            InfoRequest(
                referral_id=referral.id,
                report_id=report.id,
                company_id=company.id,
                question="secret question",
                state=state,
                requested_by="agent",
                requested_at=info.requested_at,
                due_at=info.requested_at + timedelta(days=info.due_days),
                answer="secret answer" if answered else None,
                answered_at=answered,
            )
        )


def _entity(session: Session, report_id: int) -> None:
    entity = IntakeEntity(kind="email", value=SECRET_EMAIL)
    session.add(entity)
    session.flush()
    session.add(IntakeEntityLink(entity_id=entity.id, report_id=report_id))
