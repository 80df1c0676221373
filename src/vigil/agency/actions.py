"""An agency's acts on its referrals: accept, decline with a reason (the routing job then
routes the report again, excluding this agency) and outcomes over time, each in the audit
log with the person as actor. Every act goes through scope first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from vigil.agency.scope import referral_for_agency
from vigil.store.audit import AuditLog
from vigil.store.models import AuditAction, utcnow
from vigil.store.models.agencies import (
    InfoRequest,
    InfoRequestState,
    OutcomeKind,
    Referral,
    ReferralOutcome,
    ReferralState,
)

MAX_REASON_CHARS = 2000
MAX_NOTE_CHARS = 4000


class ActionRefused(ValueError):
    """The act does not fit the referral's state."""


class InvalidText(ActionRefused):
    """A required text is missing or too long."""


def accept(
    session: Session, agency_id: int, referral_id: int, *, actor: str, now: datetime | None = None
) -> Referral:
    referral = referral_for_agency(session, agency_id, referral_id, lock=True)
    if referral.state is not ReferralState.ROUTED:
        raise ActionRefused(f"this referral is already {referral.state.value}")
    referral.state, referral.acted_at, referral.acted_by = (
        ReferralState.ACCEPTED,
        now or utcnow(),
        actor,
    )
    _audit(session, referral, actor, "accepted")
    return referral


def decline(
    session: Session,
    agency_id: int,
    referral_id: int,
    reason: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Referral:
    """Only a referral not yet accepted: once accepted, outcomes hang on it. Open requests
    to the company are withdrawn, since the agency will no longer read the answer."""
    text = required_text(reason, "a reason", MAX_REASON_CHARS)
    referral = referral_for_agency(session, agency_id, referral_id, lock=True)
    if referral.state is not ReferralState.ROUTED:
        raise ActionRefused(
            "an accepted referral cannot be declined; ask the clearinghouse to route it again"
        )
    referral.state, referral.acted_at, referral.acted_by = (
        ReferralState.DECLINED,
        now or utcnow(),
        actor,
    )
    referral.decline_reason = text
    session.execute(
        update(InfoRequest)
        .where(InfoRequest.referral_id == referral.id, InfoRequest.state == InfoRequestState.OPEN)
        .values(state=InfoRequestState.WITHDRAWN)
    )
    _audit(session, referral, actor, "declined", reason=text)
    return referral


def record_outcome(
    session: Session,
    agency_id: int,
    referral_id: int,
    kind: OutcomeKind,
    *,
    note: str = "",
    actor: str,
    now: datetime | None = None,
) -> ReferralOutcome:
    """One more outcome (a case moves from investigation to warrant to arrest over time)."""
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidText(f"the note is longer than {MAX_NOTE_CHARS} characters")
    referral = referral_for_agency(session, agency_id, referral_id, lock=True)
    if referral.state is not ReferralState.ACCEPTED:
        raise ActionRefused("accept the referral before recording an outcome")
    outcome = ReferralOutcome(
        referral_id=referral.id,
        kind=OutcomeKind(kind),
        note=note.strip(),
        recorded_by=actor,
        recorded_at=now or utcnow(),
    )
    session.add(outcome)
    session.flush()
    AuditLog(session).append(
        AuditAction.OUTCOME,
        actor=actor,
        subject_type="referral",
        subject_id=str(referral.id),
        details={
            "report_id": referral.report_id,
            "agency_id": referral.agency_id,
            "kind": outcome.kind.value,
            "outcome_id": outcome.id,
        },
    )
    return outcome


def required_text(text: str, what: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidText(f"{what} is required")
    if len(text) > limit:
        raise InvalidText(f"{what} must be at most {limit} characters")
    return text


def _audit(session: Session, referral: Referral, actor: str, action: str, **extra: str) -> None:
    AuditLog(session).append(
        AuditAction.REFERRAL_ACTION,
        actor=actor,
        subject_type="referral",
        subject_id=str(referral.id),
        details={
            "action": action,
            "report_id": referral.report_id,
            "agency_id": referral.agency_id,
            **extra,
        },
    )
