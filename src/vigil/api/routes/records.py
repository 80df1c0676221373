"""Match records: what was matched or sent to review, and (for the media permission only)
the evidence itself. Each fetch is audited as a hand-out before a byte is sent; a view is
recorded only when the client confirms a person was shown the bytes (``.../media/viewed``
with the fetch's one-time check), because a view sets fileViewedByEsp in reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from vigil.api.answers.records import MatchRecord, MatchRecords, MediaView
from vigil.http.dependencies import MediaViewing, RecordsReading
from vigil.http.error_answers import RESOURCES, answers
from vigil.http.errors import ApiError
from vigil.http.state import ServiceState, service_state
from vigil.review.media_views import MAX_CHECK_CHARS, ViewRefused, record_view, release
from vigil.store.accounts import Principal
from vigil.store.evidence import EvidenceError, EvidenceShredded
from vigil.store.models import Verdict
from vigil.store.records.matches import RecordNotFound, get_record, list_records, record_summary
from vigil.store.records.media import NoMediaKept, read_record_media

router = APIRouter(prefix="/v1/records", tags=["records"], responses=RESOURCES)
VIEW_CHECK_HEADER = "X-Vigil-View-Check"
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
MEDIA_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the evidence media, as an attachment",
        "content": {kind: {} for kind in [*MEDIA_TYPES.values(), "application/octet-stream"]},
        "headers": {
            VIEW_CHECK_HEADER: {
                "description": "the one-time check to send to .../media/viewed once a person "
                "was shown the media",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.get("", response_model=MatchRecords)
def records(
    request: Request,
    *,
    verdict: Verdict | None = None,
    content_id: str | None = Query(None, max_length=255),
    limit: int = Query(50, ge=1, le=500),
    before: str | None = Query(
        None, max_length=64, description="page: records older than this record id"
    ),
    _principal: RecordsReading,
) -> dict[str, Any]:
    """Newest first; metadata only, never media."""
    with service_state(request).database.transaction() as session:
        try:
            rows = list_records(
                session, verdict=verdict, content_id=content_id, limit=limit, before=before
            )
        except RecordNotFound:
            raise ApiError(422, "before: no such record") from None
        return {"records": [record_summary(row) for row in rows]}


@router.get("/{record_id}", response_model=MatchRecord)
def record(
    request: Request,
    record_id: str,
    _principal: RecordsReading,
) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        row = get_record(session, record_id)
        if row is None:
            raise ApiError(404, "no such record")
        return record_summary(row)


# Bytes, not JSON: no model; the document names the media types it may answer.
@router.get("/{record_id}/media", response_class=Response, responses=MEDIA_ANSWER)
async def record_media(
    request: Request,
    record_id: str,
    principal: MediaViewing,
) -> Response:
    """The evidence media. Needs the media permission. Every fetch is audited as a hand-out
    (EXPORT, to the API); it is not a view: send the answer's X-Vigil-View-Check to
    ``POST .../media/viewed`` when a person has been shown the media."""
    state = service_state(request)
    content, check = await run_in_threadpool(_fetch_audited, state, record_id, principal)
    kind = MEDIA_TYPES.get(_image_format(content), "application/octet-stream")
    return Response(
        content,
        media_type=kind,
        headers={
            "Content-Disposition": "attachment; filename=evidence",
            "Cache-Control": "no-store",
            VIEW_CHECK_HEADER: check,
        },
    )


@router.post("/{record_id}/media/viewed", response_model=MediaView, responses=answers(404, 409))
def media_viewed(
    request: Request,
    record_id: str,
    *,
    check: str = Body(embed=True, min_length=1, max_length=MAX_CHECK_CHARS),
    principal: MediaViewing,
) -> dict[str, Any]:
    """Record that a person was shown the media a fetch handed out (MEDIA_VIEWED): what
    makes fileViewedByEsp true in this record's reports. One check, one view, by the
    caller who fetched, within minutes of the fetch; anything else is 409."""
    with service_state(request).database.transaction(write=True) as session:
        if get_record(session, record_id) is None:
            raise ApiError(404, "no such record")
        try:
            view = record_view(
                session,
                actor=principal.actor,
                subject_type="match_record",
                subject_id=record_id,
                check=check,
            )
        except ViewRefused as exc:
            raise ApiError(409, str(exc), code="view_refused") from None
        return {"record_id": record_id, "viewed_at": view.at.isoformat()}


def _fetch_audited(state: ServiceState, record_id: str, principal: Principal) -> tuple[bytes, str]:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    with state.database.transaction(write=True) as session:
        try:
            content, evidence_item = read_record_media(session, state.vault, record_id)
            check = release(
                session,
                actor=principal.actor,
                subject_type="match_record",
                subject_id=record_id,
                details={"evidence_item": evidence_item},
                to="api",
            )
            return content, check
        except NoMediaKept:
            raise ApiError(404, "no media kept for this record") from None
        except EvidenceShredded:
            raise ApiError(
                410, "the media was destroyed under the retention policy", code="gone"
            ) from None
        except EvidenceError as exc:
            raise ApiError(
                500, f"the evidence cannot be read: {type(exc).__name__}", code="evidence_error"
            ) from None


def _image_format(content: bytes) -> str:
    head = content[:16]
    signatures = {b"\xff\xd8\xff": "jpeg", b"\x89PNG": "png", b"GIF8": "gif"}
    for magic, name in signatures.items():
        if head.startswith(magic):
            return name
    return "webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else "unknown"
