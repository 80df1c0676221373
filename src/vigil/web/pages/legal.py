"""Law-enforcement requests: the dashboard (emergencies first, due dates, overdue flagged,
time to answer), recording a request, and producing its response package."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.http.dependencies import EvidenceHolding, needs
from vigil.http.errors import ApiError
from vigil.http.state import ServiceState, service_state
from vigil.reporting.legal_requests import (
    dashboard,
    link_request,
    mark_answered,
    record_request,
)
from vigil.reporting.preservation_errors import PreservationError
from vigil.reporting.preserved_records import find_records
from vigil.reporting.response_package import ResponsePackage, build_response_package
from vigil.store.accounts import Permission, Principal
from vigil.store.models import LegalRequestKind
from vigil.web.notices import done_then_go_to
from vigil.web.templating import templates

router = APIRouter(prefix="/legal", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def legal_page(request: Request, principal: EvidenceHolding) -> Response:
    with service_state(request).database.transaction() as session:
        board = dashboard(session)
    return templates.TemplateResponse(
        request,
        "legal.html",
        {
            "board": board,
            "kinds": [kind.value for kind in LegalRequestKind],
            "principal": principal,
        },
    )


@router.get("/lookup", response_class=HTMLResponse)
def lookup(
    request: Request,
    *,
    account_id: str = "",
    report_id: str = "",
    clearinghouse_id: str = "",
    principal: EvidenceHolding,
) -> Response:
    """What Vigil holds for an account or report: never "no records" for one it reported;
    after a purge, when and why each part was destroyed."""
    answer, problem = None, None
    if account_id or report_id or clearinghouse_id:
        with service_state(request).database.transaction() as session:
            try:
                answer = find_records(
                    session,
                    account_id=account_id or None,
                    report_public_id=report_id or None,
                    remote_report_id=clearinghouse_id or None,
                )
            except (PreservationError, ValueError) as exc:
                problem = str(exc)
    return templates.TemplateResponse(
        request,
        "lookup.html",
        {
            "answer": answer,
            "problem": problem,
            "account_id": account_id,
            "report_id": report_id,
            "clearinghouse_id": clearinghouse_id,
            "principal": principal,
        },
    )


@router.post("")
def record(
    request: Request,
    *,
    agency: str = Form(min_length=1, max_length=300),
    agency_case_number: str = Form(min_length=1, max_length=200),
    kind: LegalRequestKind = Form(),
    due_at: datetime | None = Form(None),
    account_id: str = Form("", max_length=255),
    report_id: str = Form("", max_length=32),
    notes: str = Form("", max_length=4000),
    principal: EvidenceHolding,
) -> Response:
    """Record a request and link it: linking extends the holds on everything it names."""
    state = service_state(request)
    if due_at is not None and due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=UTC)  # the form's datetime-local field is in UTC
    with state.database.session(write=True) as session:
        try:
            made = record_request(
                session,
                agency=agency,
                agency_case_number=agency_case_number,
                kind=kind,
                settings=state.settings,
                actor=principal.actor,
                due_at=due_at,
                notes=notes,
                vault=state.vault,
            )
            if account_id or report_id:
                link_request(
                    session,
                    made.public_id,
                    actor=principal.actor,
                    settings=state.settings,
                    account_id=account_id or None,
                    report_public_id=report_id or None,
                )
        except (PreservationError, ValueError) as exc:
            raise ApiError(422, str(exc), code="refused") from None
    linked = " and linked; its holds are extended" if account_id or report_id else ""
    said = f"Request {agency_case_number} from {agency} recorded{linked}."
    return done_then_go_to(request, "/legal", said)


@router.post("/{request_id}/package", dependencies=[needs(Permission.REPORTS_SUBMIT)])
async def package(request: Request, request_id: str, principal: EvidenceHolding) -> Response:
    """The response package (ZIP with manifest and chain of custody), built now. It holds
    the media, so it also needs the reporting permission: administrators (holds, no
    content) cannot produce one."""
    state = service_state(request)
    built = await run_in_threadpool(_build, state, request_id, principal)
    return Response(
        built.archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="vigil-response-{request_id}.zip"',
            "X-Vigil-Package-SHA256": built.sha256,
        },
    )


@router.post("/{request_id}/answered")
def answered(request: Request, request_id: str, principal: EvidenceHolding) -> Response:
    with service_state(request).database.session(write=True) as session:
        try:
            answered_request = mark_answered(session, request_id, actor=principal.actor)
        except (PreservationError, ValueError) as exc:
            raise ApiError(422, str(exc), code="refused") from None
        said = f"Request {answered_request.agency_case_number} marked answered."
    return done_then_go_to(request, "/legal", said)


def _build(state: ServiceState, request_id: str, principal: Principal) -> ResponsePackage:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    with state.database.session(write=True) as session:
        try:
            return build_response_package(session, state.vault, request_id, actor=principal.actor)
        except (PreservationError, ValueError) as exc:
            raise ApiError(422, str(exc), code="refused") from None
