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
from sqlalchemy.orm import Session

from vigil.store.errors import StoreError
from vigil.store.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

EVENTS = frozenset({"verdict", "decision"})  # "decision" comes from the review console
SECRET_BYTES = 32


class InvalidWebhook(StoreError, ValueError):
    """An endpoint URL or event list that cannot be accepted."""


def register_endpoint(
    session: Session, url: str, events: Iterable[str], *, created_by: str,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its signing secret (shown to the caller once)."""
    wanted = sorted(set(events))
    unknown = set(wanted) - EVENTS
    if not wanted or unknown:
        raise InvalidWebhook(f"events must be some of {sorted(EVENTS)}; got {wanted}")
    _check_url(url)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    endpoint = WebhookEndpoint(url=url, secret=secret, events=wanted, created_by=created_by,
                               description=description)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 2000:
        raise InvalidWebhook("a webhook URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise InvalidWebhook("put no credentials in a webhook URL; requests are signed")


def enqueue_event(
    session: Session, event: str, payload: Mapping[str, Any], *, now: datetime | None = None,
) -> list[WebhookDelivery]:
    """Queue ``event`` for every enabled endpoint subscribed to it, in the caller's
    transaction: the event is sent if and only if what it announces was committed."""
    if event not in EVENTS:
        raise InvalidWebhook(f"unknown webhook event {event!r}")
    now = now or utcnow()
    event_id = uuid.uuid4().hex
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)).all()
    deliveries = [
        WebhookDelivery(event_id=event_id, endpoint_id=endpoint.id, event=event,
                        payload=dict(payload), created_at=now, next_attempt_at=now)
        for endpoint in endpoints if event in endpoint.events
    ]
    session.add_all(deliveries)
    return deliveries


def due_deliveries(session: Session, now: datetime, limit: int = 50) -> list[WebhookDelivery]:
    """Pending deliveries whose time has come, locked so that two dispatchers (e.g. two
    service workers) never send the same one; SKIP LOCKED lets each take different rows."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    return list(session.scalars(query))


def record_attempt(
    session: Session, delivery: WebhookDelivery, *, at: datetime, status_code: int | None,
    error: str | None, duration_ms: int, next_attempt_at: datetime | None,
) -> WebhookAttempt:
    """Log one attempt and move the delivery on: delivered on 2xx, else retried at
    ``next_attempt_at``, or failed for good when that is None."""
    attempt = WebhookAttempt(delivery_id=delivery.id, attempted_at=at, status_code=status_code,
                             error=(error or None) and error[:500], duration_ms=duration_ms)
    session.add(attempt)
    delivery.attempts += 1
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, at
    elif next_attempt_at is None:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = next_attempt_at
    return attempt


def endpoint_summary(endpoint: WebhookEndpoint) -> Mapping[str, Any]:
    """What may be shown about an endpoint: everything but its secret."""
    return {"id": endpoint.id, "url": endpoint.url, "events": endpoint.events,
            "enabled": endpoint.enabled, "description": endpoint.description,
            "created_at": endpoint.created_at.isoformat(), "created_by": endpoint.created_by}
