"""Answers of the webhook routes: endpoints (the signing secret only when registering) and
their delivery log."""

from __future__ import annotations

from vigil.api.answers import Answer, Time


class EndpointSummary(Answer):
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    created_at: Time
    created_by: str


class RegisteredEndpoint(EndpointSummary):
    """The secret that signs deliveries, shown in this answer only."""

    secret: str


class WebhookEndpoints(Answer):
    endpoints: list[EndpointSummary]


class DeliveryAttempt(Answer):
    """One try: the endpoint's status code, or the error when it gave none."""

    at: Time
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDelivery(Answer):
    id: int
    event_id: str
    event: str
    status: str
    attempts: int
    created_at: Time
    next_attempt_at: Time
    delivered_at: Time | None
    log: list[DeliveryAttempt]


class WebhookDeliveries(Answer):
    deliveries: list[WebhookDelivery]
