"""Classifying items and deciding cases, with what a decision feeds back into the lists.

* confirm: the item is abuse (needs a classification, its own or inherited); a case whose
  items are all decided, any confirmed, becomes CONFIRMED and goes to reporting;
* false positive: the item is not abuse; with a mandatory reason the reviewer may disable
  the list entries it matched (at once, or by a request a second reviewer approves when
  ``[review] two_reviewers_to_disable`` is on) and/or add its hashes to an allow-list, so the
  same false positive does not come back; a case of false positives only is DISMISSED;
* second opinion: flagged and unassigned, stays open;
* escalate: urgent, with the person's mandatory reason, which the CyberTipline report
  carries as escalateToHighPriority; de-escalate undoes it (reason, urgency, danger flag).

A confirmation or a false positive on an item that matched entries an exchange shared also
queues affirmative or negative feedback (with the reason) for that exchange, where it takes
feedback and its administrator left it on (vigil.store.exchanges.entry_feedback).

Every decision appends a ReviewDecision (with the reveals it needed) and a DECISION audit
record in the caller's transaction; the case row is locked meanwhile. No HTTP here.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import ReviewSettings
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownRequest
from vigil.review.lookup import get_case, get_item
from vigil.store.audit import AuditLog, checked_actor
from vigil.store.evidence import EvidenceVault
from vigil.store.exchanges.entry_feedback import queue_verdicts
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.entry_status import disable_entry, get_entry
from vigil.store.lists.errors import StatusChangeRefused
from vigil.store.lists.manual_entries import AddedEntries, NewSignal, add_entries
from vigil.store.models import (
    AuditAction,
    Case,
    CaseItem,
    CaseStatus,
    DecisionKind,
    EntryDisableRequest,
    EntryStatus,
    FeedbackVerdict,
    HashList,
    ItemStatus,
    ListEntry,
    MatchRecord,
    RequestStatus,
    ReviewDecision,
    SignalType,
    utcnow,
)
from vigil.store.records.cases import recompute_priority
from vigil.store.records.held_regions import HeldOwner, hold_evidence
from vigil.store.records.outbox import enqueue_event
from vigil.store.shared.vocabulary import (
    FILE_ANNOTATIONS,
    INCIDENT_TYPES,
    INDUSTRY_CLASSIFICATIONS,
    is_classification,
    ordered_annotations,
    unknown_annotations,
)

MAX_REASON = 2000
MAX_ANNOTATION_VALUES = 40  # more than the vocabulary holds: anything longer is hostile
ITEM_KINDS = frozenset({DecisionKind.CONFIRM, DecisionKind.FALSE_POSITIVE})
REASONED_KINDS = frozenset({DecisionKind.FALSE_POSITIVE, DecisionKind.ESCALATE})
CASE_SUBJECT = "review_case"
REQUEST_SUBJECT = "entry_disable_request"


class Reviewer(Protocol):
    """Who decides: a vigil.store.accounts.Principal, or a ReviewerRef."""

    @property
    def id(self) -> int: ...

    @property
    def actor(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ReviewerRef:
    id: int  # users.id
    actor: str  # as the audit log names them, e.g. "user:alice"


@dataclass(frozen=True, slots=True)
class FalsePositiveFeedback:
    """What a false positive changes in the lists (nothing by default)."""

    disable_entries: bool = False
    entry_ids: tuple[int, ...] | None = None  # None: every entry the item matched
    allow_list: bool = False
    allow_list_name: str | None = None  # None: "<[review] platform_list>-allow"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    decision_id: int
    case_id: str  # the case's public id
    case_status: CaseStatus
    item_id: int | None
    kind: DecisionKind
    reveals_needed: int
    feedback: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DisableRequestSummary:
    id: int
    entry_id: int
    list_name: str
    item_id: int | None
    reason: str
    requested_by: str
    requested_at: datetime


# --- classification ------------------------------------------------------------------------


def classify_item(
    session: Session,
    item_id: int,
    classification: str | None,
    annotations: Iterable[str] = (),
    *,
    actor: str,
    now: datetime | None = None,
) -> CaseItem:
    """Set a pending item's industry classification (None clears it) and file annotations."""
    actor = _checked_actor(actor)
    if classification is not None and not is_classification(classification):
        raise InvalidReviewInput(
            f"classification must be one of {', '.join(INDUSTRY_CLASSIFICATIONS)}"
        )
    chosen = _checked_annotations(annotations)
    item = get_item(session, item_id, lock=True)
    _require_open(item.case)
    require_pending(item)
    item.classification, item.annotations = classification, chosen
    item.case.updated_at = now or utcnow()
    session.flush()
    _audit(
        session,
        actor,
        item.case,
        {
            "change": "classification",
            "item_id": item.id,
            "classification": classification,
            "annotations": chosen,
        },
    )
    return item


