"""Security audit records of acts on hash exchanges: configuration, credentials replaced,
fetches, feedback queued and settled.

Each function appends one record in the caller's session, so it commits or rolls back with
the act. Details hold names, settings and counts, never credentials (not even their
length) nor list content: an auditor learns who changed what and how a fetch went.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from vigil.store import audit
from vigil.store.audit import AuditAction, AuditLog, AuditRecord
from vigil.store.exchanges.errors import InvalidExchangeSetting

EXCHANGE_SUBJECT = "exchange"
FEEDBACK_SUBJECT = "exchange_feedback"
MAX_TEXT_CHARS = 500


def checked_actor(actor: str) -> str:
    """vigil.store.audit's check, refusing as exchange settings do: InvalidExchangeSetting."""
    return audit.checked_actor(actor, refusal=InvalidExchangeSetting)


def record_exchange_change(
    session: Session,
    name: str,
    *,
    actor: str,
    change: str,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """An exchange created (``old`` empty), changed, switched, removed, or its credentials
    replaced (``change`` says which; the credentials themselves never appear)."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=EXCHANGE_SUBJECT,
        subject_id=name,
        details={"change": change, "old": _bounded(old or {}), "new": _bounded(new or {})},
    )


def record_fetch(
    session: Session, name: str, *, actor: str, outcome: Mapping[str, Any]
) -> AuditRecord:
    """One record per fetch, whatever its number of pages: state, counts, error kind."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=EXCHANGE_SUBJECT,
        subject_id=name,
        details={"change": "fetch", **_bounded(outcome)},
    )


def record_feedback(
    session: Session,
    feedback_id: int,
    *,
    actor: str,
    change: str,
    exchange: str,
    details: Mapping[str, Any],
) -> AuditRecord:
    """A verdict queued for an exchange (``change`` "feedback_queued"), or settled
    ("feedback_sent", "feedback_failed")."""
    return AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=checked_actor(actor),
        subject_type=FEEDBACK_SUBJECT,
        subject_id=str(feedback_id),
        details={"change": change, "exchange": exchange, **_bounded(details)},
    )


def _bounded(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value[:MAX_TEXT_CHARS] if isinstance(value, str) else value
        for key, value in values.items()
    }
