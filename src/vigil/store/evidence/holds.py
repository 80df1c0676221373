"""Legal holds as an operator reads, places and releases them (`vigil evidence holds`,
`preserve`, `release-hold`): each change is audited (DECISION) in the transaction that
makes it, and the retention functions that make it commit both together or neither.

The item's row is locked before the audit chain's lock, the order the retention job takes
them, so a preservation request and a purge of the same item cannot deadlock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog
from vigil.store.evidence.errors import EvidenceNotFound
from vigil.store.evidence.retention import HoldPolicy, place_preservation_hold, release_hold
from vigil.store.models import EvidenceItem, LegalHold


def holds_of_item(session: Session, item_id: str) -> list[LegalHold]:
    """Every hold ever placed on the item, active or not, oldest first (raises
    EvidenceNotFound for an unknown item)."""
    existing_item(session, item_id)
    query = select(LegalHold).where(LegalHold.item_id == item_id)
    return list(session.scalars(query.order_by(LegalHold.placed_at, LegalHold.id)))


def existing_item(session: Session, item_id: str, *, lock: bool = False) -> EvidenceItem:
    """The evidence item, its row locked with ``lock``; EvidenceNotFound when unknown."""
    item = session.get(EvidenceItem, item_id, with_for_update=lock)
    if item is None:
        raise EvidenceNotFound(f"no evidence item {item_id}")
    return item


def preserve_item(
    session: Session,
    item_id: str,
    *,
    actor: str,
    reason: str,
    requested_by: str | None,
    policy: HoldPolicy,
) -> LegalHold:
    """Record a law-enforcement preservation request: a hold extending the item's protection
    by ``policy.preservation_days``, audited with the request. Commits."""
    existing_item(session, item_id, lock=True)
    AuditLog(session).append(
        AuditAction.DECISION,
        actor=actor,
        subject_type="evidence_item",
        subject_id=item_id,
        details={
            "decision": "preservation_hold",
            "reason": reason,
            "requested_by": requested_by,
            "days": policy.preservation_days,
        },
    )
    full_reason = f"{reason} (requested by {requested_by})" if requested_by else reason
    return place_preservation_hold(
        session, item_id, placed_by=actor, reason=full_reason, policy=policy
    )


def locked_hold(session: Session, hold_id: int) -> LegalHold | None:
    """The hold with its row locked until commit, so two releases do not both record one;
    None for an unknown hold."""
    return session.get(LegalHold, hold_id, with_for_update=True)


def release_audited(session: Session, hold: LegalHold, *, actor: str, reason: str) -> LegalHold:
    """End ``hold`` early (from locked_hold, not yet released), audited with the reason;
    the hold's row and the reason stay on record. Commits."""
    AuditLog(session).append(
        AuditAction.DECISION,
        actor=actor,
        subject_type="legal_hold",
        subject_id=str(hold.id),
        details={
            "decision": "release_legal_hold",
            "item_id": hold.item_id,
            "kind": hold.kind.value,
            "reason": reason,
        },
    )
    return release_hold(session, hold.id, released_by=actor)
