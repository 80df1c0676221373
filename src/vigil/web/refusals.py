"""A refused page request answers with a page: a plain message and a way onward (sign in,
change the password, go home), not the API's JSON. Scripts and /v1 keep the JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.http.auth import PASSWORD_CHANGE_REQUIRED, is_page_request, sign_in_url
from vigil.http.errors import ApiError
from vigil.web.navigation import go_to
from vigil.web.templating import templates

PASSWORD_PAGE = "/account/password"
Handler = Callable[[Request, Any], Awaitable[Response]]
_TITLES = {
    401: "Please sign in",
    403: "Not for your account",
    404: "Not found",
    405: "Not possible here",
    422: "Not valid",
    429: "Too many requests",
    500: "Not done: the server failed",
}
# Starlette's own refusals carry only the HTTP phrase ("Not Found"): say it plainly.
SERVER_FAILED = (
    "Something failed on the server and what you asked was not done; try again, and tell "
    "an administrator if it keeps failing"
)
_PLAIN = {
    404: "There is no page at this address.",
    405: "This address does not take that kind of request.",
}


def install_page_refusals(app: FastAPI) -> None:
    """Registered after the API's handlers, which these replace and fall back to."""
    for refusal in (ApiError, StarletteHTTPException, RequestValidationError):
        # The API's handlers (vigil.http.errors) are all coroutines.
        api_answer = cast(Handler, app.exception_handlers[refusal])
        app.add_exception_handler(refusal, _page_or(api_answer))
    unexpected = cast(Handler, app.exception_handlers[Exception])
    app.add_exception_handler(Exception, _failure_page_or(unexpected))


def _page_or(api_answer: Handler) -> Handler:
    """A page for a person's browser; the API's JSON answer for scripts and HTMX."""

    async def refused(request: Request, exc: Exception) -> Response:
        status, code, message = _parts(exc)
        if not (400 <= status < 500 and is_page_request(request.url.path, request.headers)):
            return await api_answer(request, exc)
        if code == PASSWORD_CHANGE_REQUIRED:
            return go_to(request, PASSWORD_PAGE)
        return refusal_page(request, status, message)

    return refused


def _failure_page_or(api_answer: Handler) -> Handler:
    """An unexpected error: logged and answered by the API's handler as ever; a person's
    browser gets a page saying that nothing was done instead of the JSON."""

    async def failed(request: Request, exc: Exception) -> Response:
        answer = await api_answer(request, exc)
        if not is_page_request(request.url.path, request.headers):
            return answer
        return refusal_page(request, answer.status_code, SERVER_FAILED)

    return failed


def refusal_page(request: Request, status: int, message: str) -> Response:
    principal = getattr(request.state, "principal", None)
    return templates.TemplateResponse(
        request,
        "refused.html",
        {
            "principal": principal,
            "status": status,
            "title": _TITLES.get(status, "Not done"),
            "message": _sentence(message),
            "sign_in": sign_in_url(request.url.path),
        },
        status_code=status,
    )


def _parts(exc: Exception) -> tuple[int, str | None, str]:
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, RequestValidationError):
        return 422, None, _invalid_fields(exc)
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return exc.status_code, None, _PLAIN.get(exc.status_code, detail)


def _invalid_fields(exc: RequestValidationError) -> str:
    """Which values were refused, by name only: the values themselves may be secrets."""
    names = sorted(
        {str(error.get("loc", ("", "?"))[-1]) for error in exc.errors() if error.get("loc")}
    )
    shown = ", ".join(names[:10]) or "the request"
    return f"This page cannot take the value given for {shown}; go back and correct it"


def _sentence(message: str) -> str:
    message = message.strip() or "The request was refused."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."
