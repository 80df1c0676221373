"""Administration over HTTP: users, API keys and grants of media access. Secrets (a generated
password, a new key's token) are in the answer once and nowhere else.

Media access for administrators (a key with media:view, roles that would let an administrator
view media) is asked for here and takes effect only once a second administrator approves it
under /v1/admin/grants (vigil.store.accounts.grants)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.answers.admin import (
    AccessGrant,
    AccessGrants,
    ApiKeys,
    ApiKeySummary,
    ChangedUserAccount,
    CreatedApiKey,
    EnabledUserAccount,
    NewUserAccount,
    ResetUserAccount,
    UserAccounts,
)
from vigil.http.account_admin import (
    grant_errors,
    named_user,
    password_reset_errors,
    refuse_own_account,
)
from vigil.http.dependencies import KeysManaging, UsersManaging
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.store.accounts import (
    AccountError,
    DuplicateUser,
    UnknownAccount,
    approve_grant,
    create_api_key,
    create_user,
    disable_user,
    find_user,
    grant_for_key,
    grant_summary,
    list_api_keys,
    list_grants,
    list_users,
    pending_roles,
    refuse_grant,
    reset_password,
    revoke_api_key,
    set_roles,
)
from vigil.store.accounts.users import enable_user
from vigil.store.models import ApiKey, Role, User, utcnow

router = APIRouter(prefix="/v1/admin", tags=["administration"], responses=RESOURCES)
MAX_GRANT_ID = 2**31 - 1
# A username as the store spells it (100 characters at most); a longer one is refused.
Username = Annotated[str, Path(max_length=100)]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    roles: list[Role] = Field(min_length=1)
    display_name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, max_length=1024)  # None: one is generated


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] | None = Field(default=None, min_length=1)
    disabled: bool | None = None


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, max_length=1024)  # None: one is made up


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=20)
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=10_000_000)
    note: str | None = Field(default=None, max_length=1000)


# A password given is not echoed: initial_password is sent only when one was generated.
@router.post(
    "/users",
    status_code=201,
    response_model=NewUserAccount,
    response_model_exclude_unset=True,
)
def add_user(body: NewUser, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Create a person's account. They must choose their own password at first sign-in."""
    state = service_state(request)
    password = body.password or secrets.token_urlsafe(18)
    with state.database.transaction(write=True) as session:
        try:
            user = create_user(
                session,
                body.username,
                password,
                body.roles,
                actor=principal.actor,
                display_name=body.display_name,
                must_change_password=True,
                min_password_length=state.settings.api.min_password_length,
            )
        except DuplicateUser:
            raise ApiError(409, "a user with this name exists") from None
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        answer = {**_user_summary(user), "pending_roles": pending_roles(session, user)}
    if body.password is None:
        answer["initial_password"] = password
    return answer


@router.get("/users", response_model=UserAccounts)
def users(request: Request, _principal: UsersManaging) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        return {"users": [_user_summary(user) for user in list_users(session)]}


@router.patch("/users/{username}", response_model=ChangedUserAccount)
def change_user(
    username: str,
    body: UserChange,
    request: Request,
    response: Response,
    principal: UsersManaging,
) -> dict[str, Any]:
    """Roles that would let an administrator view media are not applied but asked for: the
    answer is 202 with ``pending_grant``, which a second administrator approves."""
    with service_state(request).database.transaction(write=True) as session:
        user = named_user(session, username)
        if body.disabled or body.roles is not None:
            refuse_own_account(user, principal)
        grant = None
        if body.roles is not None:
            grant = set_roles(session, user, body.roles, actor=principal.actor)
        if body.disabled:
            disable_user(session, user, actor=principal.actor)
        if grant is not None:
            response.status_code = 202
        return {
            **_user_summary(user),
            "pending_grant": grant_summary(grant) if grant is not None else None,
        }


