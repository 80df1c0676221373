"""The error answers of each kind of route, for the OpenAPI document: written once here and
given to the routers (FastAPI's ``responses=``), so a client generated from the document
knows every status it can get, and the conformance test (schemathesis) holds the API to it.
The body is always the shape of vigil.http.errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: e.g. not_found, rate_limited")
    message: str = Field(description="for people; never the rejected input")
    details: Any = Field(None, description="which fields were invalid (422), if any")


class ErrorAnswer(BaseModel):
    error: ErrorDetail


_MEANINGS = {
    400: "the body cannot be parsed (malformed JSON or form)",
    401: "no credentials, or wrong or expired ones (a session that ended)",
    403: "authenticated, but without the permission this needs; or a missing CSRF token",
    404: "no such thing, or not one this caller may know about",
    409: "the request conflicts with the current state",
    413: "the body is over the configured limit",
    415: "the body's content type is not the one this route takes",
    422: "the request is not valid (the details name the fields)",
    429: "rate limit exceeded; Retry-After says when to try again",
    503: "the database or the decoders are unavailable or busy; Retry-After says when to retry",
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorAnswer, "description": _MEANINGS[status]} for status in statuses}


# Every route behind authentication: the middleware's refusals, a body that cannot be
# parsed or is over the limit (any request may carry one), validation, the rate limit and
# an unreachable database.
AUTHENTICATED = answers(400, 401, 403, 413, 422, 429, 503)
# Routes that name stored things (ids, names) or change them.
RESOURCES = {**AUTHENTICATED, **answers(404, 409)}
# Routes that take uploaded media (multipart only).
UPLOADS = {**AUTHENTICATED, **answers(415)}
