"""A person's own account: replacing their password. The first sign-in with a one-time
password (bootstrap, `vigil admin reset-password`, an administrator's new user) lands here,
and every page sends such a session here until it is done."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.auth import set_session_cookies
from vigil.http.dependencies import Person
from vigil.http.state import service_state
from vigil.store.accounts import (
    MAX_PASSWORD_LENGTH,
    InvalidCredentials,
    Principal,
    WeakPassword,
    change_own_password,
    start_session,
    user_by_id,
)
from vigil.web.navigation import go_to
from vigil.web.refusals import PASSWORD_PAGE, refusal_page
from vigil.web.templating import templates

router = APIRouter(include_in_schema=False)
AFTER_CHANGE = "/"  # the role's landing page (pages/home.py)


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
def password_page(request: Request, principal: Person) -> Response:
    return _form(request, principal, error=None, status=200)


@router.post(PASSWORD_PAGE)
def change_password(
    request: Request,
    *,
    current_password: str = Form(max_length=MAX_PASSWORD_LENGTH),
    new_password: str = Form(max_length=MAX_PASSWORD_LENGTH),
    repeat_password: str = Form(max_length=MAX_PASSWORD_LENGTH),
    principal: Person,
) -> Response:
    if new_password != repeat_password:
        return _form(request, principal, "The two new passwords are not the same.", 422)
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        user = user_by_id(session, principal.id)
        if user is None:
            return refusal_page(request, 401, "your account no longer exists")
        try:
            change_own_password(
                session,
                user,
                current_password,
                new_password,
                min_password_length=state.settings.api.min_password_length,
            )
        except InvalidCredentials:
            return _form(request, principal, "The current password is wrong.", 403)
        except WeakPassword as exc:
            return _form(request, principal, f"Choose another: {exc}.", 422)
        # The change ended every session, this one too: a fresh one, with new tokens.
        _, token, csrf = start_session(
            session,
            user,
            hours=state.settings.api.session_hours,
            user_agent=request.headers.get("user-agent", "")[:300] or None,
        )
    response = go_to(request, AFTER_CHANGE)
    set_session_cookies(response, state.settings, token, csrf)
    return response


def _form(request: Request, principal: Principal, error: str | None, status: int) -> Response:
    settings = service_state(request).settings
    return templates.TemplateResponse(
        request,
        "change_password.html",
        {"principal": principal, "error": error, "min_length": settings.api.min_password_length},
        status_code=status,
    )
