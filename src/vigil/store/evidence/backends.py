"""Where ciphertext lives. Blobs are named by random ids, never by a content hash (a hash as a
file name would let anyone holding a hash list see which known images are stored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vigil.core.files import sync_directory, write_atomically
from vigil.core.private_files import private_directory
from vigil.store.evidence.errors import EvidenceBlobMissing

if TYPE_CHECKING:
    from vigil.core.settings import Settings

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")
_TEMP_PREFIX = ".incoming-"


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    modified_at: datetime


class EvidenceBackend(Protocol):
    """Ciphertext storage: LocalEvidenceBackend here, S3EvidenceBackend in s3_backend."""

    def write(self, blob_id: str, ciphertext: bytes) -> None:
        """Store durably and atomically: afterwards the blob is complete or absent."""

    def read(self, blob_id: str) -> bytes: ...

    def delete(self, blob_id: str) -> None:
        """Remove the blob; no error if it is already gone."""

    def blobs(self) -> Iterator[StoredBlob]: ...

    def discard_incomplete(self, before: datetime) -> int:
        """Remove writes interrupted before ``before``; returns how many."""


def backend_from_settings(settings: Settings) -> EvidenceBackend:
    """The backend ``evidence.backend`` names."""
    if settings.evidence.backend == "s3":
        # Imported here so that boto3 is needed only by those who chose S3.
        from vigil.store.evidence.s3_backend import S3EvidenceBackend

        return S3EvidenceBackend.from_settings(settings.evidence)
    return LocalEvidenceBackend(settings.evidence_dir)


def check_blob_id(blob_id: str) -> str:
    # Ids become path components: anything but our own format could escape the directory.
    if not _BLOB_ID.fullmatch(blob_id):
        raise ValueError(f"invalid evidence blob id {blob_id!r}")
    return blob_id


class LocalEvidenceBackend:
    """Blobs as files under ``directory/<2 hex>/<id>``, private to the Vigil user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, blob_id: str) -> Path:
        check_blob_id(blob_id)
        return self.directory / blob_id[:2] / blob_id

    def write(self, blob_id: str, ciphertext: bytes) -> None:
        target = self._path(blob_id)
        private_directory(target.parent)  # the evidence folder too, not only <2 hex>
        # A 0600 temporary file that only ever receives ciphertext, swept up by
        # discard_incomplete if a crash leaves it.
        write_atomically(target, ciphertext, temporary_prefix=_TEMP_PREFIX)

    def read(self, blob_id: str) -> bytes:
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise EvidenceBlobMissing(f"evidence blob {blob_id} is missing") from None

    def delete(self, blob_id: str) -> None:
        path = self._path(blob_id)
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            sync_directory(path.parent)

    def blobs(self) -> Iterator[StoredBlob]:
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("??/*"):
            if _BLOB_ID.fullmatch(path.name) and path.is_file():
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                yield StoredBlob(path.name, modified)

    def discard_incomplete(self, before: datetime) -> int:
        removed = 0
        for path in self.directory.glob(f"??/{_TEMP_PREFIX}*"):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
