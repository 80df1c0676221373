"""The media of one item on the case screen: its protected rendering, the audited reveal of
the original, and the time a reviewer spends on media screens (their exposure counter)."""

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
from vigil.review.exposure import exposure_today, record_media_time, record_reveal
from vigil.review.lookup import get_item
from vigil.review.rendering import RenderError, RenderOptions, render_for
from vigil.store.accounts import Principal
from vigil.web.case_view import record_of
from vigil.web.protection import render_options

router = APIRouter(prefix="/review", include_in_schema=False)


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


def _item(session: Any, item_id: int) -> Any:
    try:
        return get_item(session, item_id)
    except UnknownItem:
        raise ApiError(404, "no such item") from None
