"""What can go wrong with evidence; every message is fit for an operator and holds no secret."""

from __future__ import annotations

from vigil.core.errors import ConfigurationError
from vigil.store.errors import StoreError


class EvidenceError(StoreError):
    """Base class for the encrypted evidence store's errors."""


class MasterKeyMissing(EvidenceError, ConfigurationError):
    """No usable master key is configured; the evidence store refuses to start without one."""


class WrongMasterKey(EvidenceError):
    """The item was sealed under a different master key than the one loaded."""


class EvidenceTampered(EvidenceError):
    """Authentication failed: the ciphertext, its wrapped key or its row was modified or swapped."""


class EvidenceNotFound(EvidenceError):
    """No evidence item has this id."""


class EvidenceBlobMissing(EvidenceError):
    """The row exists but its ciphertext is gone from the backend."""


class EvidenceShredded(EvidenceError):
    """The item's data key was destroyed; its content can never be read again."""


class EvidenceUnderHold(EvidenceError):
    """An active legal hold forbids destroying the item."""


class EvidenceTooLarge(EvidenceError, ValueError):
    """The media exceed the configured ``evidence.max_bytes``."""
