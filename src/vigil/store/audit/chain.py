"""How a record is hashed: SHA-256 over sorted-key JSON of its fields and the previous hash.

Every value is reduced to a JSON-native form whose text is the same whichever backend stored
it, so a record read back from SQLite or PostgreSQL hashes to what was computed at append.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vigil.store.errors import StoreError
from vigil.store.models.audit import GENESIS_HASH

HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "prev_hash",
)
# Detail keys that suggest a credential: the log is read by auditors, so none may hold one.
_SECRET_WORDS = ("password", "passphrase", "secret", "token", "private_key", "credential")

__all__ = ["GENESIS_HASH", "HASHED_FIELDS", "SecretInAuditDetails", "clean_details", "record_hash"]


class SecretInAuditDetails(StoreError, ValueError):
    """Audit details named something that looks like a credential."""


def record_hash(fields: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a record's HASHED_FIELDS (``fields`` may hold more)."""
    document = {name: _canonical(fields[name]) for name in HASHED_FIELDS}
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # Both backends keep microseconds; the offset is fixed so the text is too.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain value
    return value


def clean_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """``details`` as the database will hand it back (plain JSON types), refusing secrets."""
    plain: dict[str, Any] = json.loads(json.dumps(dict(details or {}), allow_nan=False))
    _refuse_secrets(plain)
    return plain


def _refuse_secrets(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise SecretInAuditDetails(f"audit details must not hold credentials (key {key!r})")
            _refuse_secrets(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_secrets(item)
