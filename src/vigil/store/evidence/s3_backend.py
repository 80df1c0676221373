"""Evidence ciphertext in an S3-compatible object store (AWS S3, MinIO, Ceph, R2...).

boto3 is an optional dependency (``vigil[s3]``) and is imported only when this backend is
built. Credentials come from the standard AWS chain (environment, ``~/.aws``, instance or pod
role), never from Vigil's configuration, so the config file can be shared without opening
the bucket. Objects hold ciphertext only; their keys are ``<prefix><blob id>``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from vigil.core.errors import ConfigurationError
from vigil.store.evidence.backends import StoredBlob, check_blob_id
from vigil.store.evidence.errors import EvidenceBlobMissing, EvidenceError

if TYPE_CHECKING:
    from datetime import datetime

    from vigil.core.settings import EvidenceSettings

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")
_MISSING_OBJECT = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_BUCKET = frozenset({"NoSuchBucket"})


class EvidenceStorageError(EvidenceError):
    """The object store refused or could not be reached; the message names the bucket and
    the error code, never credentials."""


class S3EvidenceBackend:
    """Blobs as objects ``<prefix><blob id>`` in one bucket."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        page_size: int = 1000,
    ) -> None:
        self.bucket = bucket
        self.prefix = normalise_prefix(prefix)
        self.page_size = page_size  # objects per ListObjectsV2 request; 1000 is S3's maximum
        self.client = client if client is not None else _s3_client(endpoint_url, region)

    @classmethod
    def from_settings(cls, evidence: EvidenceSettings) -> S3EvidenceBackend:
        if evidence.s3_bucket is None:
            raise ConfigurationError('evidence.backend "s3" needs evidence.s3_bucket')
        return cls(
            evidence.s3_bucket,
            prefix=evidence.s3_prefix,
            endpoint_url=evidence.s3_endpoint_url,
            region=evidence.s3_region,
        )

    def _key(self, blob_id: str) -> str:
        return self.prefix + check_blob_id(blob_id)

    def write(self, blob_id: str, ciphertext: bytes) -> None:
        # A single PutObject is atomic: readers see the whole object or none of it.
        with self._translated(blob_id):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(blob_id),
                Body=ciphertext,
                ContentType="application/octet-stream",
            )

    def read(self, blob_id: str) -> bytes:
        with self._translated(blob_id):
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(blob_id))
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def delete(self, blob_id: str) -> None:
        # DeleteObject succeeds for a missing key, which makes this idempotent.
        with self._translated(blob_id):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(blob_id))

    def blobs(self) -> Iterator[StoredBlob]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._translated(None):
            for page in paginator.paginate(
                Bucket=self.bucket,
                Prefix=self.prefix,
                PaginationConfig={"PageSize": self.page_size},
            ):
                for entry in page.get("Contents", []):
                    name = entry["Key"][len(self.prefix) :]
                    # Anything else under the prefix (a nested prefix, a stray upload) is not
                    # ours to list, and therefore never ours to sweep.
                    if _BLOB_ID.fullmatch(name):
                        yield StoredBlob(name, entry["LastModified"])

    def discard_incomplete(self, before: datetime) -> int:
        """Nothing to do: a PutObject that fails leaves no object behind, and this backend
        never starts multipart uploads, so no partial write can exist."""
        return 0

    @contextlib.contextmanager
    def _translated(self, blob_id: str | None) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, blob_id) from None
        except BotoCoreError as exc:
            # e.g. no credentials, endpoint unreachable; botocore's text names no secret.
            raise EvidenceStorageError(
                f"S3 bucket {self.bucket}: {exc.__class__.__name__}: {exc}"
            ) from None

    def _client_error(self, exc: Any, blob_id: str | None) -> EvidenceError:
        code = str(exc.response.get("Error", {}).get("Code", "unknown"))
        if code in _MISSING_BUCKET:
            return EvidenceStorageError(
                f"S3 bucket {self.bucket} does not exist; create it or fix evidence.s3_bucket"
            )
        if blob_id is not None and code in _MISSING_OBJECT:
            return EvidenceBlobMissing(f"evidence blob {blob_id} is missing")
        return EvidenceStorageError(f"S3 bucket {self.bucket}: request failed ({code})")


def normalise_prefix(prefix: str) -> str:
    """``"a/b"``, ``"/a/b/"`` -> ``"a/b/"``; empty stays empty (the bucket's root)."""
    stripped = prefix.strip().strip("/")
    return f"{stripped}/" if stripped else ""


def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
    except ImportError:
        raise ConfigurationError('evidence.backend "s3" needs boto3: install vigil[s3]') from None
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
