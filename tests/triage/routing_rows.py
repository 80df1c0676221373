"""Rows the routing tests build directly: finished reports naming the reported person's IP
capture events (linked as the intake links them), their triage, agencies and rules."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.clearinghouse.intake_rows import add_report, company_row
from vigil.clearinghouse.entities import link_report
from vigil.store.models import (
    Agency,
    AgencyKind,
    Disposition,
    IntakeReport,
    ReportingCompany,
    ReportTriage,
    RoutingRule,
)


def capture(ip: str, when: str = "2024-05-01T12:00:00Z") -> str:
    return (
        f"<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Login</eventName>"
        f"<dateTime>{when}</dateTime></ipCaptureEvent>"
    )


def document(*, reported: tuple[str, ...] = (), victim: tuple[str, ...] = ()) -> bytes:
    """A <report> whose reported person (and victim) have these IP capture events."""
    victim_part = f"<victim><victimPerson/>{''.join(victim)}</victim>" if victim else ""
    return (
        "<report><incidentSummary><incidentType>Child Pornography (possession, "
        "manufacture, and distribution)</incidentType><incidentDateTime>"
        "2024-05-01T12:00:00Z</incidentDateTime></incidentSummary>"
        f"<personOrUserReported><screenName>suspect</screenName>{''.join(reported)}"
        f"</personOrUserReported>{victim_part}</report>"
    ).encode()


def finished_report(
    session: Session,
    company: ReportingCompany,
    raw_xml: bytes,
    *,
    priority: int = 2,
    disposition: Disposition = Disposition.REFERRAL,
) -> IntakeReport:
    """A finished, linked and triaged report (the triage row inserted directly)."""
    report = add_report(session, company, raw_xml)
    link_report(session, report)
    session.add(
        ReportTriage(
            report_id=report.id,
            priority=priority,
            score=10.0 * (5 - priority),
            reasons=[],
            disposition=disposition,
            weights_version="test",
            effective_priority=priority,
        )
    )
    session.flush()
    return report


def agency_row(
    session: Session,
    code: str,
    *,
    country: str | None = None,
    kind: AgencyKind = AgencyKind.TASK_FORCE,
) -> Agency:
    agency = Agency(code=code, name=f"{code} unit", kind=kind, country=country)
    session.add(agency)
    session.flush()
    return agency


def rule_row(session: Session, agency: Agency, position: int, **fields: object) -> RoutingRule:
    conditions = fields.pop("conditions", {})
    rule = RoutingRule(
        position=position,
        agency_id=agency.id,
        conditions=conditions,
        description=str(fields.pop("description", f"to {agency.code}")),
        **fields,
    )
    session.add(rule)
    session.flush()
    return rule


__all__ = [
    "add_report",
    "agency_row",
    "capture",
    "company_row",
    "document",
    "finished_report",
    "rule_row",
]
