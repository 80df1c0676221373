"""Where ciphertext lives. Blobs are named by random ids, never by a content hash (a hash as a
file name would let anyone holding a hash list see which known images are stored)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

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
        # mkstemp creates the file 0600; it only ever receives ciphertext.
        handle, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as temp_file:
                temp_file.write(ciphertext)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)

    def read(self, blob_id: str) -> bytes:
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise EvidenceBlobMissing(f"evidence blob {blob_id} is missing") from None

    def delete(self, blob_id: str) -> None:
        path = self._path(blob_id)
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            _fsync_directory(path.parent)

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


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; Windows cannot open directories, and does not need to.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
