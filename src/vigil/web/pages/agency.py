"""The agency's screens: its queue in priority order with the reasons, and one referral with
its report, files (fingerprints, never media), entities, linked reports it also holds, and
the forms to accept, decline, record outcomes and ask the reporting company for more. Every
read and act goes through vigil.agency.scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigil.agency import actions, info_requests
from vigil.agency.queue import agency_queue, referral_page
from vigil.agency.scope import NoAgency, OutOfScope, agency_of, referral_for_agency
from vigil.http.dependencies import AgencyWorking
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import service_state
from vigil.store.accounts import Principal
from vigil.store.models import utcnow
from vigil.store.models.agencies import Agency, OutcomeKind
from vigil.web.notices import done_then_go_to
from vigil.web.templating import templates

router = APIRouter(prefix="/agency", include_in_schema=False)
OUTCOMES = [(kind.value, kind.value.replace("_", " ").capitalize()) for kind in OutcomeKind]
Act = Callable[[Session, Agency], object]


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, principal: AgencyWorking) -> Response:
    with service_state(request).database.transaction() as session:
        agency = _agency(session, principal)
        entries = agency_queue(session, agency.id)
        requests = info_requests.agency_requests(session, agency.id)
    now = utcnow()
    return templates.TemplateResponse(
        request,
        "agency_queue.html",
        {
            "agency": agency,
            "entries": entries,
            "principal": principal,
            "requests": [(item, info_requests.is_overdue(item, now)) for item in requests],
        },
    )


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_screen(request: Request, referral_id: RowId, principal: AgencyWorking) -> Response:
    return _referral(request, principal, referral_id, problem=None)


@router.post("/referrals/{referral_id}/accept")
def accept(request: Request, referral_id: RowId, principal: AgencyWorking) -> Response:
    return _act(
        request,
        principal,
        referral_id,
        lambda session, agency: actions.accept(
            session, agency.id, referral_id, actor=principal.actor
        ),
        said=f"Referral {referral_id} accepted: it is your agency's case now.",
    )


@router.post("/referrals/{referral_id}/decline")
def decline(
    request: Request,
    referral_id: RowId,
    *,
    reason: str = Form("", max_length=actions.MAX_REASON_CHARS),
    principal: AgencyWorking,
) -> Response:
    """Back to the queue: the referral has left it."""
    return _act(
        request,
        principal,
        referral_id,
        lambda session, agency: actions.decline(
            session, agency.id, referral_id, reason, actor=principal.actor
        ),
        said=f"Referral {referral_id} declined: the clearinghouse will route it again.",
        then="/agency",
    )


@router.post("/referrals/{referral_id}/outcomes")
def outcome(
    request: Request,
    referral_id: RowId,
    *,
    kind: OutcomeKind = Form(),
    note: str = Form("", max_length=actions.MAX_NOTE_CHARS),
    principal: AgencyWorking,
) -> Response:
    return _act(
        request,
        principal,
        referral_id,
        lambda session, agency: actions.record_outcome(
            session, agency.id, referral_id, kind, note=note, actor=principal.actor
        ),
        said=f"Outcome recorded: {kind.value.replace('_', ' ')}.",
    )


@router.post("/referrals/{referral_id}/info-requests")
def ask(
    request: Request,
    referral_id: RowId,
    *,
    question: str = Form("", max_length=info_requests.MAX_QUESTION_CHARS),
    due_days: int | None = Form(None, ge=1, le=info_requests.MAX_DUE_DAYS),
    principal: AgencyWorking,
) -> Response:
    days = due_days or service_state(request).settings.agency.info_request_due_days
    return _act(
        request,
        principal,
        referral_id,
        lambda session, agency: info_requests.ask(
            session, agency.id, referral_id, question, actor=principal.actor, due_days=days
        ),
        said=f"Question sent to the reporting company, due in {days} days.",
    )


def _agency(session: Session, principal: Principal) -> Agency:
    try:
        return agency_of(session, principal)
    except NoAgency as exc:
        raise ApiError(404, str(exc), code="no_agency") from None


def _act(
    request: Request,
    principal: Principal,
    referral_id: int,
    act: Act,
    *,
    said: str,
    then: str | None = None,
) -> Response:
    """The act, then the next screen; a refused act shows the referral with the reason."""
    try:
        with service_state(request).database.transaction(write=True) as session:
            act(session, _agency(session, principal))
    except OutOfScope:
        raise ApiError(404, "no such referral") from None
    except actions.ActionRefused as exc:
        return _referral(request, principal, referral_id, problem=str(exc))
    return done_then_go_to(request, then or f"/agency/referrals/{referral_id}", said)


def _referral(
    request: Request, principal: Principal, referral_id: int, problem: str | None
) -> Response:
    state = service_state(request)
    with state.database.transaction() as session:
        agency = _agency(session, principal)
        try:
            found = referral_for_agency(session, agency.id, referral_id)
        except OutOfScope:
            raise ApiError(404, "no such referral") from None
        page = referral_page(session, agency, found)
    context: dict[str, Any] = {
        "page": page,
        "principal": principal,
        "problem": problem,
        "outcome_kinds": OUTCOMES,
        "due_days": state.settings.agency.info_request_due_days,
        "now": utcnow(),
        "max_due_days": info_requests.MAX_DUE_DAYS,
    }
    return templates.TemplateResponse(request, "agency_referral.html", context)