def set_incident_type(
    session: Session, case_id: str, value: str | None, *, actor: str, now: datetime | None = None
) -> Case:
    """The case's CyberTipline incident type (None clears it)."""
    actor = _checked_actor(actor)
    if value is not None and value not in INCIDENT_TYPES:
        raise InvalidReviewInput("incident type must be one of the eight CyberTipline types")
    case = get_case(session, case_id, lock=True)
    if case.status is CaseStatus.DISMISSED:
        raise DecisionRefused("the case was dismissed: nothing will be reported")
    case.incident_type = value
    case.updated_at = now or utcnow()
    session.flush()
    _audit(session, actor, case, {"change": "incident_type", "incident_type": value})
    return case


# --- decisions -----------------------------------------------------------------------------


def decide(
    session: Session,
    case_id: str,
    kind: DecisionKind | str,
    *,
    reviewer: Reviewer,
    settings: ReviewSettings,
    item_id: int | None = None,
    reason: str = "",
    feedback: FalsePositiveFeedback | None = None,
    imminent_danger: bool = False,
    now: datetime | None = None,
    vault: EvidenceVault | None = None,
) -> DecisionResult:
    """Decide on an item (confirm, false positive: ``item_id`` required) or on the case
    (second opinion, escalate). Raises InvalidReviewInput, DecisionRefused, UnknownCase,
    UnknownItem; nothing is written then. With ``vault``, a confirmed item's kept picture is
    also held as region hashes (vigil.store.records.held_regions) for the second screening
    stage."""
    kind = _kind(kind)
    actor = _checked_actor(reviewer.actor)
    reason = _checked_reason(reason, required=kind in REASONED_KINDS)
    case = get_case(session, case_id, lock=True)
    _require_open(case)
    item = _item_of(case, item_id)
    if kind in ITEM_KINDS and item is None:
        raise InvalidReviewInput(f"a {kind.value} decision needs an item")
    when = now or utcnow()
    reveals = item.reveals if kind in ITEM_KINDS and item else sum(i.reveals for i in case.items)
    if kind is DecisionKind.CONFIRM:
        assert item is not None
        applied = _confirm(case, item, actor, when)
        _hold_picture(session, vault, item)
    elif kind is DecisionKind.FALSE_POSITIVE:
        assert item is not None
        applied = _false_positive(session, case, item, actor, reason, feedback, settings, when)
    elif kind is DecisionKind.SECOND_OPINION:
        applied = _second_opinion(case)
    elif kind is DecisionKind.ESCALATE:
        applied = _escalate(case, reason, imminent_danger)
    else:
        applied = _de_escalate(case)
    if kind in ITEM_KINDS:
        assert item is not None
        applied.update(_tell_exchanges(session, item, kind, actor, reason))
    case.updated_at = when
    decision = ReviewDecision(
        case_id=case.id,
        item_id=item.id if item else None,
        kind=kind,
        reviewer=actor,
        at=when,
        reason=reason,
        reveals_needed=reveals,
        feedback=applied,
    )
    session.add(decision)
    session.flush()
    _audit(
        session,
        actor,
        case,
        {
            "decision_id": decision.id,
            "kind": kind.value,
            "item_id": decision.item_id,
            "reveals_needed": reveals,
            "case_status": case.status.value,
            "reason": reason[:500],
            "feedback": applied,
        },
        at=when,
    )
    _announce(session, case, decision, item, when)
    return DecisionResult(
        decision.id, case.public_id, case.status, decision.item_id, kind, reveals, applied
    )


