"""Signing in and out (people only), the password change a first sign-in demands, and the
optional TOTP second factor."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.answers.sessions import Caller, Done, SignedIn, TotpEnrolment
from vigil.http.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from vigil.http.cross_site import refuse_cross_site
from vigil.http.dependencies import AnyCaller, Person
from vigil.http.error_answers import AUTHENTICATED
from vigil.http.errors import ApiError
from vigil.http.sign_in_limits import sign_in_wait
from vigil.http.state import service_state
from vigil.store.accounts import (
    InvalidCredentials,
    Principal,
    SecondFactorUnavailable,
    WeakPassword,
    authenticate,
    begin_totp_enrolment,
    change_own_password,
    confirm_totp,
    end_session,
    resolve_session,
    start_session,
    user_by_id,
)
from vigil.store.models import User

router = APIRouter(prefix="/v1/auth", tags=["sign-in"], responses=AUTHENTICATED)
SECOND_FACTOR_UNAVAILABLE = (
    "second factors cannot be checked: the evidence master key they "
    "are sealed under is not configured; tell the operator"
)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=10)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=10)


@router.post("/sign-in", response_model=SignedIn, dependencies=[Depends(refuse_cross_site)])
def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, Any]:
    """Password (and TOTP code when enabled) for a session cookie and a CSRF token."""
    state = service_state(request)
    address = request.client.host if request.client else "unknown"
    if sign_in_wait(state.limiter, state.settings.api, address, body.username) is not None:
        raise ApiError(
            429, "too many sign-in attempts; wait a minute", headers={"Retry-After": "60"}
        )
    with state.database.transaction(write=True) as session:
        outcome = authenticate(
            session,
            body.username,
            body.password,
            totp_code=body.totp_code,
            lockout_after=state.settings.api.lockout_after,
            lockout_minutes=state.settings.api.lockout_minutes,
            source_ip=address,
            master_key=state.master_key,
        )
        if outcome.ok and outcome.user is not None:
            _, token, csrf = start_session(
                session,
                outcome.user,
                hours=state.settings.api.session_hours,
                user_agent=request.headers.get("user-agent", "")[:300] or None,
            )
            answer = _signed_in(outcome.user, csrf)
    if not outcome.ok:
        # One answer for unknown user, wrong password and lockout: no account enumeration.
        if outcome.reason == "second_factor_required":
            raise ApiError(
                401, "enter the code from your authenticator app", code="second_factor_required"
            )
        if outcome.reason == "second_factor_unavailable":
            raise ApiError(503, SECOND_FACTOR_UNAVAILABLE, code="second_factor_unavailable")
        raise ApiError(401, "invalid username or password")
    set_session_cookies(response, state.settings, token, csrf)
    return answer


def _signed_in(user: User, csrf: str) -> dict[str, Any]:
    return {
        "username": user.username,
        "roles": sorted(r.value for r in user.role_set),
        "must_change_password": user.must_change_password,
        "csrf_token": csrf,
        "csrf_header": CSRF_HEADER,
    }


@router.post("/sign-out", response_model=Done)
def sign_out(request: Request, response: Response, _principal: Person) -> dict[str, str]:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        user_session = resolve_session(
            session,
            request.cookies.get(SESSION_COOKIE, ""),
            idle_minutes=state.settings.api.session_idle_minutes,
        )
        end_session(session, user_session)
    clear_session_cookies(response)
    return {"status": "signed out"}


@router.get("/me", response_model=Caller)
def me(principal: AnyCaller) -> dict[str, Any]:
    """Who the credentials belong to and what they may do."""
    return {
        "kind": principal.kind,
        "name": principal.name,
        "permissions": sorted(p.value for p in principal.permissions),
    }


@router.post("/password", response_model=Done)
def change_password(body: PasswordChange, request: Request, principal: Person) -> dict[str, str]:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        try:
            change_own_password(
                session,
                _user(session, principal),
                body.current_password,
                body.new_password,
                min_password_length=state.settings.api.min_password_length,
            )
        except InvalidCredentials as exc:
            raise ApiError(403, str(exc)) from None
        except WeakPassword as exc:
            raise ApiError(422, str(exc), code="weak_password") from None
    return {"status": "password changed; sign in again"}


@router.post("/totp/begin", response_model=TotpEnrolment)
def totp_begin(
    request: Request,
    principal: Person,
) -> dict[str, str]:
    """Start enrolling an authenticator app; confirm with a code to switch it on."""
    state = service_state(request)
    with state.database.transaction(write=True) as session, _second_factor_available():
        user = _user(session, principal)
        return {
            "provisioning_uri": begin_totp_enrolment(session, user, master_key=state.master_key)
        }


@router.post("/totp/confirm", response_model=Done)
def totp_confirm(body: TotpCode, request: Request, principal: Person) -> dict[str, str]:
    state = service_state(request)
    with state.database.transaction(write=True) as session, _second_factor_available():
        if not confirm_totp(
            session,
            _user(session, principal),
            body.code,
            actor=principal.actor,
            master_key=state.master_key,
        ):
            raise ApiError(422, "the code is not valid", code="invalid_code")
    return {"status": "second factor enabled"}


@contextlib.contextmanager
def _second_factor_available() -> Iterator[None]:
    try:
        yield
    except SecondFactorUnavailable:
        raise ApiError(503, SECOND_FACTOR_UNAVAILABLE, code="second_factor_unavailable") from None


def _user(session: Any, principal: Principal) -> User:
    user = user_by_id(session, principal.id)
    if user is None:
        raise ApiError(401, "your account no longer exists")
    return user
