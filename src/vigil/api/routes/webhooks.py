"""Webhook endpoints of the platform: register (the signing secret is shown once), list,
disable, and read the delivery log.

Each endpoint belongs to whoever registered it: an API key sees and changes only its own
(another's answers 404, as a missing one does); an administrator's session sees them all,
so that a person can always find and stop what a key set up. Destinations must be public
addresses unless the operator allowed a private network (destinations.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.answers.webhooks import (
    EndpointSummary,
    RegisteredEndpoint,
    WebhookDeliveries,
    WebhookEndpoints,
)
from vigil.http.dependencies import WebhooksManaging
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.row_ids import NarrowRowId
from vigil.http.state import ServiceState, service_state
from vigil.screening.webhooks.destinations import RefusedDestination, check_registration
from vigil.screening.webhooks.endpoints import disable_audited, register_audited
from vigil.store.accounts import Principal
from vigil.store.evidence.keys import MasterKey
from vigil.store.models import WebhookDelivery, WebhookEndpoint
from vigil.store.records.outbox import (
    InvalidWebhook,
    deliveries_for,
    endpoint_summary,
    list_endpoints,
    owned_endpoint,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=RESOURCES)


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=500)


@router.post("", status_code=201, response_model=RegisteredEndpoint)
def add_endpoint(
    body: NewEndpoint,
    request: Request,
    principal: WebhooksManaging,
) -> dict[str, Any]:
    state = service_state(request)
    master_key = _master_key(state)
    try:
        check_registration(body.url, state.settings.webhooks.allowed_networks)
    except RefusedDestination as exc:
        raise ApiError(422, f"webhook URL {exc}") from None
    with state.database.transaction(write=True) as session:
        try:
            endpoint, secret = register_audited(
                session,
                body.url,
                body.events,
                actor=principal.actor,
                master_key=master_key,
                description=body.description,
            )
        except InvalidWebhook as exc:
            raise ApiError(422, str(exc)) from None
        return {**endpoint_summary(endpoint), "secret": secret}


@router.get("", response_model=WebhookEndpoints)
def endpoints(request: Request, principal: WebhooksManaging) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        rows = list_endpoints(session, owner=_owner(principal))
        return {"endpoints": [endpoint_summary(row) for row in rows]}


@router.delete("/{endpoint_id}", response_model=EndpointSummary)
def disable_endpoint(
    endpoint_id: NarrowRowId,
    request: Request,
    principal: WebhooksManaging,
) -> dict[str, Any]:
    """Stop sending to the endpoint (kept, with its delivery log)."""
    with service_state(request).database.transaction(write=True) as session:
        endpoint = _endpoint(session, endpoint_id, principal)
        disable_audited(session, endpoint, actor=principal.actor)
        return dict(endpoint_summary(endpoint))


@router.get("/{endpoint_id}/deliveries", response_model=WebhookDeliveries)
def deliveries(
    endpoint_id: NarrowRowId,
    request: Request,
    *,
    limit: int = Query(50, ge=1, le=500),
    principal: WebhooksManaging,
) -> dict[str, Any]:
    """The delivery log: each event, its status and every attempt."""
    with service_state(request).database.transaction() as session:
        _endpoint(session, endpoint_id, principal)
        rows = deliveries_for(session, endpoint_id, limit=limit)
        return {"deliveries": [_delivery(row) for row in rows]}


def _owner(principal: Principal) -> str | None:
    """Whose endpoints ``principal`` manages: None (all) for a person - webhooks:manage is
    an administrator's permission - and its own for an API key."""
    return None if principal.kind == "user" else principal.actor


def _endpoint(session: Any, endpoint_id: int, principal: Principal) -> WebhookEndpoint:
    endpoint = owned_endpoint(session, endpoint_id, _owner(principal))
    if endpoint is None:  # missing or another owner's: the same answer
        raise ApiError(404, "no such webhook endpoint")
    return endpoint


def _master_key(state: ServiceState) -> MasterKey:
    if state.vault is None:
        raise ApiError(
            503,
            "webhooks need the evidence master key (their signing secrets "
            "are sealed under it); the operator has to configure one",
        )
    return state.vault.master_key


def _delivery(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event": row.event,
        "status": row.status.value,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "log": [
            {
                "at": a.attempted_at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in row.log
        ],
    }
