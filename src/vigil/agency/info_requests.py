"""Requests from an agency to the reporting company for more about a report, with a due
date; the company lists and answers its own through the intake (api/intake/info_requests).
A company only ever reaches its own requests; an agency only those on its live referrals."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.agency.actions import ActionRefused, InvalidText, required_text
from vigil.agency.scope import referral_for_agency
from vigil.store.audit import AuditLog
from vigil.store.models import AuditAction, IntakeReport, utcnow
from vigil.store.models.agencies import AGENCY_HELD_STATES, InfoRequest, InfoRequestState, Referral

MAX_QUESTION_CHARS = 4000
MAX_ANSWER_CHARS = 20_000
MAX_DUE_DAYS = 365


class RequestNotFound(LookupError):
    """No such request for this company (whether or not another company has it)."""


def ask(
    session: Session,
    agency_id: int,
    referral_id: int,
    question: str,
    *,
    actor: str,
    due_days: int,
    now: datetime | None = None,
) -> InfoRequest:
    """A question to the company that sent the report, due ``due_days`` from now."""
    text = required_text(question, "a question", MAX_QUESTION_CHARS)
    if not 1 <= due_days <= MAX_DUE_DAYS:
        raise InvalidText(f"the due date must be 1 to {MAX_DUE_DAYS} days away")
    referral = referral_for_agency(session, agency_id, referral_id)
    report = session.get(IntakeReport, referral.report_id)
    assert report is not None  # cascades with the referral
    now = now or utcnow()
    request = InfoRequest(
        referral_id=referral.id,
        report_id=report.id,
        company_id=report.company_id,
        question=text,
        state=InfoRequestState.OPEN,
        requested_by=actor,
        requested_at=now,
        due_at=now + timedelta(days=due_days),
    )
    session.add(request)
    session.flush()
    AuditLog(session).append(
        AuditAction.INFO_REQUEST,
        actor=actor,
        subject_type="info_request",
        subject_id=str(request.id),
        details={
            "action": "asked",
            "referral_id": referral.id,
            "report_id": report.id,
            "company_id": report.company_id,
            "due_at": request.due_at.isoformat(),
        },
    )
    return request


def agency_requests(
    session: Session, agency_id: int, *, open_only: bool = True
) -> list[InfoRequest]:
    """The agency's requests on its live referrals, the soonest due first."""
    query = (
        select(InfoRequest)
        .join(Referral, Referral.id == InfoRequest.referral_id)
        .where(Referral.agency_id == agency_id, Referral.state.in_(AGENCY_HELD_STATES))
        .order_by(InfoRequest.due_at, InfoRequest.id)
    )
    if open_only:
        query = query.where(InfoRequest.state == InfoRequestState.OPEN)
    return list(session.scalars(query))


def is_overdue(request: InfoRequest, now: datetime | None = None) -> bool:
    return request.state is InfoRequestState.OPEN and request.due_at < (now or utcnow())


def company_requests(session: Session, company_id: int) -> list[InfoRequest]:
    """The company's open requests, the soonest due first."""
    return list(
        session.scalars(
            select(InfoRequest)
            .where(InfoRequest.company_id == company_id, InfoRequest.state == InfoRequestState.OPEN)
            .order_by(InfoRequest.due_at, InfoRequest.id)
        )
    )


def answer(
    session: Session,
    company_id: int,
    request_id: int,
    text: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> InfoRequest:
    """The company's answer to one of its own open requests."""
    body = required_text(text, "an answer", MAX_ANSWER_CHARS)
    request = session.scalar(
        select(InfoRequest)
        .where(InfoRequest.id == request_id, InfoRequest.company_id == company_id)
        .with_for_update()
    )
    if request is None:
        raise RequestNotFound("no such request")
    if request.state is not InfoRequestState.OPEN:
        raise ActionRefused(f"this request is {request.state.value}")
    request.state, request.answer, request.answered_at = (
        InfoRequestState.ANSWERED,
        body,
        now or utcnow(),
    )
    AuditLog(session).append(
        AuditAction.INFO_REQUEST,
        actor=actor,
        subject_type="info_request",
        subject_id=str(request.id),
        details={
            "action": "answered",
            "referral_id": request.referral_id,
            "report_id": request.report_id,
            "late": request.answered_at > request.due_at,
        },
    )
    return request
