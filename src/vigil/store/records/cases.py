"""Review cases in the store: every flagged record joins its account's one open case.

``attach_record`` runs in the transaction that saves the record, so a record is never
recorded without its case item. One open case per account is guaranteed by the partial unique
index ``uq_review_cases_open_account``; two transactions racing to open it on PostgreSQL meet
there, and the loser joins the winner's case (a savepoint keeps its own record). SQLite's one
writer lock serialises them before that can happen.

What is already known is inherited, so it need not be looked at again: a classification from a
list entry the record matched, or from an earlier confirmed item with the same SHA-256 or a
PDQ hit on the same entry. The case's priority follows from its items.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.store.errors import StoreError
from vigil.store.models import (
    Case,
    CaseItem,
    CasePriority,
    CaseStatus,
    DecisionKind,
    ItemStatus,
    MatchHit,
    MatchRecord,
    RecordSource,
    ReviewDecision,
    SignalType,
    utcnow,
)

OPEN_ATTEMPTS = 3  # losing the race twice in a row would need two cases closed meanwhile
MAX_INHERITED_FROM = 300  # CaseItem.inherited_from
MAX_CLASSIFICATION = 64  # CaseItem.inherited_classification


@dataclass(frozen=True, slots=True)
class Inherited:
    """A classification known without viewing, and where it comes from."""

    classification: str
    source: str


def account_key(record: MatchRecord) -> str:
    """Which case a record belongs to: its account, or its content when no account is known."""
    if record.platform_account_id:
        return f"account:{record.platform_account_id}"
    return f"content:{record.platform_content_id}"


def attach_record(
    session: Session,
    record: MatchRecord,
    *,
    now: datetime | None = None,
    escalation_reason: str | None = None,
) -> CaseItem:
    """Add ``record`` to its account's open case (opened if there is none); flushed, not
    committed. Call it in the transaction that saves the record. An escalation flag
    escalates the case with ``escalation_reason`` (what caused it, in words), unless the
    case already has one: a reviewer's words, or the first flag's, are not overwritten."""
    if record.id is None:
        session.flush()
    when = now or utcnow()
    case = _open_case(session, record, when)
    inherited = inherited_classification(session, record)
    item = CaseItem(
        case=case,
        record_id=record.id,
        added_at=when,
        inherited_classification=inherited.classification if inherited else None,
        inherited_from=inherited.source if inherited else None,
    )
    session.add(item)
    if record.source is RecordSource.ESCALATION:
        case.escalated = True
        case.escalation_reason = case.escalation_reason or escalation_reason
    recompute_priority(case)
    case.updated_at = when
    session.flush()
    return item


def find_open_case(session: Session, key: str, *, lock: bool = False) -> Case | None:
    query = select(Case).where(Case.account_key == key, Case.status == CaseStatus.OPEN)
    if lock:
        # A decision closing the case holds this lock; once it commits the row no longer
        # matches and a new case is opened instead of joining a closed one.
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def recompute_priority(case: Case) -> None:
    """Queue order from what the case holds: urgent, likely new, or known material."""
    live = [item for item in case.items if item.status is not ItemStatus.FALSE_POSITIVE]
    if case.escalated or case.imminent_danger:
        case.priority = CasePriority.URGENT
        case.priority_reason = (
            "A child may be in imminent danger."
            if case.imminent_danger
            else "Escalated by a person: look at this first."
        )
    elif any(item.inherited_classification is None for item in live):
        case.priority = CasePriority.LIKELY_NEW
        case.priority_reason = (
            "Not known to any list or earlier decision: possibly new "
            "material, possibly ongoing abuse."
        )
    else:
        case.priority = CasePriority.KNOWN
        case.priority_reason = "Known material: every item is already classified."


def inherited_classification(session: Session, record: MatchRecord) -> Inherited | None:
    """The record's classification as a list or an earlier decision gave it, if any."""
    return _from_lists(record) or _from_decisions(session, record)


def _open_case(session: Session, record: MatchRecord, when: datetime) -> Case:
    key = account_key(record)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _attempt in range(OPEN_ATTEMPTS):
        case = find_open_case(session, key, lock=True)
        if case is not None:
            return case
        case = Case(
            public_id=uuid.uuid4().hex,
            account_key=key,
            platform_account_id=record.platform_account_id,
            opened_at=when,
            updated_at=when,
            status=CaseStatus.OPEN,
            priority=CasePriority.KNOWN,
            priority_reason="",
        )
        if not postgres:
            session.add(case)
            session.flush()
            return case
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            return case
        except IntegrityError:
            continue  # another transaction opened it first; join that one
    raise StoreError(f"could not open a review case for {key[:80]!r}")


def _from_lists(record: MatchRecord) -> Inherited | None:
    for hit in record.hits:
        if hit.classification:
            reference = hit.external_id or str(hit.entry_id)
            return Inherited(
                hit.classification[:MAX_CLASSIFICATION],
                f"list {hit.list_name} entry {reference}"[:MAX_INHERITED_FROM],
            )
    return None


def _from_decisions(session: Session, record: MatchRecord) -> Inherited | None:
    earlier = _earlier_confirmed(session, record)
    if earlier is None:
        return None
    classification = earlier.classification or earlier.inherited_classification
    if not classification:
        return None
    decision_id = session.scalar(
        select(ReviewDecision.id)
        .where(ReviewDecision.item_id == earlier.id, ReviewDecision.kind == DecisionKind.CONFIRM)
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    source = f"decision #{decision_id}" if decision_id is not None else f"item #{earlier.id}"
    return Inherited(classification, source)


def _earlier_confirmed(session: Session, record: MatchRecord) -> CaseItem | None:
    confirmed = (
        select(CaseItem)
        .join(MatchRecord, MatchRecord.id == CaseItem.record_id)
        .where(CaseItem.status == ItemStatus.CONFIRMED, MatchRecord.id != record.id)
        .order_by(CaseItem.decided_at.desc(), CaseItem.id.desc())
        .limit(1)
    )
    if record.sha256:
        item = session.scalars(confirmed.where(MatchRecord.sha256 == record.sha256)).first()
        if item is not None:
            return item
    pdq_entries = {hit.entry_id for hit in record.hits if hit.signal_type == SignalType.PDQ}
    if not pdq_entries:
        return None
    same_entry = select(MatchHit.record_id).where(
        MatchHit.entry_id.in_(pdq_entries), MatchHit.signal_type == SignalType.PDQ
    )
    return session.scalars(confirmed.where(MatchRecord.id.in_(same_entry))).first()
