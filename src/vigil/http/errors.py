"""Every error the API returns is one JSON shape, ``{"error": {"code", "message"}}``, with the
right status; never a stack trace, never the input that was rejected (it may be a secret)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.fingerprint.limits import DecodersBusy
from vigil.store.errors import DatabaseUnavailable, SchemaNotReady

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by route code for an answer other than success."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error_answer)
    app.add_exception_handler(StarletteHTTPException, http_error_answer)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(SchemaNotReady, _unavailable)
    app.add_exception_handler(DecodersBusy, _decoders_busy)
    app.add_exception_handler(Exception, _unexpected)


async def api_error_answer(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
    )


async def http_error_answer(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: pydantic's "input" would echo passwords and tokens back.
    problems = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "problem": error.get("msg", "invalid"),
        }
        for error in exc.errors()
    ]
    return error_response(422, "invalid_request", "the request is not valid", details=problems[:50])


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return error_response(
        503,
        "unavailable",
        "the service cannot reach its database; retry",
        headers={"Retry-After": "5"},
    )


async def _decoders_busy(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DecodersBusy)
    # Nothing was screened or recorded: the same request can simply be sent again.
    return error_response(
        503,
        "decoders_busy",
        "every decoder of this server is busy; retry later",
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unexpected error on %s %s",
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return error_response(500, "internal_error", "internal error; the request was not applied")
