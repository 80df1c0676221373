"""A match record's evidence media, read for a hand-out. Reading is not viewing: the caller
audits the hand-out (an EXPORT with a one-time view check, vigil.review.media_views) in the
transaction that reads it, and MEDIA_VIEWED is written only when a person confirms they were
shown the bytes, since that record sets fileViewedByEsp in CyberTipline reports."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vigil.store.evidence import EvidenceVault
from vigil.store.records.matches import get_record


class NoMediaKept(LookupError):
    """No such record, or its media was not kept (no master key, or not retained)."""


def read_record_media(session: Session, vault: EvidenceVault, record_id: str) -> tuple[bytes, str]:
    """The record's decrypted media and its evidence item id. Raises NoMediaKept, or the
    vault's EvidenceShredded / EvidenceError."""
    row = get_record(session, record_id)
    if row is None or row.evidence_item_id is None:
        raise NoMediaKept(record_id)
    return vault.get(session, row.evidence_item_id), str(row.evidence_item_id)
