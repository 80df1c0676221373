"""A view of original media is recorded only once the browser has shown it.

Revealing takes two steps. The server hands the original bytes out (``release``): that is
audited at once, as an EXPORT to the console (the bytes left the evidence store), and it
yields a one-time view check bound to the person and the file. The browser shows the media
and, only when a picture decoded (or a video has a frame to show), sends the check back
(``record_view``): then, and only then, the MEDIA_VIEWED record is written, which is what
counts a reveal and sets ``fileViewedByEsp``. Media the browser cannot show is handed out
but never "viewed".

The check is 32 random bytes; the audit record keeps only its SHA-256 (``display_check``),
so the log lets nobody forge a view. A check works once, for ``CHECK_LIFETIME`` after the
hand-out, for the same actor and the same file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.models import AuditAction, AuditRecord, utcnow

CHECK_LIFETIME = timedelta(minutes=10)  # a large video may take a while to load
MAX_CHECK_CHARS = 100  # the check as the browser sends it back (43 characters)
RELEASE_PURPOSE = "display"  # details["purpose"] of a hand-out to the console


class ViewRefused(Exception):
    """The view check is unknown, expired, another person's or file's, or already used."""


def release(
    session: Session,
    *,
    actor: str,
    subject_type: str,
    subject_id: str,
    details: Mapping[str, Any] | None = None,
    to: str = "console",
) -> str:
    """Audit the hand-out of one file's original bytes to ``actor``'s browser (or, with
    ``to="api"``, to an API client); returns the one-time view check sent back once the
    bytes were shown to a person."""
    check = secrets.token_urlsafe(32)
    AuditLog(session).append(
        AuditAction.EXPORT,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        details={
            **(details or {}),
            "to": to,
            "purpose": RELEASE_PURPOSE,
            "display_check": _digest(check),
        },
    )
    return check


def record_view(
    session: Session,
    *,
    actor: str,
    subject_type: str,
    subject_id: str,
    check: str,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditRecord:
    """Append MEDIA_VIEWED for the hand-out ``check`` names; ViewRefused otherwise."""
    when = now or utcnow()
    handed_out = _hand_out(session, actor, subject_type, subject_id, check, when)
    if _views_of(session, handed_out):
        raise ViewRefused("this view is already recorded")
    record = AuditLog(session).append(
        AuditAction.MEDIA_VIEWED,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        details={**(details or {}), "release": handed_out.seq},
        at=when,
    )
    # The append holds the audit log's lock until commit: a second use of the same check
    # that committed meanwhile is seen here, and this one rolls back with the caller.
    if _views_of(session, handed_out) > 1:
        raise ViewRefused("this view is already recorded")
    return record


def _hand_out(
    session: Session, actor: str, subject_type: str, subject_id: str, check: str, now: datetime
) -> AuditRecord:
    if not isinstance(check, str) or not 0 < len(check) <= MAX_CHECK_CHARS:
        raise ViewRefused("no such view")
    digest = _digest(check)
    candidates = session.scalars(
        select(AuditRecord).where(
            AuditRecord.action == AuditAction.EXPORT,
            AuditRecord.actor == actor,
            AuditRecord.subject_type == subject_type,
            AuditRecord.subject_id == subject_id,
            AuditRecord.at >= now - CHECK_LIFETIME,
        )
    )
    for candidate in candidates:
        kept = (candidate.details or {}).get("display_check")
        if isinstance(kept, str) and hmac.compare_digest(kept, digest):
            return candidate
    raise ViewRefused("no such view (or it expired: reveal again)")


def _views_of(session: Session, handed_out: AuditRecord) -> int:
    views = session.scalars(
        select(AuditRecord.details).where(
            AuditRecord.action == AuditAction.MEDIA_VIEWED,
            AuditRecord.actor == handed_out.actor,
            AuditRecord.subject_type == handed_out.subject_type,
            AuditRecord.subject_id == handed_out.subject_id,
            AuditRecord.seq > handed_out.seq,
        )
    )
    return sum(1 for details in views if (details or {}).get("release") == handed_out.seq)


def _digest(check: str) -> str:
    return hashlib.sha256(check.encode("utf-8")).hexdigest()
