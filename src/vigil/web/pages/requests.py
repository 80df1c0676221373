"""Entry-disable requests waiting for a second reviewer (the two-reviewer rule)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import Deciding
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import service_state
from vigil.review.decisions import approve_request, pending_requests, reject_request
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownRequest
from vigil.web.notices import done_then_go_to
from vigil.web.templating import templates

router = APIRouter(prefix="/review/requests", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def requests_page(request: Request, principal: Deciding) -> Response:
    with service_state(request).database.transaction() as session:
        waiting = pending_requests(session)
    return templates.TemplateResponse(
        request, "requests.html", {"requests": waiting, "principal": principal}
    )


@router.post("/{request_id}")
def resolve(
    request: Request,
    request_id: RowId,
    *,
    verdict: str = Form(pattern="^(approve|reject)$"),
    reason: str = Form("", max_length=2000),
    principal: Deciding,
) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        try:
            if verdict == "approve":
                resolved = approve_request(session, request_id, reviewer=principal)
                said = f"Approved: entry {resolved.entry_id} no longer matches."
            else:
                resolved = reject_request(session, request_id, reviewer=principal, reason=reason)
                said = f"Rejected: entry {resolved.entry_id} stays active."
        except UnknownRequest:
            raise ApiError(404, "no such request") from None
        except (DecisionRefused, InvalidReviewInput) as exc:
            raise ApiError(422, str(exc), code="refused") from None
    return done_then_go_to(request, "/review/requests", said)
