"""Law-enforcement requests: record them (with the legal document, encrypted), link them to
reports and accounts (which extends the holds on everything linked), answer them, and the
dashboard that puts emergencies first and flags the overdue.

Every function commits; pass a write session (``database.session(write=True)``).
"""

from __future__ import annotations

import contextlib
import re
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.reporting.account_data import account_records, account_reports
from vigil.reporting.preservation import checked_actor, load_report, report_item_ids
from vigil.reporting.preservation_errors import InvalidRequest, RequestNotOpen, UnknownRequest
from vigil.store.audit import AuditLog
from vigil.store.evidence import (
    EvidenceShredded,
    EvidenceVault,
    HoldPolicy,
    place_preservation_hold,
)
from vigil.store.models import (
    AuditAction,
    CustodyEvent,
    LegalRequest,
    LegalRequestKind,
    LegalRequestLink,
    LegalRequestStatus,
    Report,
    utcnow,
)

REQUEST_SUBJECT = "legal_request"
DOCUMENT_POLICY = "legal request document"
MAX_AGENCY = 300
MAX_CASE_NUMBER = 200
MAX_ACCOUNT_ID = 255
MAX_NOTES = 10_000
MAX_OPEN_SHOWN = 1_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ExtendedHold:
    item_id: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkResult:
    link_id: int
    request_public_id: str
    report_public_id: str | None
    account_id: str | None
    extended: tuple[ExtendedHold, ...]
    not_extended: tuple[str, ...]  # items already purged: nothing left to hold


@dataclass(frozen=True)
class OpenRequest:
    public_id: str
    agency: str
    agency_case_number: str
    kind: LegalRequestKind
    received_at: datetime
    due_at: datetime
    time_left: timedelta  # negative once overdue
    overdue: bool
    links: int


@dataclass(frozen=True)
class AnswerStats:
    answered: int
    late: int  # answered after their due date
    mean: timedelta | None
    median: timedelta | None
    longest: timedelta | None


@dataclass(frozen=True)
class RequestDashboard:
    now: datetime
    open_requests: tuple[OpenRequest, ...]  # emergencies first, then by due date
    overdue: int
    answers: AnswerStats


def record_request(
    session: Session,
    *,
    agency: str,
    agency_case_number: str,
    kind: LegalRequestKind | str,
    settings: Settings,
    actor: str,
    received_at: datetime | None = None,
    due_at: datetime | None = None,
    document: bytes | None = None,
    notes: str = "",
    vault: EvidenceVault | None = None,
    now: datetime | None = None,
) -> LegalRequest:
    """Record a request. Without ``due_at`` an emergency is due ``emergency_due_hours`` after
    it was received, anything else ``request_due_days`` after. The legal document is sealed
    in the vault under a preservation hold. Raises InvalidRequest."""
    actor = checked_actor(actor)
    now = now or utcnow()
    agency = _text("agency", agency, MAX_AGENCY)
    case_number = _text("agency case number", agency_case_number, MAX_CASE_NUMBER)
    kind = _kind(kind)
    notes = _notes(notes)
    received_at = _aware("received_at", received_at) or now
    if received_at > now + timedelta(minutes=5):
        raise InvalidRequest("received_at is in the future")
    due_at = _aware("due_at", due_at) or received_at + _default_term(kind, settings)
    if due_at <= received_at:
        raise InvalidRequest("due_at must be after received_at")
    public_id = uuid.uuid4().hex
    document_id = None
    if document is not None:
        document_id = _store_document(session, document, public_id, settings, vault, actor, now)
    request = LegalRequest(
        public_id=public_id,
        agency=agency,
        agency_case_number=case_number,
        kind=kind,
        received_at=received_at,
        due_at=due_at,
        document_evidence_id=document_id,
        notes=notes,
        created_by=actor,
    )
    session.add(request)
    session.flush()
    _audit(
        session,
        actor,
        request,
        now,
        {
            "event": "recorded",
            "kind": kind.value,
            "agency": agency,
            "agency_case_number": case_number,
            "due_at": due_at.isoformat(),
            "document_item_id": document_id,
        },
    )
    session.commit()
    return request