def confirm_known(
    session: Session,
    case_id: str,
    *,
    reviewer: Reviewer,
    settings: ReviewSettings,
    now: datetime | None = None,
    vault: EvidenceVault | None = None,
) -> list[DecisionResult]:
    """Confirm, at once, every pending item whose classification a known list entry (or an
    earlier decision) gave: one decision each, each audited, all or none. Refused when no
    pending item is known."""
    case = get_case(session, case_id, lock=True)
    _require_open(case)
    known = [
        item.id
        for item in case.items
        if item.status is ItemStatus.PENDING and item.inherited_classification
    ]
    if not known:
        raise DecisionRefused("no pending item of this case is known from a list")
    return [
        decide(
            session,
            case_id,
            DecisionKind.CONFIRM,
            reviewer=reviewer,
            settings=settings,
            item_id=item_id,
            now=now,
            vault=vault,
        )
        for item_id in known
    ]


def _announce(
    session: Session, case: Case, decision: ReviewDecision, item: CaseItem | None, when: datetime
) -> None:
    """The "decision" webhook, in the decision's transaction, so the platform can remove
    confirmed content or restore a false positive. Platform ids only: no reason, no media."""
    record = session.get(MatchRecord, item.record_id) if item is not None else None
    enqueue_event(
        session,
        "decision",
        {
            "decision_id": decision.id,
            "kind": decision.kind.value,
            "case_id": case.public_id,
            "case_status": case.status.value,
            "account_id": case.platform_account_id,
            "record_id": record.public_id if record else None,
            "content_id": record.platform_content_id if record else None,
            "classification": item.classification if item else None,
            "decided_at": when.isoformat(),
        },
        now=when,
    )


def _confirm(case: Case, item: CaseItem, actor: str, when: datetime) -> dict[str, Any]:
    require_pending(item)
    classification = item.classification or item.inherited_classification
    if not classification:
        raise DecisionRefused(f"classify item {item.id} before confirming it")
    if item.classification is None and is_classification(classification):
        item.classification = classification  # the inherited one, as reporting needs it
    _mark(item, ItemStatus.CONFIRMED, actor, when)
    case.second_opinion = False
    _settle(case, when)
    return {
        "classification": classification,
        "annotations": list(item.annotations or []),
        "inherited_from": item.inherited_from if item.inherited_classification else None,
    }


def _hold_picture(session: Session, vault: EvidenceVault | None, item: CaseItem) -> None:
    """Confirmed content Vigil keeps is held as region hashes, so captioned or watermarked
    copies of it are found later; never a condition of the decision."""
    record = session.get_one(MatchRecord, item.record_id)
    owner = HeldOwner(case_item_id=item.id)
    hold_evidence(session, vault, owner, record.evidence_item_id, record.media_type)


def _false_positive(
    session: Session,
    case: Case,
    item: CaseItem,
    actor: str,
    reason: str,
    feedback: FalsePositiveFeedback | None,
    settings: ReviewSettings,
    when: datetime,
) -> dict[str, Any]:
    require_pending(item)
    chosen = feedback or FalsePositiveFeedback()
    record = session.get_one(MatchRecord, item.record_id)
    entries = _entries_to_disable(record, chosen) if chosen.disable_entries else []
    allow = _allow_list(session, chosen, settings, actor) if chosen.allow_list else None
    applied: dict[str, Any] = {}
    why = f"false positive in case {case.public_id}: {reason}"
    if entries and settings.two_reviewers_to_disable:
        applied["disable_requests"] = _request_disabling(
            session, item, entries, actor, reason, when
        )
    elif entries:
        applied["disabled_entries"] = _disable(session, entries, actor, why)
    if allow is not None:
        added = _add_hashes(session, allow, record, actor=actor, reason=why)
        applied["allow_list"], applied["allow_entries"] = allow.name, added.entry_ids
    _mark(item, ItemStatus.FALSE_POSITIVE, actor, when)
    case.second_opinion = False
    _settle(case, when)
    return applied


def _tell_exchanges(
    session: Session, item: CaseItem, kind: DecisionKind, actor: str, reason: str
) -> dict[str, Any]:
    """Queue the verdict for the exchanges that shared the matched entries (those taking
    feedback, with it left on), in the decision's transaction: affirmative for a
    confirmation, negative with the reviewer's reason for a false positive."""
    record = session.get_one(MatchRecord, item.record_id)
    verdict = (
        FeedbackVerdict.AFFIRMATIVE if kind is DecisionKind.CONFIRM else FeedbackVerdict.NEGATIVE
    )
    queued = queue_verdicts(
        session, {hit.entry_id for hit in record.hits}, verdict, actor=actor, reason=reason
    )
    return {"exchange_feedback": queued} if queued else {}


