"""Routing finished referral reports to the agency that can act: locate the reported person,
pick the first routing rule that fits, and leave the rest in the routing queue for a person.

Which address places a report: the reported person's IP capture events (their own and their
associated accounts'), most recent first, then the upload events of the report's files; the
first one the database can place wins. The victim's and intended recipient's addresses are
never used: they would send the report to where the child is, not where the suspect is.

A report has at most one live referral (unrouted, routed or accepted). A declined one is
history: the report is routed again, never to an agency that declined it. Informational
reports are never routed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.received import EntityRole, role_of_context
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models import (
    Agency,
    Disposition,
    EntityKind,
    IntakeEntity,
    IntakeEntityLink,
    IntakeReport,
    IntakeState,
    Referral,
    ReferralState,
    ReportingCompany,
    ReportLocation,
    ReportTriage,
    RoutingRule,
)
from vigil.store.models.agencies import LIVE_REFERRAL_STATES
from vigil.store.models.base import utcnow
from vigil.triage.geolocation import Geolocator

ROUTER = "routing"  # routed_by and audit actor of automatic routing
MAX_REASON_CHARS = 2000
MAX_CANDIDATE_ADDRESSES = 50  # IP capture events tried per report


class RoutingError(ValueError):
    """A routing request that cannot be carried out; the message says why, plainly."""


# --- pure rule matching ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What rules can test about one report."""

    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # ISO 3166-2, e.g. "US-CA"
    priority: int | None = None  # the effective triage priority, 1 = most urgent
    company: str | None = None  # the reporting company's name


def _codes(value: object) -> frozenset[str] | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None
    return frozenset(v.strip().upper() for v in value)


def _names(value: object) -> frozenset[str] | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None
    return frozenset(v.strip().casefold() for v in value)


def _in(value: str | None, allowed: frozenset[str] | None) -> bool:
    return allowed is not None and value is not None and value.upper() in allowed


def _countries(value: object, facts: RoutingFacts) -> bool:
    return _in(facts.country, _codes(value))


def _countries_other_than(value: object, facts: RoutingFacts) -> bool:
    # An unlocated report is not "abroad": it waits for a person instead.
    excluded = _codes(value)
    return (
        excluded is not None and facts.country is not None and facts.country.upper() not in excluded
    )


def _regions(value: object, facts: RoutingFacts) -> bool:
    return _in(facts.region, _codes(value))


def _max_priority(value: object, facts: RoutingFacts) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return facts.priority is not None and facts.priority <= value


def _companies(value: object, facts: RoutingFacts) -> bool:
    allowed = _names(value)
    return (
        allowed is not None
        and facts.company is not None
        and facts.company.strip().casefold() in allowed
    )


def _located(value: object, facts: RoutingFacts) -> bool:
    return isinstance(value, bool) and value == (facts.country is not None)


CONDITIONS = {
    "countries": _countries,  # the report is in one of these countries
    "countries_other_than": _countries_other_than,  # located, and in none of these
    "regions": _regions,  # in one of these ISO 3166-2 regions
    "max_priority": _max_priority,  # priority this urgent or more (1 = most urgent)
    "companies": _companies,  # reported by one of these companies (names)
    "located": _located,  # true: any located report; false: only unlocated ones
}


def rule_matches(rule: RoutingRule, facts: RoutingFacts) -> bool:
    """Every set condition holds. An unknown or malformed condition never holds: a rule the
    code cannot read must not capture reports."""
    if rule.country and (facts.country or "").upper() != rule.country.upper():
        return False
    if rule.region and (facts.region or "").upper() != rule.region.upper():
        return False
    conditions = rule.conditions if isinstance(rule.conditions, Mapping) else None
    if conditions is None:
        return False
    for key, value in conditions.items():
        test = CONDITIONS.get(key)
        if test is None or not test(value, facts):
            return False
    return True


def choose_rule(rules: Iterable[RoutingRule], facts: RoutingFacts) -> RoutingRule | None:
    """The first enabled rule, by position (then id), whose every set condition holds."""
    ordered = sorted(
        (rule for rule in rules if rule.enabled), key=lambda rule: (rule.position, rule.id or 0)
    )
    return next((rule for rule in ordered if rule_matches(rule, facts)), None)


