"""The routing queue: referral reports no rule could send to an agency, oldest first, with
why and where they were placed, and the form that routes one by hand (reason required,
audited)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import Triaging
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.triage.agencies import active_agencies
from vigil.triage.routing import MAX_REASON_CHARS, RoutingError, route_by_hand, routing_queue
from vigil.web.notices import done_then_go_to
from vigil.web.templating import templates

router = APIRouter(prefix="/clearinghouse/routing", include_in_schema=False)
QUEUE_LIMIT = 200
MAX_AGENCY_ID = 2**31 - 1


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, principal: Triaging) -> Response:
    state = _enabled(request)
    with state.database.transaction() as session:
        waiting = routing_queue(session, limit=QUEUE_LIMIT)
        agencies = active_agencies(session)
    return templates.TemplateResponse(
        request,
        "routing_queue.html",
        {
            "waiting": waiting,
            "agencies": agencies,
            "limit": QUEUE_LIMIT,
            "max_reason": MAX_REASON_CHARS,
            "principal": principal,
            "clearinghouse_enabled": True,
        },
    )


@router.post("/{report_id}")
def route(
    request: Request,
    report_id: RowId,
    *,
    agency_id: int = Form(ge=1, le=MAX_AGENCY_ID),
    reason: str = Form(min_length=1, max_length=MAX_REASON_CHARS),
    principal: Triaging,
) -> Response:
    """Send the report to the agency; back to the queue on success."""
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        try:
            route_by_hand(session, report_id, agency_id, reason, principal.actor)
        except RoutingError as exc:
            raise ApiError(422, str(exc), code="refused") from None
        # Refused above unless the agency is enabled, so it is among the active ones.
        agency = next(a for a in active_agencies(session) if a.id == agency_id)
        said = f"Report {report_id} routed to {agency.code}: {agency.name}."
    return done_then_go_to(request, "/clearinghouse/routing", said)


def _enabled(request: Request) -> ServiceState:
    state = service_state(request)
    if not state.settings.clearinghouse.enabled:
        raise ApiError(404, "this installation is not a clearinghouse")
    return state
