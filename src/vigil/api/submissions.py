"""Turning request fields into the screening service's validated submissions."""

from __future__ import annotations

from typing import Any

from fastapi import Request, UploadFile

from vigil.http.errors import ApiError
from vigil.screening.submission import Submission, SubmissionInvalid

READ_CHUNK = 1 << 20


def multipart_only(request: Request) -> None:
    """415 for anything but multipart/form-data, before its fields are judged missing."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, "send the media as multipart/form-data")


def submission_from(content_id: Any, account_id: Any, context: Any) -> Submission:
    try:
        return Submission.from_mapping(
            {"content_id": content_id, "account_id": account_id, "context": context or {}}
        )
    except SubmissionInvalid as exc:
        raise ApiError(422, str(exc)) from None


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"the media exceeds {limit} bytes")
    if not data:
        raise ApiError(422, "the uploaded file is empty")
    return data
