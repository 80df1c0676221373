"""Screening as content is uploaded: the bytes, or only hashes computed by the platform.

The answer is synchronous: fingerprints, matches and a verdict. Route code only translates;
fingerprinting, rules and recording are vigil.screening.service.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.answers.screening import ScreeningOutcome, ScreeningResults
from vigil.api.submissions import multipart_only, read_upload, submission_from
from vigil.http.dependencies import Screening, needs
from vigil.http.error_answers import UPLOADS
from vigil.http.errors import ApiError
from vigil.http.state import ServiceState, service_state
from vigil.screening.submission import SubmissionInvalid, SubmittedHashes
from vigil.store.accounts import Permission

router = APIRouter(prefix="/v1/screen", tags=["screening"], responses=UPLOADS)


class HashItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_id: str = Field(min_length=1, max_length=255)
    account_id: str | None = Field(default=None, max_length=255)
    context: dict[str, Any] | None = None
    hashes: dict[str, Any]


class HashBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[HashItem] = Field(min_length=1)


# response_model_exclude_unset: a classifier result without details has no "details".
@router.post(
    "",
    dependencies=[needs(Permission.SCREEN), Depends(multipart_only)],  # permission first
    response_model=ScreeningOutcome,
    response_model_exclude_unset=True,
)
async def screen_upload(
    request: Request,
    *,
    file: UploadFile = File(description="the media as uploaded to the platform"),
    content_id: str = Form(max_length=255, description="the platform's id for the content"),
    account_id: str | None = Form(None, max_length=255, description="the uploader's account"),
    context: str | None = Form(
        None,
        description="JSON: ip_address, port, ip_seen_at, "
        "uploaded_at, email, screen_name, conversation_id, visibility",
    ),
    principal: Screening,
) -> dict[str, Any]:
    """Screen one upload (multipart). Verdict ``match``, ``review`` or ``no_match``."""
    started = time.monotonic()  # lists as committed now are what the answer reflects
    state = service_state(request)
    submission = submission_from(content_id, account_id, _json_field(context, "context"))
    content = await read_upload(file, state.settings.api.max_upload_bytes)
    outcome = await run_in_threadpool(
        state.screening.screen_upload,
        submission,
        content,
        submitted_by=principal.actor,
        started=started,
    )
    return outcome.to_dict()


@router.post(
    "/batch",
    dependencies=[needs(Permission.SCREEN), Depends(multipart_only)],
    response_model=ScreeningResults,
    response_model_exclude_unset=True,
)
async def screen_upload_batch(
    request: Request,
    *,
    files: list[UploadFile] = File(description="the media, in the order of `items`"),
    items: str = Form(description='JSON list: [{"content_id", "account_id", "context"}]'),
    principal: Screening,
) -> dict[str, Any]:
    """Screen many uploads in one request; every item is validated before any is screened."""
    started = time.monotonic()
    state = service_state(request)
    described = _json_field(items, "items")
    if not isinstance(described, list) or len(described) != len(files):
        raise ApiError(422, "items must be a JSON list with one entry per file")
    _check_batch_size(state, len(files))
    submissions = [_item_submission(index, item) for index, item in enumerate(described)]
    contents = [await read_upload(upload, state.settings.api.max_upload_bytes) for upload in files]
    results = []
    for submission, content in zip(submissions, contents, strict=True):
        outcome = await run_in_threadpool(
            state.screening.screen_upload,
            submission,
            content,
            submitted_by=principal.actor,
            started=started,
        )
        results.append(outcome.to_dict())
    return {"results": results}


@router.post("/hashes", response_model=ScreeningResults, response_model_exclude_unset=True)
def screen_hashes(
    batch: HashBatch,
    request: Request,
    principal: Screening,
) -> dict[str, Any]:
    """Screen hashes the platform computed itself (MD5, SHA-1, SHA-256, PDQ), in batches."""
    started = time.monotonic()
    state = service_state(request)
    _check_batch_size(state, len(batch.items))
    prepared = [_hash_item(index, item) for index, item in enumerate(batch.items)]
    results = [
        state.screening.screen_hashes(
            submission, hashes, submitted_by=principal.actor, started=started
        ).to_dict()
        for submission, hashes in prepared
    ]
    return {"results": results}


def _check_batch_size(state: ServiceState, count: int) -> None:
    limit = state.settings.api.max_batch_items
    if count > limit:
        raise ApiError(413, f"a batch holds at most {limit} items; this one has {count}")


def _json_field(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(422, f"{name} is not valid JSON") from None


def _item_submission(index: int, item: Any) -> Any:
    if not isinstance(item, dict):
        raise ApiError(422, f"items[{index}] must be an object")
    unknown = set(item) - {"content_id", "account_id", "context"}
    if unknown:
        raise ApiError(422, f"items[{index}]: unknown fields {sorted(unknown)}")
    try:
        return submission_from(item.get("content_id"), item.get("account_id"), item.get("context"))
    except ApiError as exc:
        raise ApiError(422, f"items[{index}]: {exc.message}") from None


def _hash_item(index: int, item: HashItem) -> tuple[Any, SubmittedHashes]:
    try:
        submission = submission_from(item.content_id, item.account_id, item.context)
        return submission, SubmittedHashes.from_mapping(item.hashes)
    except (ApiError, SubmissionInvalid) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        raise ApiError(422, f"items[{index}]: {message}") from None
