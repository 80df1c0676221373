"""The platform's webhook endpoints as operators change them: registering and disabling one
are written to the audit log in the same transaction as the change, so the log can never
show an endpoint that was not there (or miss one that was)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.evidence.keys import MasterKey
from vigil.store.models import AuditAction, WebhookEndpoint
from vigil.store.records.outbox import disable_endpoint, register_endpoint


def register_audited(
    session: Session,
    url: str,
    events: Iterable[str],
    *,
    actor: str,
    master_key: MasterKey,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for ``actor`` and audit it; the signing secret is returned once
    (raises vigil.store.records.outbox.InvalidWebhook for a URL or events it refuses)."""
    endpoint, secret = register_endpoint(
        session, url, events, created_by=actor, master_key=master_key, description=description
    )
    _audit(session, actor, endpoint, "registered")
    return endpoint, secret


def disable_audited(session: Session, endpoint: WebhookEndpoint, *, actor: str) -> None:
    """Stop sending to ``endpoint`` (kept, with its delivery log) and audit it."""
    disable_endpoint(session, endpoint.id)
    _audit(session, actor, endpoint, "disabled")


def _audit(session: Session, actor: str, endpoint: WebhookEndpoint, change: str) -> None:
    AuditLog(session).append(
        AuditAction.WEBHOOK_CHANGED,
        actor=actor,
        subject_type="webhook_endpoint",
        subject_id=str(endpoint.id),
        details={"change": change, "url": endpoint.url, "events": endpoint.events},
    )
