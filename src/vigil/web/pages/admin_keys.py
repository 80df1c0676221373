"""API keys for administrators: the keys services use to screen and flag, when each was last
used, and its state; create one (its token shown on that answer only) or revoke one.

The same permission (keys:manage) and store functions as /v1/admin/api-keys, so creation and
revocation are audited alike; a key that may fetch media works only once a second
administrator approves it (vigil.store.accounts.grants), as over the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import KeysManaging
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.store.accounts import (
    API_KEY_SCOPES,
    AccountError,
    Principal,
    UnknownAccount,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from vigil.store.models import ApiKey, utcnow
from vigil.web.notices import notify
from vigil.web.templating import templates

router = APIRouter(prefix="/admin/keys", include_in_schema=False)

Prefix = Annotated[str, Path(max_length=40)]


@router.get("", response_class=HTMLResponse)
def keys_page(request: Request, principal: KeysManaging) -> Response:
    return _page(request, principal)


@router.post("", response_class=HTMLResponse)
def add_key(
    request: Request,
    *,
    name: str = Form(min_length=1, max_length=200),
    scopes: list[str] = Form([], max_length=len(API_KEY_SCOPES)),
    expires_days: int | None = Form(None, ge=1, le=3650),
    rate_limit_per_minute: int | None = Form(None, ge=1, le=10_000_000),
    note: str = Form("", max_length=1000),
    principal: KeysManaging,
) -> Response:
    """Like POST /v1/admin/api-keys (same limits): the token is in this answer only."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with service_state(request).database.transaction(write=True) as session:
        try:
            key, token = create_api_key(
                session,
                name,
                scopes,
                created_by=principal.actor,
                expires_at=expires_at,
                rate_limit_per_minute=rate_limit_per_minute,
                note=note or None,
            )
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        label, prefix, waiting = key.name, key.prefix, key.awaiting_approval
    said = f"API key {label} ({prefix}) created: copy its token now, it is not shown again."
    if waiting:
        said += (
            " It may fetch media, so it works once a second administrator approves it on "
            "the Users page."
        )
    secret = {"name": label, "token": token}
    return notify(_page(request, principal, secret=secret), said)


@router.post("/{prefix}/revoke", response_class=HTMLResponse)
def revoke(request: Request, prefix: Prefix, principal: KeysManaging) -> Response:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        try:
            key = revoke_api_key(session, prefix, actor=principal.actor)
        except UnknownAccount:
            raise ApiError(404, "no such API key") from None
        label = key.name
    state.credentials.forget(prefix)  # as the API does: no cached credential outlives it
    said = f"API key {label} ({prefix}) is revoked: it no longer works."
    return notify(_page(request, principal), said)


def _page(
    request: Request, principal: Principal, *, secret: dict[str, str] | None = None
) -> Response:
    with service_state(request).database.transaction() as session:
        keys = list_api_keys(session)
        now = utcnow()
        rows = [
            {
                "prefix": key.prefix,
                "name": key.name,
                "scopes": sorted(key.scopes),
                "created_by": key.created_by,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "expires_at": key.expires_at,
                "state": _state(key, now),
            }
            for key in keys
        ]
    return templates.TemplateResponse(
        request,
        "admin_keys.html",
        {
            "principal": principal,
            "keys": rows,
            "scopes": sorted(API_KEY_SCOPES),
            "secret": secret,
        },
    )


def _state(key: ApiKey, now: datetime) -> str:
    """What the key's owner would see: the store's own rule for whether it works."""
    if key.revoked_at is not None:
        return "revoked"
    if key.awaiting_approval:
        return "waiting for approval"
    return "active" if key.is_usable(now) else "expired"
