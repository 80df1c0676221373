"""Administering the agencies reports are routed to: the agencies themselves, the users who
work for them (one agency each) and the routing rules. Every change is audited as
AGENCY_CHANGED; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models import Agency, AgencyKind, AgencyMember, Role, RoutingRule, User
from vigil.store.models.base import utcnow
from vigil.triage.routing import RoutingError, check_conditions

_CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,63}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000
POSITION_STEP = 10  # room to slip a rule in between two others


class AgencyError(RoutingError):
    """An agency change that cannot be made; the message says why, plainly."""


def normalise_country(country: str | None) -> str | None:
    if country is None or not country.strip():
        return None
    code = country.strip().upper()
    if not _COUNTRY.fullmatch(code):
        raise AgencyError(f"{country!r} is not a two-letter country code (ISO 3166-1)")
    return code


def normalise_region(region: str | None, country: str | None) -> str | None:
    """ISO 3166-2 with its country prefix: "CA" with country "US" becomes "US-CA"."""
    if region is None or not region.strip():
        return None
    code = region.strip().upper()
    if "-" not in code:
        if country is None:
            raise AgencyError(f"region {region!r} needs a country, or the form US-CA")
        code = f"{country}-{code}"
    if not _REGION.fullmatch(code) or (country is not None and not code.startswith(country)):
        raise AgencyError(
            f"{region!r} is not a region code (ISO 3166-2, e.g. US-CA) of {country or 'a country'}"
        )
    return code


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.scalars(select(Agency).where(Agency.code == code.strip().upper())).first()
    if agency is None:
        raise AgencyError(f"no agency with code {code!r}")
    return agency


def _audit(
    session: Session, actor: str, subject_type: str, subject_id: object, details: Mapping[str, Any]
) -> None:
    AuditLog(session).append(
        AuditAction.AGENCY_CHANGED,
        actor=actor,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details,
    )


def add_agency(
    session: Session,
    *,
    code: str,
    name: str,
    kind: AgencyKind | str,
    country: str | None,
    region: str | None,
    media_allowed: bool,
    actor: str,
) -> Agency:
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise AgencyError(f"{code!r} is not an agency code: letters, digits, - _ . (at most 64)")
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise AgencyError(f"an agency needs a printable name of 1 to {MAX_NAME_CHARS} characters")
    try:
        kind = AgencyKind(kind)
    except ValueError:
        raise AgencyError(f"kind must be one of {', '.join(k.value for k in AgencyKind)}") from None
    if session.scalars(select(Agency.id).where(Agency.code == code)).first() is not None:
        raise AgencyError(f"agency code {code} is already used")
    country = normalise_country(country)
    agency = Agency(
        code=code,
        name=name,
        kind=kind,
        country=country,
        region=normalise_region(region, country),
        media_allowed=media_allowed,
    )
    session.add(agency)
    session.flush()
    _audit(
        session,
        actor,
        "agency",
        agency.id,
        {
            "change": "added",
            "code": code,
            "name": name,
            "kind": kind.value,
            "country": agency.country,
            "region": agency.region,
            "media_allowed": media_allowed,
        },
    )
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def active_agencies(session: Session) -> list[Agency]:
    """The agencies a report may still be routed to (not disabled), by code: the choices a
    person routing by hand is offered."""
    return list(
        session.scalars(select(Agency).where(Agency.disabled_at.is_(None)).order_by(Agency.code))
    )


def disable_agency(session: Session, code: str, actor: str) -> Agency:
    """No new report is routed to a disabled agency; what it holds stays with it."""
    agency = agency_by_code(session, code)
    if agency.disabled_at is not None:
        raise AgencyError(f"agency {agency.code} is already disabled")
    agency.disabled_at = utcnow()
    session.flush()
    _audit(session, actor, "agency", agency.id, {"change": "disabled", "code": agency.code})
    return agency


def add_member(session: Session, username: str, code: str, actor: str) -> AgencyMember:
    """The user (who must hold the agency role) works for the agency: one agency per user."""
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AgencyError(f"no user {username!r}")
    if Role.AGENCY not in user.role_set:
        raise AgencyError(f"user {user.username} does not hold the agency role")
    agency = agency_by_code(session, code)
    if agency.disabled_at is not None:
        raise AgencyError(f"agency {agency.code} is disabled")
    current = session.get(AgencyMember, user.id)
    if current is not None:
        held = session.get(Agency, current.agency_id)
        raise AgencyError(
            f"user {user.username} already works for "
            f"{held.code if held else 'another agency'}: one agency per user"
        )
    member = AgencyMember(user_id=user.id, agency_id=agency.id)
    session.add(member)
    session.flush()
    _audit(
        session,
        actor,
        "agency_member",
        user.id,
        {"change": "member added", "username": user.username, "agency": agency.code},
    )
    return member


def add_rule(
    session: Session,
    *,
    agency_code: str,
    country: str | None,
    region: str | None,
    conditions: Mapping[str, Any],
    position: int | None,
    description: str,
    actor: str,
) -> RoutingRule:
    """A rule sending matching reports to the agency; without a position it goes last."""
    agency = agency_by_code(session, agency_code)
    if agency.disabled_at is not None:
        raise AgencyError(f"agency {agency.code} is disabled")
    description = description.strip()
    if not description or len(description) > MAX_DESCRIPTION_CHARS:
        raise AgencyError(
            f"a rule needs a description of 1 to {MAX_DESCRIPTION_CHARS} "
            "characters: it is the explanation agencies and analysts read"
        )
    country = normalise_country(country)
    checked = check_conditions(conditions)
    if position is None:
        last = session.scalar(select(func.max(RoutingRule.position)))
        position = (last or 0) + POSITION_STEP
    if not 0 <= position <= 2**31 - 1:
        raise AgencyError("a position is a whole number from 0 to 2147483647")
    rule = RoutingRule(
        position=position,
        agency_id=agency.id,
        country=country,
        region=normalise_region(region, country),
        conditions=checked,
        description=description,
        enabled=True,
    )
    session.add(rule)
    session.flush()
    _audit(
        session,
        actor,
        "routing_rule",
        rule.id,
        {
            "change": "rule added",
            "agency": agency.code,
            "position": position,
            "country": rule.country,
            "region": rule.region,
            "conditions": checked,
            "description": description,
        },
    )
    return rule


def list_rules(session: Session) -> list[tuple[RoutingRule, Agency]]:
    rows = session.execute(
        select(RoutingRule, Agency)
        .join(Agency, Agency.id == RoutingRule.agency_id)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [(rule, agency) for rule, agency in rows]


def remove_rule(session: Session, rule_id: int, actor: str) -> None:
    """Referrals made by the rule keep their explanation; their rule_id becomes null."""
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise AgencyError(f"no routing rule {rule_id}")
    agency = session.get(Agency, rule.agency_id)
    details = {
        "change": "rule removed",
        "agency": agency.code if agency else None,
        "position": rule.position,
        "country": rule.country,
        "region": rule.region,
        "conditions": dict(rule.conditions or {}),
        "description": rule.description,
    }
    session.delete(rule)
    session.flush()
    _audit(session, actor, "routing_rule", rule_id, details)
