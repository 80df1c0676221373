"""The case screen: every flagged item of one account, protected, with classification,
decisions and the one audited way to see an item unblurred."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.http.dependencies import Deciding, MediaViewing
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.review.decisions import (
    FalsePositiveFeedback,
    add_to_platform_list,
    classify_item,
    decide,
    set_incident_type,
)
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownCase, UnknownItem
from vigil.review.exposure import exposure_today, record_media_time, record_reveal
from vigil.review.lookup import get_case, get_item
from vigil.review.rendering import RenderError, RenderOptions, render_for
from vigil.store.accounts import Principal
from vigil.web.case_view import case_view, hits_feedback, item_view, record_of
from vigil.web.protection import (
    CHOICES,
    protection_choice,
    remember_choice,
    render_options,
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


@router.get("/items/{item_id}/preview")
async def preview(request: Request, item_id: RowId, principal: MediaViewing) -> Response:
    """The protected rendering, made here: the original bytes do not leave the server."""
    state = service_state(request)
    options = render_options(request, state.settings.review)
    rendered = await run_in_threadpool(_render, state, item_id, options)
    return Response(
        rendered.content, media_type=rendered.content_type, headers={"Cache-Control": "no-store"}
    )


@router.post("/items/{item_id}/reveal")
async def reveal(request: Request, item_id: RowId, principal: MediaViewing) -> Response:
    """The original media, for one item, on an explicit request: counted and audited."""
    state = service_state(request)
    content, reveals, warning = await run_in_threadpool(_reveal, state, item_id, principal)
    headers = {
        "Cache-Control": "no-store",
        "X-Vigil-Reveals": str(reveals),
        "Content-Disposition": "inline",
    }
    if warning:
        headers["X-Vigil-Exposure-Warning"] = warning
    return Response(content, media_type="application/octet-stream", headers=headers)


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


@router.post("/exposure/time", status_code=204)
def media_time(
    request: Request, *, seconds: float = Body(embed=True, ge=0, le=300), principal: Deciding
) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        record_media_time(session, principal.id, seconds)
    return Response(status_code=204)


def _render(state: ServiceState, item_id: int, options: RenderOptions) -> Any:
    vault = _vault(state)
    with state.database.transaction() as session:
        item = _item(session, item_id)
        record = record_of(session, item)
        if record.evidence_item_id is None:
            raise ApiError(404, "no media kept for this item")
        media = vault.get(session, record.evidence_item_id)
    try:
        return render_for(media, record.media_type or "photo", options, pdq=record.pdq)
    except (RenderError, ValueError):
        raise ApiError(
            422, "this media cannot be rendered; reveal it to see it", code="not_renderable"
        ) from None


def _reveal(state: ServiceState, item_id: int, principal: Principal) -> tuple[bytes, int, str]:
    vault = _vault(state)
    with state.database.transaction(write=True) as session:
        item = _item(session, item_id)
        record = record_of(session, item)
        if record.evidence_item_id is None:
            raise ApiError(404, "no media kept for this item")
        # Counted and audited (MEDIA_VIEWED) in the transaction that reads the media.
        reveals = record_reveal(session, principal.id, item.id, actor=principal.actor)
        exposure = exposure_today(session, principal.id, settings=state.settings.review)
        content = vault.get(session, record.evidence_item_id)
    return content, reveals, exposure.warning or ""


def _vault(state: ServiceState) -> Any:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    return state.vault


def _case(session: Any, case_id: str) -> Any:
    try:
        return get_case(session, case_id)
    except UnknownCase:
        raise ApiError(404, "no such case") from None


def _item(session: Any, item_id: int) -> Any:
    try:
        return get_item(session, item_id)
    except UnknownItem:
        raise ApiError(404, "no such item") from None


def _changed(change: Any) -> Any:
    try:
        return change()
    except (UnknownCase, UnknownItem):
        raise ApiError(404, "no such case or item") from None
    except (InvalidReviewInput, DecisionRefused) as exc:
        raise ApiError(422, str(exc), code="refused") from None