def _second_opinion(case: Case) -> dict[str, Any]:
    case.second_opinion = True
    case.assigned_to_id, case.assigned_at = None, None  # back to the queue for someone else
    return {"second_opinion": True}


def _escalate(case: Case, reason: str, imminent_danger: bool) -> dict[str, Any]:
    case.escalated = True
    case.escalation_reason = reason  # a later escalation's words replace the earlier ones
    case.imminent_danger = case.imminent_danger or bool(imminent_danger)
    recompute_priority(case)
    return {"escalated": True, "imminent_danger": case.imminent_danger}


def _de_escalate(case: Case) -> dict[str, Any]:
    """Undo an escalation: the case is ordered by what it holds again, and the report asks
    for no high priority. The undone reason stays in this decision's record."""
    if not (case.escalated or case.imminent_danger):
        raise DecisionRefused(f"case {case.public_id} is not escalated")
    undone = {
        "escalated": False,
        "imminent_danger": False,
        "undone_reason": (case.escalation_reason or "")[:500],
        "undone_imminent_danger": case.imminent_danger,
    }
    case.escalated, case.imminent_danger, case.escalation_reason = False, False, None
    recompute_priority(case)
    return undone


def _settle(case: Case, when: datetime) -> None:
    """Close the case once nothing is pending: confirmed if anything was abuse."""
    recompute_priority(case)
    if any(item.status is ItemStatus.PENDING for item in case.items):
        return
    confirmed = any(item.status is ItemStatus.CONFIRMED for item in case.items)
    case.status = CaseStatus.CONFIRMED if confirmed else CaseStatus.DISMISSED
    case.closed_at = when


def _mark(item: CaseItem, status: ItemStatus, actor: str, when: datetime) -> None:
    item.status, item.decided_by, item.decided_at = status, actor, when


# --- feedback into the lists ---------------------------------------------------------------


def _entries_to_disable(record: MatchRecord, feedback: FalsePositiveFeedback) -> list[int]:
    matched = sorted({hit.entry_id for hit in record.hits})
    if not matched:
        raise InvalidReviewInput("the item matched no list entry, so there is none to disable")
    if feedback.entry_ids is None:
        return matched
    wanted = sorted(set(feedback.entry_ids))
    if not wanted or not set(wanted) <= set(matched):
        # Only what this item matched: a review must not switch off unrelated entries.
        raise InvalidReviewInput("choose among the entries this item matched")
    return wanted


def _disable(session: Session, entry_ids: Sequence[int], actor: str, why: str) -> list[int]:
    disabled = []
    for entry_id in entry_ids:
        if get_entry(session, entry_id).status is EntryStatus.DELETED:
            continue  # its source removed it: it no longer matches anyway
        disable_entry(session, entry_id, actor=actor, reason=why[:MAX_REASON])
        disabled.append(entry_id)
    return disabled


def _request_disabling(
    session: Session,
    item: CaseItem,
    entry_ids: Sequence[int],
    actor: str,
    reason: str,
    when: datetime,
) -> list[int]:
    request_ids = []
    for entry_id in entry_ids:
        pending = session.scalar(
            select(EntryDisableRequest.id).where(
                EntryDisableRequest.entry_id == entry_id,
                EntryDisableRequest.status == RequestStatus.PENDING,
            )
        )
        if pending is None:
            request = EntryDisableRequest(
                entry_id=entry_id,
                item_id=item.id,
                reason=reason,
                requested_by=actor,
                requested_at=when,
                status=RequestStatus.PENDING,
            )
            session.add(request)
            session.flush()
            pending = request.id
        request_ids.append(pending)
    return request_ids


def _allow_list(
    session: Session, feedback: FalsePositiveFeedback, settings: ReviewSettings, actor: str
) -> HashList:
    name = (feedback.allow_list_name or f"{settings.platform_list}-allow").strip()
    hash_list = _find_list(session, name)
    if hash_list is None:
        return create_list(
            session,
            name,
            actor=actor,
            is_allow_list=True,
            description="Known false positives, added by reviewers",
        )
    if not hash_list.is_allow_list:
        raise InvalidReviewInput(f"list {name[:200]!r} is not an allow-list")
    return hash_list


