"""What a backlog scan reads: objects named by where they live and which version they are.

A source (a local tree, an S3 prefix, an inventory manifest) lists :class:`ObjectRef` items and
reads one object's bytes, bounded. Its listing never raises for one bad entry: a folder that
cannot be listed or a malformed inventory row is an :class:`ObjectError` item in the same
stream, so the scan records it and goes on. A source that cannot be listed (a missing bucket,
refused credentials, an unreadable manifest, a listing page that still fails after retries)
raises :class:`SourceError` instead: an error row would let the job finish with objects never
seen, while a failed job says so and resumes from its checkpoint once the cause is fixed.

A source that can start its listing part way (S3: ``StartAfter``, ``KeyMarker``) is also a
:class:`ResumableSource`: a resumed job asks it for the objects after its checkpoint instead
of listing, and skipping, everything it already finished (see ``chunks.resumed_listing``).

The identity of an object includes its version (the S3 version id, else the ETag, else a
file's size and modification time): a re-run of the same objects writes no new rows, and an
object overwritten since is a new object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from vigil.screening.backlog.throttle import Throttle

FILE_SOURCE = "file"
S3_SOURCE = "s3"
READ_CHUNK_BYTES = 1 << 20  # reads stream in pieces of this size, counting as they go


@dataclass(frozen=True, slots=True)
class ObjectRef:
    source: str  # FILE_SOURCE or S3_SOURCE
    bucket: str  # the bucket's name; "" for local files
    key: str  # the object's key, or the file's absolute path
    version: str  # S3 version id, else ETag, else for files f"{size}:{mtime_ns}"
    size: int | None  # as listed; None when the listing does not say

    @property
    def identity(self) -> str:
        return f"{self.source}://{self.bucket}/{self.key}#{self.version}"


@dataclass(frozen=True, slots=True)
class ObjectError:
    """An entry the listing could not turn into an object, in the place the object would be."""

    source: str
    bucket: str
    key: str  # the object's key or path, or the prefix or manifest file that failed
    reason: str  # a short sentence for people, naming no credentials

    @property
    def identity(self) -> str:
        return f"{self.source}://{self.bucket}/{self.key}#error"


class SourceError(Exception):
    """The source cannot be listed at all: missing bucket, refused credentials, bad manifest."""


class ReadProblem(StrEnum):
    TOO_LARGE = "too_large"  # by its listed size, its current size, or bytes counted
    MISSING = "missing"  # deleted since it was listed, or never there
    CHANGED = "changed"  # overwritten since it was listed: another version, not this one
    DENIED = "denied"
    UNREACHABLE = "unreachable"  # the store did not answer: connection refused, timeouts
    UNREADABLE = "unreadable"  # anything else


class ObjectReadError(Exception):
    """One object could not be read; the scan records it as that object's error row."""

    def __init__(self, problem: ReadProblem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail


class ObjectSource(Protocol):
    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        """Every object, in a stable order; a bad entry is an ObjectError item."""
        ...

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        """The object's bytes, at most ``max_bytes``; raises ObjectReadError."""
        ...

    def describe(self) -> str:
        """What was listed, e.g. ``s3://bucket/prefix``: the run key a job resumes by."""
        ...


@runtime_checkable
class ResumableSource(ObjectSource, Protocol):
    """A source whose listing can start after a key, without a request for the keys before.

    Only a source whose listing is in key order (by code point, which is S3's UTF-8 byte
    order) can be one: "after the checkpoint" must mean "not yet listed by the finished
    chunks". A local tree is not (its walk is sorted per folder, and which of two links to
    one folder is walked depends on what came before); a manifest is a fixed file, where
    skipping by count costs no request and is checked (``chunks.after_checkpoint``).
    """

    def objects_after(self, checkpoint: str) -> Iterator[ObjectRef | ObjectError]:
        """The objects whose keys sort after ``checkpoint``, in the order of ``objects()``.
        The checkpoint need not exist any more: a deleted object does not stop a resume."""
        ...


def too_large(size: int, max_bytes: int) -> ObjectReadError:
    return ObjectReadError(ReadProblem.TOO_LARGE, f"{size} bytes, over the {max_bytes}-byte limit")


def check_listed_size(ref: ObjectRef, max_bytes: int) -> None:
    """Refuse before any request when the listing already says the object is too large."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    if ref.size is not None and ref.size > max_bytes:
        raise too_large(ref.size, max_bytes)


def read_bounded(
    read_chunk: Callable[[int], bytes], max_bytes: int, throttle: Throttle | None
) -> bytes:
    """A whole stream's bytes, at most ``max_bytes`` (see :func:`stream_bounded`)."""
    return b"".join(stream_bounded(read_chunk, max_bytes, throttle))


def stream_bounded(
    read_chunk: Callable[[int], bytes], max_bytes: int, throttle: Throttle | None
) -> Iterator[bytes]:
    """A stream's chunks to its end, refused as soon as it passes ``max_bytes``: a size that
    lied (or an object that grew) costs at most one chunk over the limit, never the object."""
    total = 0
    while True:
        chunk = read_chunk(min(READ_CHUNK_BYTES, max_bytes - total + 1))
        if not chunk:
            return
        total += len(chunk)
        if throttle is not None:
            throttle.acquire(request=0, nbytes=len(chunk))
        if total > max_bytes:
            raise ObjectReadError(
                ReadProblem.TOO_LARGE, f"more than {max_bytes} bytes read, over the limit"
            )
        yield chunk
