"""Signing in to the console with a form; the API's /v1/auth/sign-in is the same for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.http.auth import (
    SESSION_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from vigil.http.cross_site import refuse_cross_site
from vigil.http.dependencies import Person
from vigil.http.sign_in_limits import sign_in_wait
from vigil.http.state import service_state
from vigil.store.accounts import (
    authenticate,
    end_session,
    resolve_session,
    start_session,
)
from vigil.web.refusals import PASSWORD_PAGE
from vigil.web.templating import templates

router = APIRouter(include_in_schema=False)
HOME = "/"  # the role's landing page (pages/home.py)


@router.get("/login", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = HOME) -> Response:
    return templates.TemplateResponse(
        request, "sign_in.html", {"next": _local(next), "error": None}
    )


@router.post("/login", dependencies=[Depends(refuse_cross_site)])
def sign_in(
    request: Request,
    username: str = Form(max_length=100),
    password: str = Form(max_length=1024),
    totp_code: str = Form("", max_length=10),
    next: str = Form(HOME, max_length=500),
) -> Response:
    state = service_state(request)
    address = request.client.host if request.client else "unknown"
    if sign_in_wait(state.limiter, state.settings.api, address, username) is not None:
        return _refused(request, next, "Too many attempts. Wait a minute.", 429)
    with state.database.transaction(write=True) as session:
        outcome = authenticate(
            session,
            username,
            password,
            totp_code=totp_code or None,
            lockout_after=state.settings.api.lockout_after,
            lockout_minutes=state.settings.api.lockout_minutes,
            source_ip=address,
            master_key=state.master_key,
        )
        if outcome.ok and outcome.user is not None:
            _, token, csrf = start_session(
                session, outcome.user, hours=state.settings.api.session_hours
            )
            # A one-time password is good for nothing but replacing it: straight there.
            must_change = outcome.user.must_change_password
    if outcome.reason == "second_factor_unavailable":
        return _refused(
            request,
            next,
            "Your second factor cannot be checked: the key it "
            "is sealed under is not configured. Tell the operator.",
            503,
        )
    if not outcome.ok:
        message = (
            "Enter the code from your authenticator app."
            if outcome.reason == "second_factor_required"
            else "Wrong username or password."
        )
        return _refused(request, next, message, 401)
    target = PASSWORD_PAGE if must_change else _local(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, state.settings, token, csrf)
    return response


@router.post("/logout")
def sign_out(request: Request, _person: Person) -> Response:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        user_session = resolve_session(
            session,
            request.cookies.get(SESSION_COOKIE, ""),
            idle_minutes=state.settings.api.session_idle_minutes,
        )
        end_session(session, user_session)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response


def _refused(request: Request, next: str, message: str, status: int) -> Response:
    return templates.TemplateResponse(
        request, "sign_in.html", {"next": _local(next), "error": message}, status_code=status
    )


def _local(target: str) -> str:
    """Only paths on this site: an open redirect would make the sign-in page a phishing aid."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target
