"""The queue: open cases by priority (a child possibly in danger first), then oldest first;
and, for administrators, reviewers' aggregate exposure (never content)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import Deciding, UsersManaging
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.review.errors import UnknownCase, UnknownReviewer
from vigil.review.exposure import aggregate_exposure, daily_exposure, exposure_today
from vigil.review.queue import ANY, count_cases, queue
from vigil.review.queue import assign as assign_case
from vigil.web.case_view import PRIORITY_NAMES
from vigil.web.notices import done_then_go_to
from vigil.web.templating import templates

router = APIRouter(prefix="/review", include_in_schema=False)
FILTERS = {"all": ANY, "unassigned": None}


@router.get("", response_class=HTMLResponse)
def queue_page(
    request: Request,
    *,
    show: Literal["all", "mine", "unassigned"] = "all",
    priority: int | None = Query(None, ge=0, le=2),
    account: str | None = Query(None, max_length=255),
    principal: Deciding,
) -> Response:
    state = service_state(request)
    assigned = principal.id if show == "mine" else FILTERS[show]
    with state.database.transaction() as session:
        cases = queue(session, assigned_to=assigned, priority=priority, account=account or None)
        total = count_cases(
            session, assigned_to=assigned, priority=priority, account=account or None
        )
        exposure = exposure_today(session, principal.id, settings=state.settings.review)
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "cases": cases,
            "total": total,
            "show": show,
            "priority": priority,
            "account": account or "",
            "exposure": exposure,
            "principal": principal,
            "priority_names": PRIORITY_NAMES,
        },
    )


@router.post("/cases/{case_id}/assign")
def take_case(request: Request, case_id: str, principal: Deciding) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        try:
            assign_case(session, case_id, principal.id, actor=principal.actor)
        except (UnknownCase, UnknownReviewer):
            raise ApiError(404, "no such case") from None
    return done_then_go_to(request, f"/review/cases/{case_id}", "You took this case.")


@router.get("/exposure", response_class=HTMLResponse)
def exposure_page(
    request: Request,
    *,
    days: int = Query(7, ge=1, le=90),
    principal: UsersManaging,
) -> Response:
    with service_state(request).database.transaction() as session:
        rows = aggregate_exposure(session, days=days)
        daily = daily_exposure(session, days=days)
    return templates.TemplateResponse(
        request,
        "exposure.html",
        {"rows": rows, "daily": daily, "days": days, "principal": principal},
    )
