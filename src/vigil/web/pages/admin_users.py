"""People's accounts for administrators: who has which roles and whether they may sign in;
create an account, change its roles, disable or enable it, reset its password.

The same permission (users:manage) and the same store functions as /v1/admin/users and the
CLI, so every change is audited the same way; a password made up by Vigil is on the answer
that made it and nowhere else. Roles that would let an administrator view media wait for a
second administrator (vigil.store.accounts.grants), as over the API."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigil.http.account_admin import (
    grant_errors,
    named_user,
    password_reset_errors,
    refuse_own_account,
)
from vigil.http.dependencies import UsersManaging
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.store.accounts import (
    AccountError,
    DuplicateUser,
    Principal,
    approve_grant,
    create_user,
    disable_user,
    find_user,
    grant_summary,
    list_grants,
    list_users,
    pending_roles,
    refuse_grant,
    reset_password,
    set_roles,
)
from vigil.store.accounts.users import enable_user
from vigil.store.models import GrantState, Role, User
from vigil.web.notices import notify
from vigil.web.templating import templates

router = APIRouter(prefix="/admin/users", include_in_schema=False)

# A username as the store spells it; anything else cannot name an account (404, not 422).
Username = Annotated[str, Path(max_length=100)]
GrantId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_class=HTMLResponse)
def users_page(request: Request, principal: UsersManaging) -> Response:
    return _page(request, principal)


@router.post("", response_class=HTMLResponse)
def add_user(
    request: Request,
    *,
    username: str = Form(min_length=1, max_length=100),
    display_name: str = Form("", max_length=200),
    roles: list[str] = Form([], max_length=len(Role)),
    password: str = Form("", max_length=1024),
    principal: UsersManaging,
) -> Response:
    """Like POST /v1/admin/users: the person must choose their own password at first
    sign-in; with no password given one is made up and shown once."""
    state = service_state(request)
    initial = password or secrets.token_urlsafe(18)
    with state.database.transaction(write=True) as session:
        try:
            user = create_user(
                session,
                username,
                initial,
                roles,
                actor=principal.actor,
                display_name=display_name,
                must_change_password=True,
                min_password_length=state.settings.api.min_password_length,
            )
        except DuplicateUser:
            raise ApiError(409, f"a user named {username.lower()!r} exists already") from None
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        name, waiting = user.username, pending_roles(session, user)
    said = f"User {name} created; they choose their own password at first sign-in."
    if waiting:
        said += f" The roles {', '.join(waiting)} wait for a second administrator's approval."
    secret = {"username": name, "password": initial} if not password else None
    return notify(_page(request, principal, secret=secret), said)


@router.post("/{username}/roles", response_class=HTMLResponse)
def change_roles(
    request: Request,
    username: Username,
    *,
    roles: list[str] = Form([], max_length=len(Role)),
    principal: UsersManaging,
) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        user = _other_user(session, username, principal)
        try:
            grant = set_roles(session, user, roles, actor=principal.actor)
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        name = user.username
    if grant is not None:
        said = (
            f"The new roles of {name} would let an administrator view media: they wait for a "
            "second administrator's approval, listed below."
        )
    else:
        said = f"Roles of {name} saved."
    return notify(_page(request, principal), said)


@router.post("/{username}/disable", response_class=HTMLResponse)
def disable(request: Request, username: Username, principal: UsersManaging) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        user = _other_user(session, username, principal)
        disable_user(session, user, actor=principal.actor)
        name = user.username
    said = f"User {name} is disabled: signed out everywhere, and cannot sign in."
    return notify(_page(request, principal), said)


@router.post("/{username}/enable", response_class=HTMLResponse)
def enable(request: Request, username: Username, principal: UsersManaging) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        user = _other_user(session, username, principal)
        changed = enable_user(session, user, actor=principal.actor)
        name = user.username
    said = f"User {name} can sign in again." if changed else f"User {name} was not disabled."
    return notify(_page(request, principal), said)


@router.post("/{username}/password", response_class=HTMLResponse)
def new_password(request: Request, username: Username, principal: UsersManaging) -> Response:
    """A one-time password (as `vigil admin reset-password`): shown once, to be replaced at
    the next sign-in; the person's sessions end."""
    with service_state(request).database.transaction(write=True) as session:
        user = _other_user(session, username, principal)
        with password_reset_errors():
            password = reset_password(session, user.username, actor=principal.actor)
        name = user.username
    said = f"User {name} has a new one-time password; their sessions ended."
    secret = {"username": name, "password": password}
    return notify(_page(request, principal, secret=secret), said)


@router.post("/grants/{grant_id}/{decision}", response_class=HTMLResponse)
def decide_grant(
    request: Request,
    grant_id: GrantId,
    decision: Annotated[str, Path(pattern="^(approve|refuse)$")],
    principal: UsersManaging,
) -> Response:
    """As /v1/admin/grants/{id}/approve|refuse: approving takes another administrator than
    the one who asked; refusing (or withdrawing) any administrator."""
    with service_state(request).database.transaction(write=True) as session:
        with grant_errors():
            if decision == "approve":
                approver = find_user(session, principal.name)
                grant = approve_grant(session, grant_id, actor=principal.actor, approver=approver)
            else:
                grant = refuse_grant(session, grant_id, actor=principal.actor)
        whom = grant_summary(grant)["username"] or grant_summary(grant)["api_key"]
    said = (
        f"Approved: {whom} has the media access asked for."
        if decision == "approve"
        else f"Refused: {whom} does not get the media access asked for."
    )
    return notify(_page(request, principal), said)


def _other_user(session: Session, username: str, principal: Principal) -> User:
    """The account named, never the administrator's own (vigil.http.account_admin)."""
    user = named_user(session, username)
    refuse_own_account(user, principal)
    return user


def _page(
    request: Request, principal: Principal, *, secret: dict[str, str] | None = None
) -> Response:
    with service_state(request).database.transaction() as session:
        people = [_row(session, user) for user in list_users(session)]
        waiting = [
            grant_summary(grant)
            for grant in list_grants(session)
            if grant.state is GrantState.PENDING
        ]
    return templates.TemplateResponse(
        request,
        "admin_users.html",
        {
            "principal": principal,
            "people": people,
            "roles": [role.value for role in Role],
            "secret": secret,
            "grants": waiting,
        },
    )


def _row(session: Session, user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(role.value for role in user.role_set),
        "pending": pending_roles(session, user) or [],
        "disabled": user.disabled_at is not None,
        "second_factor": user.totp_enabled,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at,
    }
