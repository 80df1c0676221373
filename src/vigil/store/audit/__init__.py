"""The security audit log: every security-relevant act, append-only and hash-chained.

- ``chain``: the canonical serialisation and SHA-256 that link each record to the previous one;
- ``log``: ``AuditLog``, which appends (serialised on the chain head's lock) and reads;
- ``verification``: ``verify_chain``, which finds the first record that breaks the chain.
See docs/audit.md for what is recorded and what the chain can and cannot detect.
"""

from vigil.store.audit.chain import GENESIS_HASH, SecretInAuditDetails, record_hash
from vigil.store.audit.log import AuditLog
from vigil.store.audit.verification import ChainBreak, ChainReport, verify_chain
from vigil.store.models.audit import AuditAction, AuditRecord

__all__ = [
    "GENESIS_HASH",
    "AuditAction",
    "AuditLog",
    "AuditRecord",
    "ChainBreak",
    "ChainReport",
    "SecretInAuditDetails",
    "record_hash",
    "verify_chain",
]