def link_request(
    session: Session,
    request: LegalRequest | str,
    *,
    actor: str,
    settings: Settings,
    report_public_id: str | None = None,
    account_id: str | None = None,
    now: datetime | None = None,
) -> LinkResult:
    """Link a report and/or an account to the request and extend (place_preservation_hold)
    the holds of everything linked: the report's package, files and account data, and the
    account's evidence and reports. Raises InvalidRequest, UnknownReport, RequestNotOpen."""
    actor = checked_actor(actor)
    now = now or utcnow()
    request = get_request(session, request)
    if request.status is LegalRequestStatus.CLOSED:
        raise RequestNotOpen(f"request {request.public_id} is closed")
    if report_public_id is None and account_id is None:
        raise InvalidRequest("link a report, an account or both")
    report = load_report(session, report_public_id) if report_public_id is not None else None
    if account_id is not None:
        account_id = _text("account id", account_id, MAX_ACCOUNT_ID)
    item_ids = _linked_items(session, report, account_id)
    reason = (
        f"{request.kind.value} request {request.public_id} from {request.agency} "
        f"({request.agency_case_number})"
    )
    extended, gone = _extend(session, item_ids, reason, settings, actor, now)
    link = LegalRequestLink(
        request_id=request.id, report_id=report.id if report else None, account_id=account_id
    )
    session.add(link)
    session.flush()
    _audit(
        session,
        actor,
        request,
        now,
        {
            "event": "linked",
            "report_id": report.public_id if report else None,
            "account_id": account_id,
            "extended_items": [hold.item_id for hold in extended],
            "already_purged": list(gone),
        },
    )
    session.commit()
    return LinkResult(
        link.id,
        request.public_id,
        report.public_id if report else None,
        account_id,
        tuple(extended),
        tuple(gone),
    )


def mark_answered(
    session: Session,
    request: LegalRequest | str,
    *,
    actor: str,
    handed_over_sha256: str | None = None,
    notes: str | None = None,
    now: datetime | None = None,
) -> LegalRequest:
    """The request was answered; ``handed_over_sha256`` (the archive given to the agency) is
    recorded in the chain of custody. Raises RequestNotOpen once answered or closed."""
    actor = checked_actor(actor)
    now = now or utcnow()
    request = get_request(session, request, lock=True)
    if request.status is not LegalRequestStatus.OPEN:
        raise RequestNotOpen(f"request {request.public_id} is already {request.status.value}")
    if handed_over_sha256 is not None and not _SHA256.match(handed_over_sha256):
        raise InvalidRequest("handed_over_sha256 must be 64 lowercase hex digits")
    request.status, request.answered_at = LegalRequestStatus.ANSWERED, now
    if notes is not None:
        request.notes = _notes(notes)
    if handed_over_sha256 is not None:
        session.add(
            CustodyEvent(
                request_id=request.id,
                at=now,
                actor=actor,
                action="handed_over",
                sha256=handed_over_sha256,
                details={"agency": request.agency},
            )
        )
    _audit(
        session,
        actor,
        request,
        now,
        {
            "event": "answered",
            "handed_over_sha256": handed_over_sha256,
            "seconds_to_answer": int((now - request.received_at).total_seconds()),
        },
    )
    session.commit()
    return request


def dashboard(session: Session, now: datetime | None = None) -> RequestDashboard:
    """Open requests, emergencies first then by due date, and how fast answers came."""
    now = now or utcnow()
    link_counts = (
        select(LegalRequestLink.request_id, func.count().label("links"))
        .group_by(LegalRequestLink.request_id)
        .subquery()
    )
    rows = session.execute(
        select(LegalRequest, func.coalesce(link_counts.c.links, 0))
        .outerjoin(link_counts, link_counts.c.request_id == LegalRequest.id)
        .where(LegalRequest.status == LegalRequestStatus.OPEN)
        # Emergencies first in SQL too, so the limit can never cut one off.
        .order_by(
            case((LegalRequest.kind == LegalRequestKind.EMERGENCY, 0), else_=1),
            LegalRequest.due_at,
            LegalRequest.received_at,
            LegalRequest.id,
        )
        .limit(MAX_OPEN_SHOWN)
    ).all()
    shown = [_open_row(request, links, now) for request, links in rows]
    return RequestDashboard(
        now, tuple(shown), sum(row.overdue for row in shown), _answer_stats(session)
    )


def get_request(
    session: Session, request: LegalRequest | str, *, lock: bool = False
) -> LegalRequest:
    if isinstance(request, LegalRequest):
        public_id = request.public_id
    elif isinstance(request, str) and 0 < len(request) <= 32:
        public_id = request
    else:
        raise UnknownRequest("no such request")
    query = select(LegalRequest).where(LegalRequest.public_id == public_id)
    if lock:
        query = query.with_for_update()
    found = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if found is None:
        raise UnknownRequest("no such request")
    return found


# --- internals ----------------------------------------------------------------------------