def _platform_list(session: Session, settings: ReviewSettings, actor: str) -> HashList:
    hash_list = _find_list(session, settings.platform_list)
    if hash_list is None:
        return create_list(
            session,
            settings.platform_list,
            actor=actor,
            description="Content confirmed by this platform's reviewers",
        )
    if hash_list.is_allow_list:
        raise DecisionRefused(f"list {hash_list.name!r} is an allow-list, not the platform's")
    return hash_list


def _find_list(session: Session, name: str) -> HashList | None:
    return session.scalar(select(HashList).where(HashList.name == name.strip()))


def _add_hashes(
    session: Session,
    hash_list: HashList,
    record: MatchRecord,
    *,
    actor: str,
    reason: str,
    classification: str | None = None,
    external_id: str | None = None,
) -> AddedEntries:
    signals = record_signals(record, min_quality=hash_list.min_quality)
    if not signals:
        raise InvalidReviewInput("the item has no hashes to add to a list")
    return add_entries(
        session,
        hash_list,
        signals,
        actor=actor,
        reason=reason[:MAX_REASON],
        classification=classification,
        external_id=external_id,
    )


def record_signals(record: MatchRecord, *, min_quality: int) -> list[NewSignal]:
    """The record's SHA-256, MD5 and PDQ; a PDQ below the list's minimum quality is left
    out (the matcher would ignore it, and a weak hash collides with unrelated images)."""
    signals = [
        NewSignal(kind, value)
        for kind, value in ((SignalType.SHA256, record.sha256), (SignalType.MD5, record.md5))
        if value
    ]
    quality = record.pdq_quality if record.pdq_quality is not None else -1
    if record.pdq and quality >= min_quality:
        signals.append(NewSignal(SignalType.PDQ, record.pdq))
    return signals


def add_to_platform_list(
    session: Session, item_id: int, *, actor: str, settings: ReviewSettings
) -> AddedEntries:
    """Add a confirmed item's hashes to the platform's own list (created if missing), with
    the item's classification, so a re-upload matches as soon as the index polls the feed."""
    actor = _checked_actor(actor)
    item = get_item(session, item_id, lock=True)
    if item.status is not ItemStatus.CONFIRMED:
        raise DecisionRefused(f"item {item.id} is not confirmed")
    hash_list = _platform_list(session, settings, actor)
    record = session.get_one(MatchRecord, item.record_id)
    added = _add_hashes(
        session,
        hash_list,
        record,
        actor=actor,
        reason=f"confirmed in case {item.case.public_id}",
        classification=item.classification or item.inherited_classification,
        external_id=f"vigil-item-{item.id}",
    )
    _audit(
        session,
        actor,
        item.case,
        {
            "change": "platform_list",
            "item_id": item.id,
            "list": hash_list.name,
            "entries": added.entry_ids,
        },
    )
    return added


# --- the two-reviewer rule -----------------------------------------------------------------


def pending_requests(session: Session, *, limit: int = 100) -> list[DisableRequestSummary]:
    rows = session.execute(
        select(EntryDisableRequest, HashList.name)
        .join(ListEntry, ListEntry.id == EntryDisableRequest.entry_id)
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(EntryDisableRequest.status == RequestStatus.PENDING)
        .order_by(EntryDisableRequest.requested_at, EntryDisableRequest.id)
        .limit(max(1, min(limit, 500)))
    ).all()
    return [
        DisableRequestSummary(
            r.id, r.entry_id, name, r.item_id, r.reason, r.requested_by, r.requested_at
        )
        for r, name in rows
    ]


def approve_request(
    session: Session, request_id: int, *, reviewer: Reviewer, now: datetime | None = None
) -> EntryDisableRequest:
    """A second reviewer approves: the entry is disabled. The requester cannot approve."""
    actor = _checked_actor(reviewer.actor)
    request = _pending_request(session, request_id)
    if hmac.compare_digest(request.requested_by.encode(), actor.encode()):
        raise DecisionRefused("a second reviewer must approve; you asked for this one")
    why = (
        f"false positive: {request.reason} (requested by {request.requested_by}, "
        f"approved by {actor})"
    )
    with suppress(StatusChangeRefused):  # deleted by its source: it no longer matches
        disable_entry(session, request.entry_id, actor=actor, reason=why[:MAX_REASON])
    return _resolve(session, request, RequestStatus.APPROVED, actor, "", now)