@router.post("/users/{username}/enable", response_model=EnabledUserAccount)
def enable(username: Username, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Let a disabled person sign in again, with their password and roles as they were (as
    the console and `vigil admin enable`); one's own account through another administrator."""
    with service_state(request).database.transaction(write=True) as session:
        user = named_user(session, username)
        refuse_own_account(user, principal)
        enabled = enable_user(session, user, actor=principal.actor)
        return {**_user_summary(user), "enabled": enabled}


@router.post(
    "/users/{username}/password",
    response_model=ResetUserAccount,
    response_model_exclude_unset=True,
)
def new_password(
    username: Username,
    request: Request,
    principal: UsersManaging,
    body: PasswordReset | None = None,
) -> dict[str, Any]:
    """A new password to be replaced at the next sign-in (as the console and `vigil admin
    reset-password`): made up and answered once, or the one given if the policy accepts
    it. The person's sessions end; a disabled account is refused (enable it first)."""
    state = service_state(request)
    chosen = body.password if body is not None else None
    with state.database.transaction(write=True) as session:
        user = named_user(session, username)
        refuse_own_account(user, principal)
        with password_reset_errors():
            password = reset_password(
                session,
                user.username,
                actor=principal.actor,
                chosen=chosen,
                min_password_length=state.settings.api.min_password_length,
            )
        answer = _user_summary(user)
    if chosen is None:
        answer["one_time_password"] = password
    return answer


def _user_summary(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(role.value for role in user.role_set),
        "second_factor": user.totp_enabled,
        "disabled": user.disabled_at is not None,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at.isoformat(),
    }


@router.post("/api-keys", status_code=201, response_model=CreatedApiKey)
def add_api_key(
    body: NewApiKey,
    request: Request,
    principal: KeysManaging,
) -> dict[str, Any]:
    """A key for a machine; the token is in this answer only. A key with media:view works
    only once a second administrator approves its ``pending_grant``."""
    expires_at = utcnow() + timedelta(days=body.expires_days) if body.expires_days else None
    with service_state(request).database.transaction(write=True) as session:
        try:
            key, token = create_api_key(
                session,
                body.name,
                body.scopes,
                created_by=principal.actor,
                expires_at=expires_at,
                rate_limit_per_minute=body.rate_limit_per_minute,
                note=body.note,
            )
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        grant = grant_for_key(session, key) if key.awaiting_approval else None
        return {
            **_key_summary(key),
            "token": token,
            "pending_grant": grant_summary(grant) if grant is not None else None,
        }


@router.get("/api-keys", response_model=ApiKeys)
def api_keys(request: Request, _principal: KeysManaging) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        return {"api_keys": [_key_summary(key) for key in list_api_keys(session)]}


@router.delete("/api-keys/{prefix}", response_model=ApiKeySummary)
def revoke_key(prefix: str, request: Request, principal: KeysManaging) -> dict[str, Any]:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        try:
            key = revoke_api_key(session, prefix, actor=principal.actor)
        except UnknownAccount:
            raise ApiError(404, "no such API key") from None
        answer = _key_summary(key)
    state.credentials.forget(prefix)
    return answer


@router.get("/grants", response_model=AccessGrants)
def grants(request: Request, _principal: UsersManaging) -> dict[str, Any]:
    """Media access for administrators, pending first, then the latest decisions."""
    with service_state(request).database.transaction() as session:
        return {"grants": [grant_summary(grant) for grant in list_grants(session)]}


@router.post("/grants/{grant_id}/approve", response_model=AccessGrant)
def approve(
    request: Request, *, grant_id: int = Path(ge=1, le=MAX_GRANT_ID), principal: UsersManaging
) -> dict[str, Any]:
    """By an administrator other than the one who asked (and not the one who would receive
    it, nor an account the asker created or made administrator); takes effect at once."""
    with service_state(request).database.transaction(write=True) as session:
        approver = find_user(session, principal.name) if principal.kind == "user" else None
        with grant_errors():
            grant = approve_grant(session, grant_id, actor=principal.actor, approver=approver)
        return grant_summary(grant)


@router.post("/grants/{grant_id}/refuse", response_model=AccessGrant)
def refuse(
    request: Request, *, grant_id: int = Path(ge=1, le=MAX_GRANT_ID), principal: UsersManaging
) -> dict[str, Any]:
    """Any administrator, the asker included (withdrawing it); a waiting key is revoked."""
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        with grant_errors():
            grant = refuse_grant(session, grant_id, actor=principal.actor)
        return grant_summary(grant)


def _key_summary(key: ApiKey) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "prefix": key.prefix,
        "name": key.name,
        "scopes": sorted(key.scopes),
        "created_by": key.created_by,
        "created_at": when(key.created_at),
        "expires_at": when(key.expires_at),
        "revoked_at": when(key.revoked_at),
        "last_used_at": when(key.last_used_at),
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "awaiting_approval": key.awaiting_approval,
    }