def _store_document(
    session: Session,
    document: bytes,
    public_id: str,
    settings: Settings,
    vault: EvidenceVault | None,
    actor: str,
    now: datetime,
) -> str:
    if not isinstance(document, bytes) or not document:
        raise InvalidRequest("the legal document must be non-empty bytes")
    vault = vault or EvidenceVault.from_settings(settings)
    if len(document) > vault.max_bytes:
        raise InvalidRequest(f"the legal document is larger than {vault.max_bytes} bytes")
    item = vault.put(
        session,
        document,
        now=now,
        reference=f"legal-request:{public_id}",
        retention_policy=DOCUMENT_POLICY,
    )
    place_preservation_hold(
        session,
        item.id,
        placed_by=actor,
        policy=HoldPolicy.from_settings(settings),
        reason=f"legal document of request {public_id}",
        now=now,
    )
    return item.id


def _linked_items(session: Session, report: Report | None, account_id: str | None) -> list[str]:
    reports = [report] if report is not None else []
    ids: list[str] = []
    if account_id is not None:
        reports += account_reports(session, account_id)
        ids += [
            entry.record.evidence_item_id
            for entry in account_records(session, account_id)
            if entry.record.evidence_item_id
        ]
    for linked in reports:
        ids += report_item_ids(session, linked)
    return list(dict.fromkeys(ids))


def _extend(
    session: Session,
    item_ids: list[str],
    reason: str,
    settings: Settings,
    actor: str,
    now: datetime,
) -> tuple[list[ExtendedHold], list[str]]:
    policy = HoldPolicy.from_settings(settings)
    extended, gone = [], []
    for item_id in item_ids:
        try:
            hold = place_preservation_hold(
                session, item_id, placed_by=actor, reason=reason, policy=policy, now=now
            )
        except EvidenceShredded:
            gone.append(item_id)
            continue
        extended.append(ExtendedHold(item_id, hold.expires_at))
    return extended, gone


def _open_row(request: LegalRequest, links: int, now: datetime) -> OpenRequest:
    left = request.due_at - now
    return OpenRequest(
        request.public_id,
        request.agency,
        request.agency_case_number,
        request.kind,
        request.received_at,
        request.due_at,
        left,
        left <= timedelta(0),
        int(links),
    )


def _answer_stats(session: Session) -> AnswerStats:
    rows = session.execute(
        select(LegalRequest.received_at, LegalRequest.answered_at, LegalRequest.due_at).where(
            LegalRequest.answered_at.is_not(None)
        )
    ).all()
    # The query's filter again, for the type checker: answered_at is a nullable column.
    answers = [
        (received, answered, due) for received, answered, due in rows if answered is not None
    ]
    spans = [answered - received for received, answered, _ in answers]
    late = sum(answered > due for _, answered, due in answers)
    if not spans:
        return AnswerStats(0, 0, None, None, None)
    seconds = [span.total_seconds() for span in spans]
    return AnswerStats(
        len(spans),
        late,
        timedelta(seconds=statistics.fmean(seconds)),
        timedelta(seconds=statistics.median(seconds)),
        max(spans),
    )


def _default_term(kind: LegalRequestKind, settings: Settings) -> timedelta:
    if kind is LegalRequestKind.EMERGENCY:
        return timedelta(hours=settings.reporting.emergency_due_hours)
    return timedelta(days=settings.reporting.request_due_days)


def _kind(kind: object) -> LegalRequestKind:
    if isinstance(kind, str):  # anything else names no request type either
        with contextlib.suppress(ValueError):
            return LegalRequestKind(kind)
    choices = ", ".join(member.value for member in LegalRequestKind)
    raise InvalidRequest(f"the request type must be one of {choices}")


def _text(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequest(f"{field} must be 1 to {limit} characters")
    if any(ord(char) < 32 for char in value):
        raise InvalidRequest(f"{field} must not contain control characters")
    return value.strip()


def _notes(notes: object) -> str:
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        raise InvalidRequest(f"notes must be text of at most {MAX_NOTES} characters")
    return notes


def _aware(field: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidRequest(f"{field} must be a timezone-aware datetime")
    return value


def _audit(
    session: Session, actor: str, request: LegalRequest, now: datetime, details: dict[str, object]
) -> None:
    # No dedicated action exists for legal requests; REPORT is the reporting domain's.
    AuditLog(session).append(
        AuditAction.REPORT,
        actor=actor,
        subject_type=REQUEST_SUBJECT,
        subject_id=request.public_id,
        at=now,
        details=details,
    )
