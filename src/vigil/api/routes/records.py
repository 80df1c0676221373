"""Match records: what was matched or sent to review, and (for the media permission only)
the evidence itself, each fetch written to the audit log before a byte is sent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from vigil.api.answers.records import MatchRecord, MatchRecords
from vigil.http.dependencies import MediaViewing, RecordsReading
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.state import ServiceState, service_state
from vigil.store.accounts import Principal
from vigil.store.evidence import EvidenceError, EvidenceShredded
from vigil.store.models import Verdict
from vigil.store.records.matches import RecordNotFound, get_record, list_records, record_summary
from vigil.store.records.media import NoMediaKept, read_record_media

router = APIRouter(prefix="/v1/records", tags=["records"], responses=RESOURCES)
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
MEDIA_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the evidence media, as an attachment",
        "content": {kind: {} for kind in [*MEDIA_TYPES.values(), "application/octet-stream"]},
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
    """The evidence media. Needs the media permission; every fetch is in the audit log."""
    state = service_state(request)
    content = await run_in_threadpool(_fetch_audited, state, record_id, principal)
    kind = MEDIA_TYPES.get(_image_format(content), "application/octet-stream")
    return Response(
        content, media_type=kind, headers={"Content-Disposition": "attachment; filename=evidence"}
    )


def _fetch_audited(state: ServiceState, record_id: str, principal: Principal) -> bytes:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    with state.database.transaction(write=True) as session:
        try:
            return read_record_media(session, state.vault, record_id, principal.actor)
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
