"""The media of one item on the case screen: its protected rendering, the hand-out of the
original (audited as such), the browser's confirmation that it showed it (which records the
view: counted, MEDIA_VIEWED), and the time revealed media was visible (exposure)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from vigil.http.dependencies import Deciding, MediaViewing
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.review.errors import UnknownItem
from vigil.review.exposure import (
    MAX_MEDIA_REPORT,
    exposure_today,
    record_media_time,
    record_reveal,
)
from vigil.review.lookup import get_item
from vigil.review.media_views import MAX_CHECK_CHARS, ViewRefused, record_view, release
from vigil.review.rendering import RenderError, RenderOptions, render_for
from vigil.store.accounts import Principal
from vigil.web.case_view import record_of
from vigil.web.media_hand_out import handed_out_headers, viewed_answer
from vigil.web.protection import render_options

router = APIRouter(prefix="/review", include_in_schema=False)
SUBJECT = "review_item"  # the audit log's subject type of a case item


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
    """The original media, for one item, on an explicit request: the hand-out is audited;
    the view is recorded when the browser confirms it showed it (``viewed``)."""
    state = service_state(request)
    content, media_type, check = await run_in_threadpool(_release, state, item_id, principal)
    return Response(
        content,
        media_type="application/octet-stream",
        headers=handed_out_headers(media_type, check, state.settings.review),
    )


@router.post("/items/{item_id}/viewed")
def viewed(
    request: Request,
    item_id: RowId,
    *,
    check: str = Body(embed=True, min_length=1, max_length=MAX_CHECK_CHARS),
    principal: MediaViewing,
) -> Response:
    """The browser showed the media handed out with ``check``: count and audit the view."""
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        item = _item(session, item_id)
        reveals = record_reveal(session, principal.id, item.id)
        try:
            record_view(
                session,
                actor=principal.actor,
                subject_type=SUBJECT,
                subject_id=str(item.id),
                check=check,
                details={"case": item.case.public_id, "reveal": reveals},
            )
        except ViewRefused as exc:
            raise ApiError(409, str(exc), code="view_refused") from None
        case_reveals = sum(each.reveals for each in item.case.items)
        exposure = exposure_today(session, principal.id, settings=state.settings.review)
    return viewed_answer(reveals, exposure, case_reveals=case_reveals)


@router.post("/exposure/time", status_code=204)
def media_time(
    request: Request,
    *,
    seconds: float = Body(embed=True, ge=0, le=MAX_MEDIA_REPORT),
    principal: Deciding,
) -> Response:
    """Seconds a revealed item was visible, sent when it is hidden again (or the page goes)."""
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


def _release(state: ServiceState, item_id: int, principal: Principal) -> tuple[bytes, str, str]:
    vault = _vault(state)
    with state.database.transaction(write=True) as session:
        item = _item(session, item_id)
        record = record_of(session, item)
        if record.evidence_item_id is None:
            raise ApiError(404, "no media kept for this item")
        # The hand-out is audited in the transaction that reads the media.
        check = release(
            session,
            actor=principal.actor,
            subject_type=SUBJECT,
            subject_id=str(item.id),
            details={"case": item.case.public_id},
        )
        content = vault.get(session, record.evidence_item_id)
    return content, record.media_type or "photo", check


def _vault(state: ServiceState) -> Any:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    return state.vault


def _item(session: Any, item_id: int) -> Any:
    try:
        return get_item(session, item_id)
    except UnknownItem:
        raise ApiError(404, "no such item") from None
