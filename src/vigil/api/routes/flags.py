"""Other ways into review: a user report (someone flagged the content) or a manual
escalation. Both are recorded like a match and always reach a person."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from vigil.api.answers.screening import ScreeningOutcome
from vigil.api.submissions import multipart_only, read_upload, submission_from
from vigil.http.dependencies import Flagging, needs
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.screening.submission import SubmissionInvalid, SubmittedHashes
from vigil.store.accounts import Permission
from vigil.store.models import RecordSource

router = APIRouter(prefix="/v1/flags", tags=["review intake"], responses=RESOURCES)
MAX_NOTE = 4000
SOURCES = {"user_report": RecordSource.USER_REPORT, "escalation": RecordSource.ESCALATION}


@router.post(
    "",
    dependencies=[needs(Permission.FLAG), Depends(multipart_only)],  # permission first
    response_model=ScreeningOutcome,
    response_model_exclude_unset=True,  # a classifier result without details has none
)
async def flag_content(
    request: Request,
    *,
    source: Literal["user_report", "escalation"] = Form(),
    content_id: str = Form(max_length=255),
    account_id: str | None = Form(None, max_length=255),
    context: str | None = Form(None, description="JSON upload context, as for /v1/screen"),
    note: str | None = Form(None, max_length=MAX_NOTE, description="the reporter's words"),
    hashes: str | None = Form(None, description="JSON hashes, when no file is sent"),
    file: UploadFile | None = File(None),
    principal: Flagging,
) -> dict[str, Any]:
    """Send content to review: with the media (file) or only its hashes."""
    state = service_state(request)
    submission = submission_from(content_id, account_id, _loads(context, "context"))
    submitted = _hashes(hashes)
    content = None
    if file is not None:
        content = await read_upload(file, state.settings.api.max_upload_bytes)
    if content is None and submitted is None:
        raise ApiError(422, "send the media (file) or its hashes")
    outcome = await run_in_threadpool(
        lambda: state.screening.flag(
            submission,
            source=SOURCES[source],
            submitted_by=principal.actor,
            content=content,
            hashes=submitted,
            note=note,
        )
    )
    return outcome.to_dict()


def _loads(raw: str | None, name: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(422, f"{name} is not valid JSON") from None


def _hashes(raw: str | None) -> SubmittedHashes | None:
    value = _loads(raw, "hashes")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(422, "hashes must be a JSON object")
    try:
        return SubmittedHashes.from_mapping(value)
    except SubmissionInvalid as exc:
        raise ApiError(422, f"hashes: {exc}") from None
