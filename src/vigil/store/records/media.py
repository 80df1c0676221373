"""A match record's evidence media, read for a person: the read is in the audit log, in the
transaction that reads it, so a fetch that fails leaves no record of a view that did not
happen, and no bytes leave without one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.evidence import EvidenceVault
from vigil.store.models import AuditAction
from vigil.store.records.matches import get_record


class NoMediaKept(LookupError):
    """No such record, or its media was not kept (no master key, or not retained)."""


def read_record_media(session: Session, vault: EvidenceVault, record_id: str, actor: str) -> bytes:
    """The record's decrypted media, audited as MEDIA_VIEWED by ``actor``. Raises
    NoMediaKept, or the vault's EvidenceShredded / EvidenceError (the caller's transaction
    then rolls the audit record back)."""
    row = get_record(session, record_id)
    if row is None or row.evidence_item_id is None:
        raise NoMediaKept(record_id)
    AuditLog(session).append(
        AuditAction.MEDIA_VIEWED,
        actor=actor,
        subject_type="match_record",
        subject_id=record_id,
        details={"evidence_item": row.evidence_item_id},
    )
    return vault.get(session, row.evidence_item_id)
