"""Rows the agency tests build directly (scoring and routing are built elsewhere): agencies
and their members, finished reports with files and entities, their triage, and referrals."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.api.service import PASSWORD
from tests.clearinghouse.intake_rows import company_row
from vigil.store.accounts import create_user
from vigil.store.models import (
    Agency,
    AgencyKind,
    AgencyMember,
    Disposition,
    FileVerdict,
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeReport,
    IntakeState,
    Referral,
    ReferralState,
    ReportingCompany,
    ReportTriage,
    Role,
    User,
    utcnow,
)


def add_agency(session: Session, code: str, *, media_allowed: bool = False) -> Agency:
    agency = Agency(
        code=code,
        name=f"Agency {code}",
        kind=AgencyKind.TASK_FORCE,
        country="US",
        region="US-CA",
        media_allowed=media_allowed,
    )
    session.add(agency)
    session.flush()
    return agency


def add_member(
    session: Session, username: str, agency: Agency | None, roles: tuple[Role, ...] = (Role.AGENCY,)
) -> User:
    """A person with the agency role (and a membership unless ``agency`` is None)."""
    user = create_user(session, username, PASSWORD, list(roles), actor="test")
    if agency is not None:
        session.add(AgencyMember(user_id=user.id, agency_id=agency.id))
    session.flush()
    return user


def document(
    incident_type: str = "Child Sex Trafficking", annotations: tuple[str, ...] = ()
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "incidentType": incident_type,
        "incidentDateTime": "2024-05-01T12:00:00Z",
    }
    if annotations:
        summary["reportAnnotations"] = dict.fromkeys(annotations, "")
    return {"report": {"incidentSummary": summary}}


def add_report(
    session: Session,
    company: ReportingCompany,
    *,
    parsed: dict[str, Any] | None = None,
    files: int = 1,
    verdict: FileVerdict = FileVerdict.NEW,
    sha_seed: str | None = None,
    classification: str | None = None,
) -> IntakeReport:
    report = IntakeReport(
        company_id=company.id,
        raw_xml=b"<report/>",
        parsed=parsed or document(),
        request_id=uuid.uuid4().hex,
        state=IntakeState.FINISHED,
        finished_at=utcnow(),
    )
    session.add(report)
    session.flush()
    for index in range(files):
        content = f"{sha_seed or uuid.uuid4().hex}-{index}".encode()
        session.add(
            IntakeFile(
                public_id=uuid.uuid4().hex,
                report_id=report.id,
                file_name=f"file-{index}.jpg",
                size=len(content),
                md5=hashlib.md5(content).hexdigest(),
                sha1=hashlib.sha1(content).hexdigest(),
                sha256=hashlib.sha256(content).hexdigest(),
                media_type="photo",
                verdict=verdict,
                classification=classification,
            )
        )
    session.flush()
    session.refresh(report)
    return report


def link_entity(session: Session, kind: str, value: str, *reports: IntakeReport) -> None:
    entity = IntakeEntity(kind=kind, value=value)
    session.add(entity)
    session.flush()
    for report in reports:
        session.add(
            IntakeEntityLink(
                entity_id=entity.id, report_id=report.id, context="personOrUserReported"
            )
        )
    session.flush()


def add_triage(
    session: Session,
    report: IntakeReport,
    priority: int,
    score: float,
    *,
    override: int | None = None,
) -> ReportTriage:
    reasons = [
        {
            "name": "escalation",
            "weight": 1.0,
            "value": True,
            "points": score,
            "detail": f"synthetic reason for report {report.id}",
        }
    ]
    triage = ReportTriage(
        report_id=report.id,
        priority=priority,
        score=score,
        reasons=reasons,
        disposition=Disposition.REFERRAL,
        weights_version="test",
        override_priority=override,
        override_reason="analyst knows more" if override else None,
        effective_priority=override or priority,
    )
    session.add(triage)
    session.flush()
    return triage


def add_referral(
    session: Session,
    report: IntakeReport,
    agency: Agency | None,
    *,
    state: ReferralState = ReferralState.ROUTED,
    minutes_ago: int = 0,
) -> Referral:
    referral = Referral(
        report_id=report.id,
        agency_id=agency.id if agency else None,
        state=state,
        routed_by="routing",
        why="test rule",
        routed_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    session.add(referral)
    session.flush()
    return referral


@dataclass
class World:
    """Two agencies, A and B, each with a member; two companies; referrals to each."""

    agency_a: Agency
    agency_b: Agency
    company: ReportingCompany
    other_company: ReportingCompany
    referrals_a: list[Referral] = field(default_factory=list)
    referrals_b: list[Referral] = field(default_factory=list)


def two_agencies(session: Session) -> World:
    world = World(
        add_agency(session, "A"),
        add_agency(session, "B"),
        company_row(session, "Platform"),
        company_row(session, "Elsewhere"),
    )
    add_member(session, "agent-a", world.agency_a)
    add_member(session, "agent-b", world.agency_b)
    for priority, score in ((2, 40.0), (1, 90.0)):
        report = add_report(session, world.company)
        add_triage(session, report, priority, score)
        world.referrals_a.append(add_referral(session, report, world.agency_a))
    report = add_report(session, world.other_company)
    add_triage(session, report, 1, 99.0)
    world.referrals_b.append(add_referral(session, report, world.agency_b))
    return world
