"""The encrypted evidence store: AES-256-GCM per item, crypto-shredding, legal holds and the
retention purge. See docs/evidence.md."""

from vigil.store.evidence.backends import EvidenceBackend, LocalEvidenceBackend, StoredBlob
from vigil.store.evidence.errors import (
    EvidenceBlobMissing,
    EvidenceError,
    EvidenceNotFound,
    EvidenceShredded,
    EvidenceTampered,
    EvidenceTooLarge,
    EvidenceUnderHold,
    MasterKeyMissing,
    WrongMasterKey,
)
from vigil.store.evidence.keys import MasterKey, load_master_key
from vigil.store.evidence.retention import (
    HoldPolicy,
    active_holds,
    place_preservation_hold,
    place_report_hold,
    purge_expired,
    release_hold,
)
from vigil.store.evidence.vault import EvidenceVault, sweep_orphans

__all__ = [
    "EvidenceBackend",
    "EvidenceBlobMissing",
    "EvidenceError",
    "EvidenceNotFound",
    "EvidenceShredded",
    "EvidenceTampered",
    "EvidenceTooLarge",
    "EvidenceUnderHold",
    "EvidenceVault",
    "HoldPolicy",
    "LocalEvidenceBackend",
    "MasterKey",
    "MasterKeyMissing",
    "StoredBlob",
    "WrongMasterKey",
    "active_holds",
    "load_master_key",
    "place_preservation_hold",
    "place_report_hold",
    "purge_expired",
    "release_hold",
    "sweep_orphans",
]
