"""The webhook outbox: endpoints, queuing an event in the caller's transaction, and the
bookkeeping of attempts. Sending (signing, HTTP, backoff) is vigil.screening.webhooks."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vigil.store.errors import StoreError
from vigil.store.evidence.keys import MasterKey
from vigil.store.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from vigil.store.sealed_secrets import open_secret, seal_secret

EVENTS = frozenset({"verdict", "decision"})  # "decision" comes from the review console
SECRET_BYTES = 32
SECRET_PURPOSE = "webhook-endpoint"  # authenticated with each sealed signing secret


class InvalidWebhook(StoreError, ValueError):
    """An endpoint URL or event list that cannot be accepted."""


def register_endpoint(
    session: Session,
    url: str,
    events: Iterable[str],
    *,
    created_by: str,
    master_key: MasterKey,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its signing secret (shown to the caller once, kept
    only sealed under ``master_key``). Whether the destination may be reached is checked by
    the caller (vigil.screening.webhooks.destinations), which can resolve names."""
    wanted = sorted(set(events))
    unknown = set(wanted) - EVENTS
    if not wanted or unknown:
        raise InvalidWebhook(f"events must be some of {sorted(EVENTS)}; got {wanted}")
    _check_url(url)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    endpoint = WebhookEndpoint(
        url=url,
        sealed_secret=seal_secret(master_key, secret, SECRET_PURPOSE),
        events=wanted,
        created_by=created_by,
        description=description,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def endpoint_secret(endpoint: WebhookEndpoint, master_key: MasterKey) -> str:
    """The signing secret of ``endpoint``; raises SealedSecretError under a wrong key."""
    return open_secret(master_key, endpoint.sealed_secret, SECRET_PURPOSE)


def _check_url(url: str) -> None:
    if len(url) > 2000 or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise InvalidWebhook("a webhook URL must be at most 2000 characters, without spaces")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise InvalidWebhook("a webhook URL must have a valid port") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidWebhook("a webhook URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise InvalidWebhook("put no credentials in a webhook URL; requests are signed")


def enqueue_event(
    session: Session,
    event: str,
    payload: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> list[WebhookDelivery]:
    """Queue ``event`` for every enabled endpoint subscribed to it, in the caller's
    transaction: the event is sent if and only if what it announces was committed."""
    if event not in EVENTS:
        raise InvalidWebhook(f"unknown webhook event {event!r}")
    now = now or utcnow()
    event_id = uuid.uuid4().hex
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)).all()
    deliveries = [
        WebhookDelivery(
            event_id=event_id,
            endpoint_id=endpoint.id,
            event=event,
            payload=dict(payload),
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
        if event in endpoint.events
    ]
    session.add_all(deliveries)
    return deliveries


def due_deliveries(session: Session, now: datetime, limit: int = 50) -> list[WebhookDelivery]:
    """Pending deliveries of enabled endpoints whose time has come, locked so that two
    dispatchers (e.g. two service workers) never take the same one; SKIP LOCKED lets each
    take different rows. Deliveries of a disabled endpoint wait until it is enabled again."""
    query = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    return list(session.scalars(query).unique())


def claim_due(
    session: Session,
    now: datetime,
    *,
    lease_until: datetime,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Take due deliveries for one dispatcher by moving them to ``lease_until``.

    Call it in a short write transaction and send after the commit: until the lease runs out
    every other dispatcher sees the deliveries as not due, so no lock is held during HTTP.
    A dispatcher that dies mid-send leaves them to be retried when the lease expires."""
    if lease_until <= now:
        raise ValueError("a lease must end after now")
    deliveries = due_deliveries(session, now, limit)
    for delivery in deliveries:
        delivery.next_attempt_at = lease_until
    session.flush()
    return deliveries


def record_attempt(
    session: Session,
    delivery: WebhookDelivery,
    *,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    next_attempt_at: datetime | None,
) -> WebhookAttempt:
    """Log one attempt and move the delivery on: delivered on 2xx, else retried at
    ``next_attempt_at``, or failed for good when that is None."""
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        attempted_at=at,
        status_code=status_code,
        error=(error or None) and error[:500],
        duration_ms=duration_ms,
    )
    session.add(attempt)
    delivery.attempts += 1
    if delivery.status != DeliveryStatus.PENDING:
        # Another dispatcher finished it after our lease ran out: log the try, keep its outcome
        # (a late failure must not turn a delivered event into a failed one).
        return attempt
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, at
    elif next_attempt_at is None:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = next_attempt_at
    return attempt


def set_endpoint_enabled(session: Session, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    """Enable or disable an endpoint. A disabled one gets no new events and its pending
    deliveries wait (they are sent if it is enabled again)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise InvalidWebhook(f"no webhook endpoint {endpoint_id}")
    endpoint.enabled = enabled
    session.flush()
    return endpoint


def disable_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    return set_endpoint_enabled(session, endpoint_id, False)


def list_endpoints(session: Session, owner: str | None = None) -> list[WebhookEndpoint]:
    """Every endpoint, or only those ``owner`` (an audit actor, e.g. ``key:ab12``) created."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if owner is not None:
        query = query.where(WebhookEndpoint.created_by == owner)
    return list(session.scalars(query))


def owned_endpoint(
    session: Session,
    endpoint_id: int,
    owner: str | None,
) -> WebhookEndpoint | None:
    """The endpoint if it exists and ``owner`` created it (any owner when None); None
    otherwise, so that another owner's endpoint looks exactly like a missing one."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (owner is not None and endpoint.created_by != owner):
        return None
    return endpoint


def deliveries_for(
    session: Session,
    endpoint_id: int,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 100,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their attempt log loaded."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(selectinload(WebhookDelivery.log))
        .order_by(WebhookDelivery.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query).unique())


def delivery_summary(delivery: WebhookDelivery) -> Mapping[str, Any]:
    """A delivery and its attempt log, for operators (the payload is left out)."""
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event": delivery.event,
        "endpoint_id": delivery.endpoint_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "delivered_at": delivery.delivered_at and delivery.delivered_at.isoformat(),
        "log": [
            {
                "attempted_at": a.attempted_at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in delivery.log
        ],
    }


def endpoint_summary(endpoint: WebhookEndpoint) -> Mapping[str, Any]:
    """What may be shown about an endpoint: everything but its secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "created_at": endpoint.created_at.isoformat(),
        "created_by": endpoint.created_by,
    }
