"""The security audit log: every security-relevant act, append-only and hash-chained.

- ``chain``: the canonical serialisation and SHA-256 that link each record to the previous one;
- ``log``: ``AuditLog``, which appends (serialised on the chain head's lock) and reads;
- ``verification``: ``verify_chain``, which finds the first record that breaks the chain;
- ``actor``: ``checked_actor``, the one check of the name a record gives its actor.
See docs/audit.md for what is recorded and what the chain can and cannot detect.
"""

from vigil.store.audit.actor import checked_actor
from vigil.store.audit.chain import GENESIS_HASH, SecretInAuditDetails, record_hash
from vigil.store.audit.log import AuditLog
from vigil.store.audit.verification import ChainBreak, ChainReport, verify_chain
from vigil.store.models.audit import MAX_ACTOR_CHARS, AuditAction, AuditRecord

__all__ = [
    "GENESIS_HASH",
    "MAX_ACTOR_CHARS",
    "AuditAction",
    "AuditLog",
    "AuditRecord",
    "ChainBreak",
    "ChainReport",
    "SecretInAuditDetails",
    "checked_actor",
    "record_hash",
    "verify_chain",
]
