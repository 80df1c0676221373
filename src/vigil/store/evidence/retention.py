"""Legal holds and the retention purge.

An item may be destroyed once its retention has expired and no hold is active. A hold is
active until it is released or its own expiry passes. Reporting an item places a report hold
(one year by default, per jurisdiction if configured); a preservation request extends the
protection by a further period beyond the latest active hold.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.store.evidence.errors import (
    EvidenceError,
    EvidenceNotFound,
    EvidenceShredded,
    EvidenceUnderHold,
)
from vigil.store.models import (
    Case,
    CaseItem,
    CaseStatus,
    EvidenceItem,
    EvidencePurge,
    HoldKind,
    LegalHold,
    MatchRecord,
    Report,
    ReportFile,
    ReportState,
    utcnow,
)

if TYPE_CHECKING:
    from vigil.store.evidence.vault import EvidenceVault

PURGE_ACTOR = "retention"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldPolicy:
    report_days: int = 365
    report_days_by_jurisdiction: Mapping[str, int] = field(default_factory=dict)
    preservation_days: int = 90

    @classmethod
    def from_settings(cls, settings: Settings) -> HoldPolicy:
        evidence = settings.evidence
        return cls(
            evidence.report_hold_days,
            dict(evidence.report_hold_days_by_jurisdiction),
            evidence.preservation_days,
        )

    def report_period(self, jurisdiction: str | None) -> timedelta:
        days = self.report_days_by_jurisdiction.get(jurisdiction or "", self.report_days)
        return timedelta(days=days)


def _hold_is_active(now: datetime) -> ColumnElement[bool]:
    return and_(LegalHold.released_at.is_(None), LegalHold.expires_at > now)


def active_holds(session: Session, item_id: str, now: datetime) -> list[LegalHold]:
    query = select(LegalHold).where(LegalHold.item_id == item_id, _hold_is_active(now))
    return list(session.scalars(query.order_by(LegalHold.expires_at)))


def place_report_hold(
    session: Session,
    item_id: str,
    *,
    placed_by: str,
    reason: str,
    policy: HoldPolicy,
    jurisdiction: str | None = None,
    now: datetime | None = None,
) -> LegalHold:
    """Hold an item that was reported, for the jurisdiction's period. Commits."""
    now = now or utcnow()
    _live_item(session, item_id)
    hold = LegalHold(
        item_id=item_id,
        kind=HoldKind.REPORT,
        reason=reason,
        jurisdiction=jurisdiction,
        placed_by=placed_by,
        placed_at=now,
        expires_at=now + policy.report_period(jurisdiction),
    )
    return _commit(session, hold)


def place_preservation_hold(
    session: Session,
    item_id: str,
    *,
    placed_by: str,
    reason: str,
    policy: HoldPolicy,
    now: datetime | None = None,
) -> LegalHold:
    """Extend protection by ``policy.preservation_days`` past the latest active hold (or
    past now if there is none). Commits."""
    now = now or utcnow()
    _live_item(session, item_id)
    latest = max([now, *(hold.expires_at for hold in active_holds(session, item_id, now))])
    hold = LegalHold(
        item_id=item_id,
        kind=HoldKind.PRESERVATION_REQUEST,
        reason=reason,
        placed_by=placed_by,
        placed_at=now,
        expires_at=latest + timedelta(days=policy.preservation_days),
    )
    return _commit(session, hold)


def release_hold(
    session: Session, hold_id: int, *, released_by: str, now: datetime | None = None
) -> LegalHold:
    """End a hold early (e.g. the case was closed). Commits."""
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise EvidenceError(f"no legal hold #{hold_id}")
    if hold.released_at is None:
        hold.released_at, hold.released_by = now or utcnow(), released_by
    return _commit(session, hold)


def purge_expired(
    session: Session, vault: EvidenceVault, now: datetime | None = None
) -> list[EvidencePurge]:
    """Shred every item whose retention has expired and that no active hold protects.
    Each destruction is committed and recorded (EvidencePurge) on its own."""
    now = now or utcnow()
    due = list(
        session.execute(
            select(EvidenceItem.id, EvidenceItem.retain_until, EvidenceItem.retention_policy)
            .where(
                EvidenceItem.shredded_at.is_(None),
                EvidenceItem.retain_until <= now,
                ~exists().where(LegalHold.item_id == EvidenceItem.id, _hold_is_active(now)),
                ~_still_needed(),
            )
            .order_by(EvidenceItem.retain_until)
        )
    )
    session.rollback()
    purges = []
    for item_id, retain_until, policy in due:
        reason = (
            f"retention expired at {retain_until.isoformat()} "
            f"(policy: {policy}); no active legal hold"
        )
        try:
            purges.append(vault.shred(session, item_id, actor=PURGE_ACTOR, reason=reason, now=now))
        except (EvidenceUnderHold, EvidenceShredded) as exc:
            # A hold placed, or a shred done, since the query: skipping is the safe outcome.
            log.info("purge skipped evidence item %s: %s", item_id, exc)
    return purges


def _still_needed() -> ColumnElement[bool]:
    """Evidence that work in progress still needs, whatever its retention says: media of a
    case not yet decided, and files of a report not yet through (a finished report holds
    its files by a legal hold; a retracted one needs nothing)."""
    in_open_case = (
        select(MatchRecord.evidence_item_id)
        .join(CaseItem, CaseItem.record_id == MatchRecord.id)
        .join(Case, Case.id == CaseItem.case_id)
        .where(Case.status == CaseStatus.OPEN, MatchRecord.evidence_item_id.is_not(None))
    )
    in_unfinished_report = (
        select(ReportFile.evidence_item_id)
        .join(Report, Report.id == ReportFile.report_id)
        .where(
            Report.state.not_in([ReportState.FINISHED, ReportState.RETRACTED]),
            ReportFile.evidence_item_id.is_not(None),
        )
    )
    return or_(EvidenceItem.id.in_(in_open_case), EvidenceItem.id.in_(in_unfinished_report))


def _live_item(session: Session, item_id: str) -> EvidenceItem:
    # Locked so a concurrent shred either sees this hold or finishes first (PostgreSQL).
    item = session.get(EvidenceItem, item_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise EvidenceNotFound(f"no evidence item {item_id}")
    if item.shredded_at is not None:
        session.rollback()
        raise EvidenceShredded(f"evidence item {item_id} was shredded at {item.shredded_at}")
    return item


def _commit(session: Session, hold: LegalHold) -> LegalHold:
    session.add(hold)
    session.commit()
    return hold
