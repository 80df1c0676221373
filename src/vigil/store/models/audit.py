"""The security audit log: hash-chained, append-only records of security-relevant acts.

The chain itself (hashing, appending, verifying) lives in vigil.store.audit; this module only
describes the tables and refuses, at flush time, any attempt to rewrite a record.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, String, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, Session, mapped_column

from vigil.store.errors import AppendOnlyViolation
from vigil.store.models.base import Base, BigId, utcnow

CHAIN_HEAD_ROW_ID = 1
GENESIS_HASH = "0" * 64  # what the first record's prev_hash is
# AuditRecord.actor's length: every record names its actor in at most this many characters,
# so whoever checks an actor name before an act (vigil.store.audit.actor) uses it too.
MAX_ACTOR_CHARS = 200


class AuditAction(StrEnum):
    """The acts the log records. Adding one changes the CHECK constraint: ship a migration."""

    SIGN_IN = "sign_in"
    KEY_CREATED = "key_created"
    MEDIA_VIEWED = "media_viewed"
    DECISION = "decision"
    REPORT = "report"
    DELETION = "deletion"
    EXPORT = "export"
    SETTING_CHANGED = "setting_changed"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"  # roles, password, second factor, disabled
    KEY_REVOKED = "key_revoked"
    WEBHOOK_CHANGED = "webhook_changed"
    ESCALATION = "escalation"
    ASSIGNMENT = "assignment"  # an intake report given to an analyst (or deconflicted)
    TRIAGE_OVERRIDE = "triage_override"
    TRIAGE_WEIGHTS = "triage_weights"  # a new weights version applied, open queue re-scored
    ROUTING = "routing"  # a report routed to an agency, by rule or by a person
    REFERRAL_ACTION = "referral_action"  # an agency accepted or declined a report
    OUTCOME = "outcome"
    INFO_REQUEST = "info_request"  # asked of or answered by a reporting company
    AGENCY_CHANGED = "agency_changed"  # agencies, members and routing rules
    ACCESS_GRANT = "access_grant"  # media access for an administrator: asked, approved, refused
    SIGN_IN_ALERT = "sign_in_alert"  # one account failing from many addresses
    MASTER_KEY_ROTATED = "master_key_rotated"  # counts and key ids, never key material


# Longer than enum_column_type's 16 characters so future actions get descriptive names.
_ACTION_TYPE = SAEnum(
    AuditAction,
    name="audit_action",
    native_enum=False,
    create_constraint=True,
    length=32,
    validate_strings=True,
    values_callable=lambda members: [member.value for member in members],
)


class AuditRecord(Base):
    """One act. ``hash`` is SHA-256 over the other fields and ``prev_hash`` (see
    vigil.store.audit), so editing, removing or reordering any record breaks the chain."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # a user, "apikey:<id>" or a component name
    actor: Mapped[str] = mapped_column(String(MAX_ACTOR_CHARS))
    action: Mapped[AuditAction] = mapped_column(_ACTION_TYPE)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # never secrets or media
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"AuditRecord(seq={self.seq!r}, action={self.action!r}, actor={self.actor!r})"


class AuditChainHead(Base):
    """The last record's seq and hash: the lock appends queue on, and an anchor that makes
    removing records from the end of the chain detectable (unless the head is edited too)."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint(f"id = {CHAIN_HEAD_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


# Registered here, not in vigil.store.audit, so every session refuses rewrites as soon as
# the models are imported, whether or not the audit module is.
@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditRecord | AuditChainHead):
            raise AppendOnlyViolation("audit records are an append-only, hash-chained log")
    for obj in session.dirty:
        if isinstance(obj, AuditRecord) and session.is_modified(obj):
            raise AppendOnlyViolation("audit records are an append-only, hash-chained log")
