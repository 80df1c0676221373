"""The case screen: every flagged item of one account, protected, with classification,
decisions and the one audited way to see an item unblurred."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.http.dependencies import Deciding
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import service_state
from vigil.review.decisions import (
    FalsePositiveFeedback,
    add_to_platform_list,
    classify_item,
    decide,
    set_incident_type,
)
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownCase, UnknownItem
from vigil.review.exposure import exposure_today
from vigil.review.lookup import get_case
from vigil.web.case_view import case_view, hits_feedback, item_view, record_of
from vigil.web.protection import (
    CHOICES,
    protection_choice,
    remember_choice,
)
from vigil.web.templating import templates

router = APIRouter(prefix="/review", include_in_schema=False)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, principal: Deciding) -> Response:
    state = service_state(request)
    with state.database.transaction() as session:
        view = case_view(session, _case(session, case_id))
        exposure = exposure_today(session, principal.id, settings=state.settings.review)
    protection = protection_choice(request)
    response = templates.TemplateResponse(
        request,
        "case.html",
        {
            "case": view,
            "exposure": exposure,
            "protection": protection,
            "protection_labels": CHOICES,
            "principal": principal,
        },
    )
    remember_choice(response, protection)
    return response


@router.post("/items/{item_id}/classify", response_class=HTMLResponse)
def classify(
    request: Request,
    item_id: RowId,
    *,
    classification: str = Form(""),
    annotations: list[str] = Form([]),
    principal: Deciding,
) -> Response:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        item = _changed(
            lambda: classify_item(
                session, item_id, classification or None, annotations, actor=principal.actor
            )
        )
        record = record_of(session, item)
        view = item_view(item, record, hits_feedback(session, [record]))
        case = case_view(session, item.case)
    return templates.TemplateResponse(
        request,
        "_item.html",
        {"item": view, "case": case, "protection": protection_choice(request), "current": True},
    )


@router.post("/items/{item_id}/platform-list", response_class=HTMLResponse)
def to_platform_list(request: Request, item_id: RowId, principal: Deciding) -> str:
    """A confirmed item's hashes join the platform's own list: re-uploads match at once."""
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        added = _changed(
            lambda: add_to_platform_list(
                session, item_id, actor=principal.actor, settings=state.settings.review
            )
        )
    return (
        f"<p role='status'>Added to {escape(added.list_name)}: {len(added.added)} new, "
        f"{len(added.existing)} already there.</p>"
    )


@router.post("/cases/{case_id}/incident-type", response_class=HTMLResponse)
def incident_type(
    request: Request, case_id: str, *, value: str = Form(""), principal: Deciding
) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        _changed(lambda: set_incident_type(session, case_id, value or None, actor=principal.actor))
    return RedirectResponse(f"/review/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/decide")
def decide_case(
    request: Request,
    case_id: str,
    *,
    kind: str = Form(max_length=32),
    item_id: int | None = Form(None),
    reason: str = Form("", max_length=2000),
    disable_entries: bool = Form(False),
    allow_list: bool = Form(False),
    imminent_danger: bool = Form(False),
    principal: Deciding,
) -> Response:
    state = service_state(request)
    feedback = FalsePositiveFeedback(disable_entries=disable_entries, allow_list=allow_list)
    with state.database.transaction(write=True) as session:
        _changed(
            lambda: decide(
                session,
                case_id,
                kind,
                reviewer=principal,
                settings=state.settings.review,
                item_id=item_id,
                reason=reason,
                feedback=feedback,
                imminent_danger=imminent_danger,
            )
        )
    target = f"/review/cases/{case_id}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _case(session: Any, case_id: str) -> Any:
    try:
        return get_case(session, case_id)
    except UnknownCase:
        raise ApiError(404, "no such case") from None


def _changed(change: Any) -> Any:
    try:
        return change()
    except (UnknownCase, UnknownItem):
        raise ApiError(404, "no such case or item") from None
    except (InvalidReviewInput, DecisionRefused) as exc:
        raise ApiError(422, str(exc), code="refused") from None
