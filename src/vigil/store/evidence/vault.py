"""EvidenceVault: seal media into the backend, read them back, destroy them for good.

Order of operations is what makes it crash-safe. Storing writes the ciphertext (temp file,
fsync, atomic rename) before committing the row, so a crash leaves at worst an orphan blob
that nobody can decrypt (its wrapped key was never committed) and that sweep_orphans
removes; never a row without its blob and never plaintext on disk. Shredding commits the
key's destruction before removing the blob, for the same reason.

Every public method commits its own work on the given session.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import uuid
from datetime import datetime, timedelta
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.store.evidence.backends import EvidenceBackend, backend_from_settings
from vigil.store.evidence.errors import (
    EvidenceError,
    EvidenceNotFound,
    EvidenceShredded,
    EvidenceTampered,
    EvidenceTooLarge,
    EvidenceUnderHold,
    WrongMasterKey,
)
from vigil.store.evidence.keys import NONCE_BYTES, MasterKey, load_master_key
from vigil.store.evidence.retention import active_holds
from vigil.store.models import EvidenceItem, EvidencePurge, utcnow

ALGORITHM = "AES-256-GCM"
FORMAT_VERSION = 1
DEFAULT_ORPHAN_AGE = timedelta(hours=1)  # longer than any put() takes from write to commit
_DATA_CONTEXT = b"vigil-evidence-data/v1:"

log = logging.getLogger(__name__)


class EvidenceVault:
    """Encrypted evidence: one random AES-256-GCM data key per item, wrapped by the master key."""

    def __init__(
        self,
        backend: EvidenceBackend,
        master_key: MasterKey,
        *,
        max_bytes: int,
        retention: timedelta,
    ) -> None:
        self.backend = backend
        self.master_key = master_key
        self.max_bytes = max_bytes
        self.retention = retention

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceVault:
        """The configured vault and backend; raises MasterKeyMissing when no key is found."""
        return cls(
            backend_from_settings(settings),
            load_master_key(settings),
            max_bytes=settings.evidence.max_bytes,
            retention=timedelta(days=settings.evidence.retention_days),
        )

    def seal(
        self,
        content: bytes | BinaryIO,
        *,
        now: datetime | None = None,
        retain_until: datetime | None = None,
        retention_policy: str | None = None,
        media_type: str | None = None,
        reference: str | None = None,
    ) -> EvidenceItem:
        """Encrypt and durably write the blob; the returned row is in no session yet."""
        plaintext = self._bounded(content)
        now = now or utcnow()
        item_id, data_key, data_nonce = uuid.uuid4().hex, AESGCM.generate_key(256), _nonce()
        ciphertext = AESGCM(data_key).encrypt(data_nonce, plaintext, _data_aad(item_id))
        key_nonce, wrapped_key = self.master_key.wrap(data_key, item_id)
        blob_id = secrets.token_hex(16)
        self.backend.write(blob_id, ciphertext)
        return EvidenceItem(
            id=item_id,
            blob_id=blob_id,
            algorithm=ALGORITHM,
            format_version=FORMAT_VERSION,
            master_key_id=self.master_key.key_id,
            wrapped_key=wrapped_key,
            key_nonce=key_nonce,
            data_nonce=data_nonce,
            size=len(plaintext),
            sha256=hashlib.sha256(plaintext).hexdigest(),
            media_type=media_type,
            reference=reference,
            created_at=now,
            retain_until=retain_until or now + self.retention,
            retention_policy=retention_policy or f"default {self.retention.days} days",
        )

    def put(
        self,
        session: Session,
        content: bytes | BinaryIO,
        *,
        now: datetime | None = None,
        retain_until: datetime | None = None,
        retention_policy: str | None = None,
        media_type: str | None = None,
        reference: str | None = None,
    ) -> EvidenceItem:
        """Store ``content`` (see :meth:`seal`) and commit its row."""
        item = self.seal(
            content,
            now=now,
            retain_until=retain_until,
            retention_policy=retention_policy,
            media_type=media_type,
            reference=reference,
        )
        session.add(item)
        session.commit()
        return item

    def get(self, session: Session, item_id: str) -> bytes:
        """The decrypted content; raises a domain error for anything but an intact item."""
        item = _load(session, item_id)
        if item.wrapped_key is None or item.key_nonce is None:
            raise EvidenceShredded(f"evidence item {item_id} was shredded at {item.shredded_at}")
        _check_format(item)
        data_key = self._unwrap(item, item.key_nonce, item.wrapped_key)
        ciphertext = self.backend.read(item.blob_id)
        try:
            plaintext = AESGCM(data_key).decrypt(item.data_nonce, ciphertext, _data_aad(item.id))
        except InvalidTag:
            raise EvidenceTampered(
                f"evidence item {item_id}: ciphertext failed authentication (modified, "
                "truncated or belonging to another item)"
            ) from None
        if hashlib.sha256(plaintext).hexdigest() != item.sha256:
            raise EvidenceTampered(f"evidence item {item_id}: digest differs from its record")
        return plaintext

    def shred(
        self,
        session: Session,
        item_id: str,
        *,
        actor: str,
        reason: str,
        now: datetime | None = None,
    ) -> EvidencePurge:
        """Destroy the item's data key and blob, recording who and why. Commits.

        Raises EvidenceUnderHold, without changing anything, while a legal hold is active.
        """
        now = now or utcnow()
        item = _load(session, item_id, lock=True)
        if item.shredded_at is not None:
            session.rollback()
            raise EvidenceShredded(f"evidence item {item_id} was shredded at {item.shredded_at}")
        holds = active_holds(session, item_id, now)
        if holds:
            session.rollback()
            described = ", ".join(
                f"#{hold.id} {hold.kind} until {hold.expires_at}" for hold in holds
            )
            raise EvidenceUnderHold(
                f"evidence item {item_id} is under legal hold ({described}); release the "
                "holds or wait for them to expire before destroying it"
            )
        purge = EvidencePurge(
            item_id=item_id,
            purged_at=now,
            actor=actor,
            reason=reason,
            retain_until=item.retain_until,
        )
        item.wrapped_key, item.key_nonce, item.shredded_at = None, None, now
        session.add(purge)
        session.commit()
        self.backend.delete(item.blob_id)  # a failure here leaves an undecryptable orphan
        log.info("evidence item %s shredded by %s: %s", item_id, actor, reason)
        return purge

    def _bounded(self, content: bytes | BinaryIO) -> bytes:
        data = content if isinstance(content, bytes) else content.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise EvidenceTooLarge(
                f"evidence is larger than evidence.max_bytes ({self.max_bytes} bytes)"
            )
        return data

    def _unwrap(self, item: EvidenceItem, nonce: bytes, wrapped: bytes) -> bytes:
        try:
            return self.master_key.unwrap(nonce, wrapped, item.id)
        except InvalidTag:
            if item.master_key_id != self.master_key.key_id:
                raise WrongMasterKey(
                    f"evidence item {item.id} was sealed under master key "
                    f"{item.master_key_id}, but key {self.master_key.key_id} is loaded"
                ) from None
            raise EvidenceTampered(
                f"evidence item {item.id}: wrapped data key failed authentication"
            ) from None


def sweep_orphans(
    session: Session,
    vault: EvidenceVault,
    *,
    now: datetime | None = None,
    older_than: timedelta = DEFAULT_ORPHAN_AGE,
) -> list[str]:
    """Delete blobs no live item points at (crash before commit, failed delete after
    shredding) and interrupted writes. Recent blobs are spared: they may belong to a put()
    still between its write and its commit. Returns the deleted blob ids."""
    cutoff = (now or utcnow()) - older_than
    live = set(
        session.scalars(select(EvidenceItem.blob_id).where(EvidenceItem.shredded_at.is_(None)))
    )
    session.rollback()  # end the read transaction; nothing else here needs it
    orphans = [
        blob.blob_id
        for blob in vault.backend.blobs()
        if blob.blob_id not in live and blob.modified_at < cutoff
    ]
    for blob_id in orphans:
        vault.backend.delete(blob_id)
    vault.backend.discard_incomplete(cutoff)
    if orphans:
        log.info("removed %d orphan evidence blobs", len(orphans))
    return orphans


def _load(session: Session, item_id: str, *, lock: bool = False) -> EvidenceItem:
    # The row lock (PostgreSQL) serialises shredding against a hold being placed meanwhile.
    item = session.get(EvidenceItem, item_id, with_for_update=lock, populate_existing=lock)
    if item is None:
        raise EvidenceNotFound(f"no evidence item {item_id}")
    return item


def _check_format(item: EvidenceItem) -> None:
    if item.algorithm != ALGORITHM or item.format_version != FORMAT_VERSION:
        raise EvidenceError(
            f"evidence item {item.id} uses {item.algorithm} v{item.format_version}, "
            "which this Vigil cannot read"
        )


def _data_aad(item_id: str) -> bytes:
    # Binding the ciphertext to its item id: a blob moved under another row fails to decrypt.
    return _DATA_CONTEXT + item_id.encode("ascii")


def _nonce() -> bytes:
    return os.urandom(NONCE_BYTES)
