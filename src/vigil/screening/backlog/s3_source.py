"""A bucket and prefix in an S3-compatible object store as a backlog source.

The client comes from boto3's standard configuration: credentials from the environment, the
profile or the instance role, the endpoint from ``AWS_ENDPOINT_URL`` (MinIO, Ceph, R2...);
Vigil's own configuration holds neither. Retries and timeouts are bounded, so an unreachable
store fails a request in seconds, never hangs a scan.

Listing: ``ListObjectsV2`` page by page, in the store's key order. The prefix is S3's: a string
prefix, not a folder (``photos/2024`` also lists ``photos/2024-01/``). In a versioned bucket
the current version of each object is listed (``ListObjectVersions``, delete markers skipped)
so that each object is read as the version that was listed; where the caller may not ask
whether the bucket is versioned, ETags are used.

Resuming: a job's checkpoint is the last key of its finished chunks, and the listing starts
after it (``objects_after``): ``ListObjectsV2`` with ``StartAfter``, ``ListObjectVersions``
with ``KeyMarker`` alone, which starts at the first version of the next key. All versions
of the checkpoint's key are passed over, including its current one, which a finished chunk
holds; every later key's versions are all listed, so its current one is neither skipped nor
listed twice. No request is made for the keys before the checkpoint, and the checkpoint
need not exist any more.

An object's version is its version id, else its ETag exactly as S3 writes it, in double quotes
(``"9b2cf5..."``); a version id never contains a quote, so a read knows which it has and
asks for that version, or for that ETag with ``If-Match``: an object overwritten since the
listing is refused as ``changed``, never fingerprinted under the old identity.

Failures: listing raises :class:`SourceError` (missing bucket, refused credentials,
unreachable store, a page that still fails after the retries); a read raises
:class:`ObjectReadError` with a short reason. No botocore exception leaves this module.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from vigil.screening.backlog.objects import (
    S3_SOURCE,
    ObjectError,
    ObjectReadError,
    ObjectRef,
    ReadProblem,
    SourceError,
    check_listed_size,
    stream_bounded,
    too_large,
)
from vigil.screening.backlog.throttle import Throttle

MAX_ATTEMPTS = 3  # botocore's "standard" retries: the first attempt and two more
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 1000  # keys per listing request; S3's maximum

# Wider than AWS's rules for new buckets (3-63 lowercase): old buckets and other stores allow
# capitals and underscores. What matters is that the name cannot be empty, a path or a URL.
_BUCKET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound", "NoSuchBucket"})
_CHANGED = frozenset({"PreconditionFailed", "412"})
_DENIED = frozenset(
    {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
    | {"ExpiredToken", "InvalidToken", "AllAccessDisabled"}
)
_VERSIONING_UNKNOWN = frozenset({"AccessDenied", "403", "NotImplemented", "501"})
_ARCHIVED = frozenset({"InvalidObjectState"})  # in Glacier: restore it first
_UNREACHABLE = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
    | {"ProxyConnectionError", "ConnectionError"}
)


def s3_client() -> Any:
    """A client from the standard configuration, with bounded retries and timeouts."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise SourceError("reading from S3 needs boto3: install vigil[s3]") from None
    config = Config(
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    try:
        return boto3.session.Session().client("s3", config=config)
    except Exception as exc:  # a bad profile or endpoint in the configuration
        raise SourceError(f"cannot set up the S3 client: {_short(exc)}") from None


class S3Source:
    """Objects under ``prefix`` in ``bucket``; the client is made on first use."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        throttle: Throttle | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        if not _BUCKET_NAME.fullmatch(bucket):
            raise SourceError(f"not a bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = prefix
        self.throttle = throttle
        self.page_size = page_size
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def __getstate__(self) -> dict[str, Any]:
        # A boto3 client does not pickle: a copy sent to another process makes its own.
        return {**self.__dict__, "_client": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        return self._listing(after=None)

    def objects_after(self, checkpoint: str) -> Iterator[ObjectRef | ObjectError]:
        return self._listing(after=checkpoint)

    def _listing(self, after: str | None) -> Iterator[ObjectRef | ObjectError]:
        if self._versioned():
            start = {"KeyMarker": after} if after else {}
            for entry in self._pages("list_object_versions", "Versions", start):
                if entry.get("IsLatest", True):
                    yield _ref(self.bucket, entry)
        else:
            start = {"StartAfter": after} if after else {}
            for entry in self._pages("list_objects_v2", "Contents", start):
                yield _ref(self.bucket, entry)

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        return read_object(self.client, ref, max_bytes, self.throttle)

    def _versioned(self) -> bool:
        from botocore.exceptions import ClientError

        self._request()
        with _listing_errors(self.describe()):
            try:
                answer = self.client.get_bucket_versioning(Bucket=self.bucket)
            except ClientError as exc:
                if _code(exc) not in _VERSIONING_UNKNOWN:
                    raise
                return False  # may read but not ask, or a store without versioning: ETags
        return answer.get("Status") in ("Enabled", "Suspended")

    def _pages(self, operation: str, field: str, start: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every page's entries; ``start`` goes into the first request (the paginator then
        follows the store's own markers)."""
        paginator = self.client.get_paginator(operation)
        pages = iter(
            paginator.paginate(
                Bucket=self.bucket,
                Prefix=self.prefix,
                PaginationConfig={"PageSize": self.page_size},
                **start,
            )
        )
        while True:
            self._request()
            with _listing_errors(self.describe()):
                page = next(pages, None)
            if page is None:
                return
            yield from page.get(field, [])

    def _request(self) -> None:
        if self.throttle is not None:
            self.throttle.acquire(request=1)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``; the key is kept exactly as given
    (``..`` and ``//`` are characters of a key, not path steps)."""
    if not uri.startswith("s3://"):
        raise SourceError(f"not an s3:// address: {uri!r}")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not _BUCKET_NAME.fullmatch(bucket):
        raise SourceError(f"{uri!r}: the bucket name is missing or not a bucket name")
    return bucket, key


def read_object(client: Any, ref: ObjectRef, max_bytes: int, throttle: Throttle | None) -> bytes:
    """One object's bytes, bounded, in any bucket: S3 sources and manifests read alike."""
    return b"".join(object_chunks(client, ref, max_bytes, throttle))


def object_chunks(
    client: Any, ref: ObjectRef, max_bytes: int, throttle: Throttle | None
) -> Iterator[bytes]:
    """One object's bytes in chunks, bounded: for files too large to hold (inventory data)."""
    if ref.source != S3_SOURCE:
        raise ValueError(f"not an S3 object: {ref.identity}")
    check_listed_size(ref, max_bytes)
    if throttle is not None:
        throttle.acquire(request=1)
    with _read_errors():
        response = client.get_object(**object_request(ref))
        body = response["Body"]
        try:
            length = response.get("ContentLength")
            if isinstance(length, int) and length > max_bytes:
                raise too_large(length, max_bytes)  # the listing was stale or silent
            yield from stream_bounded(body.read, max_bytes, throttle)
        finally:
            body.close()


def object_request(ref: ObjectRef) -> dict[str, str]:
    """GetObject's arguments for exactly the version that was listed."""
    request = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version.startswith('"'):
        request["IfMatch"] = ref.version
    elif ref.version:
        request["VersionId"] = ref.version
    return request


def etag_version(etag: str) -> str:
    """An ETag as S3 writes it, in double quotes (inventories leave them off)."""
    bare = etag.strip().strip('"')
    return f'"{bare}"' if bare else ""


def _ref(bucket: str, entry: dict[str, Any]) -> ObjectRef | ObjectError:
    key = entry.get("Key")
    if not isinstance(key, str):
        return ObjectError(S3_SOURCE, bucket, "", "a listing entry without a key")
    version = entry.get("VersionId")
    if not version or version == "null":  # "null": written before versioning was enabled
        version = etag_version(str(entry.get("ETag", "")))
    size = entry.get("Size")
    return ObjectRef(S3_SOURCE, bucket, key, version, size if isinstance(size, int) else None)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(code or status or type(exc).__name__)


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _problem(exc: Exception) -> tuple[ReadProblem, str]:
    code = _code(exc)
    if code in _MISSING:
        return ReadProblem.MISSING, f"no such object or version ({code})"
    if code in _CHANGED:
        return ReadProblem.CHANGED, "the object changed since it was listed"
    if code in _DENIED or type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        return ReadProblem.DENIED, f"access denied ({code})"
    if code in _ARCHIVED:
        return ReadProblem.UNREADABLE, "archived: restore it from Glacier first"
    if code in _UNREACHABLE or isinstance(exc, OSError):
        return ReadProblem.UNREACHABLE, f"the object store did not answer ({code})"
    return ReadProblem.UNREADABLE, f"read failed ({code})"


@contextlib.contextmanager
def _read_errors() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError
    from urllib3.exceptions import HTTPError

    try:
        yield
    # OSError and urllib3's errors: the socket failing mid-body, below botocore's wrapping.
    except (BotoCoreError, ClientError, HTTPError, OSError) as exc:
        problem, detail = _problem(exc)
        raise ObjectReadError(problem, detail) from None


@contextlib.contextmanager
def _listing_errors(where: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, OSError) as exc:
        problem, _ = _problem(exc)
        code = _code(exc)
        if code == "NoSuchBucket":
            message = f"{where}: the bucket does not exist"
        elif problem is ReadProblem.DENIED:
            message = f"{where}: access denied ({code}); check the credentials and the policy"
        elif problem is ReadProblem.UNREACHABLE:
            message = f"{where}: the object store did not answer ({code}); check AWS_ENDPOINT_URL"
        else:
            message = f"{where}: listing failed ({code})"
        raise SourceError(message) from None