def check_conditions(conditions: Mapping[str, Any]) -> dict[str, Any]:
    """The conditions, or RoutingError naming the first one that is unknown or malformed."""
    checked: dict[str, Any] = {}
    for key, value in conditions.items():
        if key not in CONDITIONS:
            raise RoutingError(f"unknown condition {key!r}; known: {', '.join(CONDITIONS)}")
        if key in ("countries", "countries_other_than", "regions", "companies"):
            if _codes(value) is None:
                raise RoutingError(f"condition {key} needs a non-empty list of names or codes")
            if key in ("countries", "countries_other_than") and not all(
                len(v.strip()) == 2 and v.strip().isalpha() for v in value
            ):
                raise RoutingError(f"condition {key} needs two-letter country codes")
            checked[key] = [v.strip() if key == "companies" else v.strip().upper() for v in value]
        elif key == "max_priority":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
                raise RoutingError("condition max_priority needs a priority from 1 to 4")
            checked[key] = value
        else:
            if not isinstance(value, bool):
                raise RoutingError("condition located needs true or false")
            checked[key] = value
    return checked


def condition_from_text(text: str) -> tuple[str, Any]:
    """``key=value`` as typed on a command line: lists are comma separated, max_priority an
    integer, located true/false."""
    key, equals, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not equals or not key or not raw:
        raise RoutingError(f"a condition is key=value, not {text!r}")
    if key == "max_priority":
        if not raw.isdigit():
            raise RoutingError("condition max_priority needs a priority from 1 to 4")
        return key, int(raw)
    if key == "located":
        if raw.lower() not in ("true", "false"):
            raise RoutingError("condition located needs true or false")
        return key, raw.lower() == "true"
    return key, [part.strip() for part in raw.split(",") if part.strip()]


# --- locating a report ----------------------------------------------------------------------


# Whose addresses may place a report, best first: never the victim's or the recipient's.
_ADDRESS_RANKS = {EntityRole.REPORTED_PERSON: 0, EntityRole.FILE: 1}


def _address_rank(context: str | None) -> int | None:
    """0: the reported person (or their associated account); 1: a file's upload event;
    None: someone else's address (victim, recipient), never used to route."""
    role = role_of_context(context)
    return None if role is None else _ADDRESS_RANKS.get(role)


def report_addresses(session: Session, report_id: int) -> list[str]:
    """The report's IP addresses that may place it, in the order they are tried."""
    rows = session.execute(
        select(IntakeEntity.value, IntakeEntityLink.seen_at, IntakeEntityLink.context)
        .join(IntakeEntity, IntakeEntity.id == IntakeEntityLink.entity_id)
        .where(IntakeEntityLink.report_id == report_id, IntakeEntity.kind == EntityKind.IP)
        .limit(MAX_CANDIDATE_ADDRESSES * 4)
    )
    ranked = []
    for value, seen_at, context in rows:
        rank = _address_rank(context)
        if rank is not None:
            when = seen_at.timestamp() if seen_at is not None else float("-inf")
            ranked.append((rank, -when, value))
    return [value for *_, value in sorted(ranked)][:MAX_CANDIDATE_ADDRESSES]


def _locate(
    session: Session, report_id: int, geolocator: Geolocator | None
) -> tuple[ReportLocation | None, str]:
    """The report's location (upserted) or None with what was missing, in plain words."""
    addresses = report_addresses(session, report_id)
    stored = session.get(ReportLocation, report_id)
    if not addresses:
        return stored, "no IP address of the reported person"
    if geolocator is None:
        return stored, "no geolocation database is configured"
    for address in addresses:
        found = geolocator.locate(address)
        if found is not None:
            row = stored or ReportLocation(report_id=report_id)
            row.country, row.region, row.city = found.country, found.region, found.city
            row.ip, row.database, row.located_at = address, geolocator.describe(), utcnow()
            if stored is None:
                session.add(row)
            session.flush()
            return row, ""
    return stored, "the geolocation database places none of the reported person's addresses"


def locate_report(
    session: Session, report_id: int, geolocator: Geolocator | None
) -> ReportLocation | None:
    """Where the report's reported person is, stored as its ReportLocation; None when no
    address can be placed (a location stored earlier is kept and returned)."""
    return _locate(session, report_id, geolocator)[0]


def _place(location: ReportLocation) -> str:
    where = location.region or location.country or "nowhere"
    city = f", {location.city}" if location.city else ""
    source = f" ({location.database})" if location.database else ""
    return f"{where}{city}{source}"


# --- routing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    rules: list[RoutingRule]
    codes: dict[int, str]  # agency id -> code, enabled agencies only