def reject_request(
    session: Session,
    request_id: int,
    *,
    reviewer: Reviewer,
    reason: str = "",
    now: datetime | None = None,
) -> EntryDisableRequest:
    """Another reviewer rejects, or the requester withdraws: the entry stays active."""
    actor = _checked_actor(reviewer.actor)
    reason = _checked_reason(reason, required=False)
    request = _pending_request(session, request_id)
    return _resolve(session, request, RequestStatus.REJECTED, actor, reason, now)


def _pending_request(session: Session, request_id: int) -> EntryDisableRequest:
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise UnknownRequest("no such request")
    request = session.get(
        EntryDisableRequest, request_id, with_for_update=True, populate_existing=True
    )
    if request is None:
        raise UnknownRequest(f"no request {request_id}")
    if request.status is not RequestStatus.PENDING:
        raise DecisionRefused(f"request {request_id} was already {request.status.value}")
    return request


def _resolve(
    session: Session,
    request: EntryDisableRequest,
    status: RequestStatus,
    actor: str,
    reason: str,
    now: datetime | None,
) -> EntryDisableRequest:
    request.status, request.resolved_by = status, actor
    request.resolved_at = now or utcnow()
    session.flush()
    AuditLog(session).append(
        AuditAction.DECISION,
        actor=actor,
        subject_type=REQUEST_SUBJECT,
        subject_id=str(request.id),
        details={
            "request": status.value,
            "entry_id": request.entry_id,
            "requested_by": request.requested_by,
            "reason": reason[:500],
        },
    )
    return request


# --- checks --------------------------------------------------------------------------------


def _kind(kind: DecisionKind | str) -> DecisionKind:
    try:
        return DecisionKind(kind)
    except ValueError:
        raise InvalidReviewInput(
            f"decision must be one of {', '.join(k.value for k in DecisionKind)}"
        ) from None


def _item_of(case: Case, item_id: int | None) -> CaseItem | None:
    if item_id is None:
        return None
    for item in case.items:
        if item.id == item_id:
            return item
    raise InvalidReviewInput(f"item {item_id} is not in case {case.public_id}")


def _require_open(case: Case) -> None:
    if case.status is not CaseStatus.OPEN:
        raise DecisionRefused(f"case {case.public_id} is {case.status.value}")


def require_pending(*items: CaseItem) -> None:
    """Only a pending item is classified or decided: a decision already taken, audited and
    perhaps reported, is not changed underneath. Names every decided item."""
    decided = [
        f"{item.id} ({item.status.value})"
        for item in items
        if item.status is not ItemStatus.PENDING
    ]
    if len(decided) == 1:
        raise DecisionRefused(f"item {decided[0]} was already decided")
    if decided:
        raise DecisionRefused(f"items {', '.join(decided)} were already decided")


def _checked_actor(actor: object) -> str:
    """A reviewer's name is refused when too long, not cut: the record must name them."""
    return checked_actor(actor, refusal=InvalidReviewInput, too_long="refuse")


def _checked_reason(reason: object, *, required: bool) -> str:
    if not isinstance(reason, str):
        raise InvalidReviewInput("the reason must be text")
    cleaned = reason.strip()
    if len(cleaned) > MAX_REASON:
        raise InvalidReviewInput(f"the reason must be at most {MAX_REASON} characters")
    if required and not cleaned:
        raise InvalidReviewInput("give a reason: it is kept with the decision")
    return cleaned


def _checked_annotations(annotations: Iterable[str]) -> list[str]:
    if isinstance(annotations, str):
        raise InvalidReviewInput("annotations must be a list of names")
    values = list(annotations)
    if len(values) > MAX_ANNOTATION_VALUES:
        raise InvalidReviewInput(f"at most {len(FILE_ANNOTATIONS)} annotations")
    unknown = unknown_annotations(values)
    if unknown:
        raise InvalidReviewInput(f"unknown file annotations: {', '.join(unknown[:5])}")
    return ordered_annotations(values)


def _audit(
    session: Session, actor: str, case: Case, details: dict[str, Any], at: datetime | None = None
) -> None:
    AuditLog(session).append(
        AuditAction.DECISION,
        actor=actor,
        subject_type=CASE_SUBJECT,
        subject_id=case.public_id,
        details=details,
        at=at,
    )
