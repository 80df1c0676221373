"""Webhooks to the platform: signed POSTs of verdicts and decisions from the outbox,
retried with exponential backoff, every attempt kept in the delivery log."""

from vigil.screening.webhooks.backoff import next_attempt_at, retry_delay
from vigil.screening.webhooks.dispatcher import SendOutcome, WebhookDispatcher
from vigil.screening.webhooks.signing import SIGNATURE_HEADER, sign, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "SendOutcome",
    "WebhookDispatcher",
    "next_attempt_at",
    "retry_delay",
    "sign",
    "verify_signature",
]