def _routable_rules(session: Session) -> _Rules:
    rows = session.execute(
        select(RoutingRule, Agency.code)
        .join(Agency, Agency.id == RoutingRule.agency_id)
        .where(RoutingRule.enabled.is_(True), Agency.disabled_at.is_(None))
        .order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    return _Rules([rule for rule, _ in rows], {rule.agency_id: code for rule, code in rows})


def _facts(session: Session, report_id: int, location: ReportLocation | None) -> RoutingFacts:
    row = session.execute(
        select(ReportTriage.effective_priority, ReportingCompany.name)
        .join(IntakeReport, IntakeReport.id == ReportTriage.report_id)
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .where(ReportTriage.report_id == report_id)
    ).one_or_none()
    return RoutingFacts(
        location.country if location else None,
        location.region if location else None,
        row.effective_priority if row else None,
        row.name if row else None,
    )


def declined_by(session: Session, report_id: int) -> set[int]:
    """Agencies that declined the report: it is never routed to them again automatically."""
    return set(
        session.scalars(
            select(Referral.agency_id).where(
                Referral.report_id == report_id,
                Referral.state == ReferralState.DECLINED,
                Referral.agency_id.is_not(None),
            )
        )
    )


@dataclass(frozen=True, slots=True)
class _Decision:
    rule: RoutingRule | None
    why: str


def _decide(
    session: Session, report_id: int, geolocator: Geolocator | None, rules: _Rules
) -> _Decision:
    location, missing = _locate(session, report_id, geolocator)
    facts = _facts(session, report_id, location)
    excluded = declined_by(session, report_id)
    rule = choose_rule([r for r in rules.rules if r.agency_id not in excluded], facts)
    if rule is not None:
        where = f"located in {_place(location)}" if location else f"not located: {missing}"
        label = f"rule {rule.id}" + (f" ({rule.description})" if rule.description else "")
        return _Decision(rule, f"{label} for {rules.codes[rule.agency_id]}; {where}")
    if location is None:
        return _Decision(None, missing)
    place = f"region {location.region}" if location.region else f"country {location.country}"
    why = f"no rule for {place}"
    blocked = choose_rule(rules.rules, facts)
    if blocked is not None:
        why += f" other than {rules.codes[blocked.agency_id]}, which declined the report"
    return _Decision(None, why)


def _audit(session: Session, referral: Referral, actor: str, **details: Any) -> None:
    AuditLog(session).append(
        AuditAction.ROUTING,
        actor=actor,
        subject_type="referral",
        subject_id=str(referral.id),
        details={
            "report_id": referral.report_id,
            "state": referral.state.value,
            "agency_id": referral.agency_id,
            "rule_id": referral.rule_id,
            "why": referral.why,
            **details,
        },
    )


def _apply(referral: Referral, decision: _Decision, now: datetime) -> None:
    referral.why = decision.why[:MAX_REASON_CHARS]
    referral.routed_by = ROUTER
    if decision.rule is None:
        referral.state, referral.agency_id, referral.rule_id = ReferralState.UNROUTED, None, None
    else:
        referral.state, referral.agency_id = ReferralState.ROUTED, decision.rule.agency_id
        referral.rule_id, referral.routed_at = decision.rule.id, now


def route_pending(
    session: Session, geolocator: Geolocator | None, *, limit: int = 200
) -> list[int]:
    """Route finished referral reports without a live referral, most urgent first: each gets
    a ROUTED referral (a rule fits) or an UNROUTED one (the routing queue). Returns their
    report ids. Rows being routed by a concurrent worker are skipped, not waited for."""
    live = (
        select(Referral.id)
        .where(
            Referral.report_id == ReportTriage.report_id, Referral.state.in_(LIVE_REFERRAL_STATES)
        )
        .exists()
    )
    pending = list(
        session.scalars(
            select(ReportTriage.report_id)
            .join(IntakeReport, IntakeReport.id == ReportTriage.report_id)
            .where(
                IntakeReport.state == IntakeState.FINISHED,
                ReportTriage.disposition == Disposition.REFERRAL,
                ~live,
            )
            .order_by(
                ReportTriage.effective_priority, ReportTriage.score.desc(), ReportTriage.report_id
            )
            .limit(max(0, limit))
            .with_for_update(of=ReportTriage, skip_locked=True)
        )
    )
    if not pending:
        return []
    rules, now = _routable_rules(session), utcnow()
    for report_id in pending:
        referral = Referral(report_id=report_id, created_at=now)
        _apply(referral, _decide(session, report_id, geolocator, rules), now)
        session.add(referral)
        session.flush()
        _audit(session, referral, ROUTER)
    return pending


def reroute_unrouted(
    session: Session, geolocator: Geolocator | None, *, limit: int = 200
) -> list[int]:
    """Try the routing queue again (after rules or the database changed), oldest first.
    Returns the ids of the reports that now went to an agency; the rest keep waiting, with
    the reason brought up to date."""
    waiting = list(
        session.scalars(
            select(Referral)
            .where(Referral.state == ReferralState.UNROUTED)
            .order_by(Referral.created_at, Referral.id)
            .limit(max(0, limit))
            .with_for_update(skip_locked=True)
        )
    )
    rules, now, routed = _routable_rules(session), utcnow(), []
    for referral in waiting:
        triage = session.get(ReportTriage, referral.report_id)
        if triage is None or triage.disposition != Disposition.REFERRAL:
            continue  # re-triaged as informational since: a person decides
        decision = _decide(session, referral.report_id, geolocator, rules)
        _apply(referral, decision, now)
        session.flush()
        if decision.rule is not None:
            _audit(session, referral, ROUTER, rerouted=True)
            routed.append(referral.report_id)
    return routed


class WaitingReport(NamedTuple):
    referral: Referral
    location: ReportLocation | None  # where the report was placed, if anywhere
    level: int | None  # its triage level now (an override wins)


def routing_queue(session: Session, *, limit: int = 200) -> list[WaitingReport]:
    """UNROUTED referrals, most urgent first (triage level, then oldest): a child who may be
    in danger now must not wait behind last week's informational backlog."""
    rows = session.execute(
        select(Referral, ReportLocation, ReportTriage.effective_priority)
        .outerjoin(ReportLocation, ReportLocation.report_id == Referral.report_id)
        .outerjoin(ReportTriage, ReportTriage.report_id == Referral.report_id)
        .where(Referral.state == ReferralState.UNROUTED)
        .order_by(
            ReportTriage.effective_priority.is_(None),
            ReportTriage.effective_priority,
            Referral.created_at,
            Referral.id,
        )
        .limit(max(0, limit))
    ).all()
    return [WaitingReport(*row) for row in rows]


# --- by hand ---------------------------------------------------------------------------------


def route_by_hand(
    session: Session, report_id: int, agency_id: int, reason: str, actor: str
) -> Referral:
    """A person sends the report to an agency: the waiting UNROUTED referral becomes ROUTED,
    or a ROUTED one not yet accepted is closed (DECLINED, acted on by the person) and a new
    one made. Audited; the reason is required. Raises RoutingError."""
    reason = (reason or "").strip()
    if not reason:
        raise RoutingError("a reason is required to route a report by hand")
    if len(reason) > MAX_REASON_CHARS:
        raise RoutingError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise RoutingError(f"no agency with id {agency_id}")
    if agency.disabled_at is not None:
        raise RoutingError(f"agency {agency.code} is disabled")
    _routable_report(session, report_id)
    live = session.scalars(
        select(Referral)
        .where(Referral.report_id == report_id, Referral.state.in_(LIVE_REFERRAL_STATES))
        .order_by(Referral.id)
        .with_for_update()
    ).first()
    now, previous = utcnow(), None
    if live is not None and live.state == ReferralState.ACCEPTED:
        raise RoutingError(f"report {report_id} was already accepted by its agency")
    if live is not None and live.state == ReferralState.ROUTED:
        if live.agency_id == agency.id:
            raise RoutingError(f"report {report_id} is already routed to {agency.code}")
        previous = live.agency_id
        live.state, live.acted_at, live.acted_by = ReferralState.DECLINED, now, actor
        live.decline_reason = f"moved by hand to {agency.code}: {reason}"[:MAX_REASON_CHARS]
        live = None
    referral = live or Referral(report_id=report_id, created_at=now)
    referral.state, referral.agency_id, referral.rule_id = ReferralState.ROUTED, agency.id, None
    referral.routed_by, referral.why, referral.routed_at = actor, reason, now
    if referral.id is None:
        session.add(referral)
    session.flush()
    _audit(session, referral, actor, by_hand=True, agency=agency.code, replaced_agency_id=previous)
    return referral


def _routable_report(session: Session, report_id: int) -> None:
    triage = session.scalars(
        select(ReportTriage).where(ReportTriage.report_id == report_id).with_for_update()
    ).one_or_none()
    report = session.get(IntakeReport, report_id)
    if report is None or report.state != IntakeState.FINISHED:
        raise RoutingError(f"no finished report {report_id}")
    if triage is None:
        raise RoutingError(f"report {report_id} has not been triaged yet")
    if triage.disposition != Disposition.REFERRAL:
        raise RoutingError(f"report {report_id} is informational: it is not routed")
