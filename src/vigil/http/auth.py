"""Who is calling, decided before any route code or body parsing runs.

An API key (``Authorization: Bearer vigil_...``) or a signed-in browser (session cookie, plus
the CSRF token header on every unsafe method). The check is a middleware so that every route
is protected unless listed in PUBLIC_PATHS, and an anonymous client cannot make the service
parse a body. Routes then ask for the one permission they need with ``require``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.core.settings import Settings
from vigil.http.errors import ApiError, error_response
from vigil.http.state import ServiceState
from vigil.store.accounts import (
    InvalidCredentials,
    Permission,
    Principal,
    check_csrf,
    principal_for_key,
    principal_for_session,
    resolve_session,
    verify_api_key,
)
from vigil.store.errors import StoreError
from vigil.store.models import utcnow

log = logging.getLogger(__name__)

SESSION_COOKIE = "vigil_session"
CSRF_COOKIE = "vigil_csrf"  # readable by the page's script, which echoes it in CSRF_HEADER
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# /metrics checks its own token or loopback client (api/routes/metrics.py): Prometheus holds
# no session or API key.
PUBLIC_PATHS = frozenset({"/health", "/health/ready", "/v1/auth/sign-in", "/login", "/metrics"})
# /static/: the console's own script and style sheet, no content. /ispws/: the clearinghouse
# intake, which authenticates each reporting company itself (HTTP basic, see api/intake) and
# exists only when the clearinghouse is enabled (404 otherwise).
PUBLIC_PREFIXES = ("/static/", "/ispws/")
# Answered in JSON whoever asks. Every other path is a page for people (the console, /docs),
# whose refusals a browser gets as a page (vigil.web.refusals).
API_PREFIXES = ("/v1/", "/openapi.json", "/health", "/metrics", *PUBLIC_PREFIXES)
DOCS_PATH = "/docs"  # a page, but scripts holding an API key fetch it too
SIGN_IN_PATH = "/login"
PASSWORD_CHANGE_REQUIRED = "password_change_required"  # the ApiError code
MAX_TOKEN_CHARS = 200
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vigil"'}


def _unauthenticated(message: str = "missing or invalid credentials") -> ApiError:
    return ApiError(401, message, headers=_CHALLENGE)


class Authentication:
    """ASGI middleware: sets ``request.state.principal`` or answers 401/403/429 itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        state: ServiceState = connection.app.state.vigil
        try:
            principal = await _identify(state, connection, scope["method"])
            _apply_rate_limit(state, principal)
        except ApiError as exc:
            response = _page_redirect(scope, exc) or error_response(
                exc.status, exc.code, exc.message, headers=exc.headers
            )
            await response(scope, receive, send)
            return
        except StoreError as exc:  # outside the app's handlers: answer in the same shape
            log.error("cannot authenticate a request: %s", exc)
            await error_response(
                503,
                "unavailable",
                "the service cannot check credentials now; retry",
                headers={"Retry-After": "5"},
            )(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_page_request(path: str, headers: Mapping[str, str]) -> bool:
    """A person's browser asking for a page, not a script. (HTMX asks for a fragment: a page
    in its place would be swapped into the middle of the screen.)"""
    if path.startswith(API_PREFIXES):
        return False
    return "text/html" in headers.get("accept", "")


def sign_in_url(path: str) -> str:
    return f"{SIGN_IN_PATH}?next={quote(path, safe='/')}"


def _page_redirect(scope: Scope, exc: ApiError) -> Response | None:
    """A person opening a console page without a session is sent to sign in, not shown JSON;
    an HTMX form whose session ended sends the whole page there."""
    path, headers = scope["path"], Headers(scope=scope)
    if exc.status != 401 or path.startswith(API_PREFIXES):
        return None
    if "hx-request" in headers:
        return Response(status_code=401, headers={"HX-Redirect": sign_in_url(path)})
    if scope["method"] != "GET" or (path == DOCS_PATH and not is_page_request(path, headers)):
        return None
    return RedirectResponse(sign_in_url(path), status_code=303)


def set_session_cookies(response: Response, settings: Settings, token: str, csrf: str) -> None:
    """The session cookie (HttpOnly: no script can read it) and the CSRF cookie (readable
    by the console's script, useless to another site: SameSite=Strict, same origin only)."""
    max_age = settings.api.session_hours * 3600
    secure = settings.api.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="strict",
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


async def _identify(state: ServiceState, connection: HTTPConnection, method: str) -> Principal:
    header = connection.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
            raise _unauthenticated()
        cached = state.credentials.get(token, utcnow())
        if cached is not None:
            return cached
        return await run_in_threadpool(_from_api_key, state, token)
    token = connection.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise _unauthenticated()
    csrf = connection.headers.get(CSRF_HEADER)
    return await run_in_threadpool(_from_session, state, token, method, csrf)


def _from_api_key(state: ServiceState, token: str) -> Principal:
    now = utcnow()
    try:
        with state.database.transaction(write=True) as session:
            key = verify_api_key(session, token, now=now)
            principal, expires_at = principal_for_key(key), key.expires_at
    except InvalidCredentials:
        raise _unauthenticated() from None
    state.credentials.put(token, principal, expires_at)
    return principal


def _from_session(state: ServiceState, token: str, method: str, csrf: str | None) -> Principal:
    idle = state.settings.api.session_idle_minutes
    try:
        with state.database.transaction(write=True) as session:
            user_session = resolve_session(session, token, idle_minutes=idle)
            if method not in SAFE_METHODS and not check_csrf(user_session, csrf):
                raise ApiError(403, "missing or wrong CSRF token", code="csrf_failed")
            return principal_for_session(user_session)
    except InvalidCredentials:
        raise _unauthenticated("your session has ended; sign in again") from None


def _apply_rate_limit(state: ServiceState, principal: Principal) -> None:
    limit = principal.rate_limit_per_minute or state.settings.api.rate_limit_per_minute
    wait = state.limiter.acquire(principal.actor, limit)
    if wait is not None:
        raise ApiError(
            429,
            f"rate limit of {limit} requests per minute exceeded",
            headers={"Retry-After": str(max(1, round(wait)))},
        )


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # a public path asked for a caller: treat as anonymous
        raise _unauthenticated()
    return principal


class _Requirement:
    """Checks one permission; tests read ``permission`` to build the authorization matrix
    from the routes themselves."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    def __call__(self, principal: Principal = Depends(current_principal)) -> Principal:
        if self.permission is None:
            return principal
        if principal.must_change_password:  # no permissions yet: say what to do instead
            raise ApiError(
                403,
                "change your password first (POST /v1/auth/password): it was set by someone else",
                code=PASSWORD_CHANGE_REQUIRED,
            )
        if not principal.can(self.permission):
            raise ApiError(403, f"this needs the {self.permission.value} permission")
        return principal


def require(permission: Permission | None) -> Callable[..., Principal]:
    """``Depends(require(Permission.X))``; None means any authenticated caller."""
    return _Requirement(permission)


def signed_in_user(principal: Principal = Depends(current_principal)) -> Principal:
    """Routes for people only (password change, second factor): not for API keys."""
    if principal.kind != "user":
        raise ApiError(403, "only a signed-in person can do this")
    return principal
