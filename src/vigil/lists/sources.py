"""Where a hash list's records come from: the ``HashSource`` protocol and a local file.

A source hands out deltas: everything new since an opaque checkpoint the caller kept
from the previous fetch. A remote hash-sharing service would page through its API from
its own cursor; a local file is one snapshot whose checkpoint is its SHA-256, so fetching
an unchanged file again yields nothing. Deletions travel as records with ``deleted=True``.
Pure apart from reading the file it is given: no database, no network.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from vigil.lists.formats import (
    DEFAULT_MAX_ERRORS,
    DETECTION_BYTES,
    FormatNotRecognised,
    ListFormat,
    ReadItem,
    RecordError,
    SignalType,
    detect_format,
    read_list,
    read_vics_json,
)
from vigil.lists.formats.reading import cap_errors

_CHUNK = 1024 * 1024
_MAX_FORMAT_LABEL = 32  # the import job's ``format`` column


class SourceError(ValueError):
    """The source cannot be read as asked (unknown format, option that does not apply);
    the message is fit for the operator."""


@dataclass(frozen=True, slots=True)
class SourceDelta:
    """What changed since the checkpoint passed to ``fetch``.

    ``items`` is consumed once, in order. ``checkpoint`` is to be stored, and passed to the
    next fetch, only after every item has been applied. ``resume_key`` names this delta's
    content so an import interrupted half way can skip what it already stored (None: the
    source cannot promise the same items again). ``format_label`` says how it was read.
    """

    items: Iterator[ReadItem]
    checkpoint: str | None
    changed: bool = True
    resume_key: str | None = None
    format_label: str = ""
    version: str | None = None


class HashSource(Protocol):
    """A remote hash-sharing service or a local file that a hash list is filled from."""

    @property
    def name(self) -> str:
        """Short provenance for entries and messages (a file name, a service name)."""
        ...

    def fetch(self, checkpoint: str | None) -> SourceDelta:
        """Records since ``checkpoint`` (None: everything)."""
        ...


class LocalFileSource:
    """A list file on disk in any supported format (detected from content when not given).

    VICS files mix categories, some of them not abusive material, so they are refused
    unless ``vics_categories`` says which to keep (see docs/list-formats.md).
    """

    def __init__(
        self,
        path: Path,
        list_format: ListFormat | None = None,
        signal_type: SignalType | None = None,
        *,
        vics_categories: Collection[int] | None = None,
        max_errors: int | None = DEFAULT_MAX_ERRORS,
    ) -> None:
        self.path = Path(path)
        self._format = list_format
        self.signal_type = signal_type
        self.vics_categories = None if vics_categories is None else frozenset(vics_categories)
        self.max_errors = max_errors
        self.bytes_read = 0  # progress of the current fetch's items

    @property
    def name(self) -> str:
        return self.path.name

    def size(self) -> int:
        return self.path.stat().st_size

    def list_format(self) -> ListFormat:
        """The format given, else detected from the file's first bytes; raises SourceError."""
        if self._format is None:
            with self.path.open("rb") as stream:
                head = stream.read(DETECTION_BYTES)
            try:
                self._format = detect_format(head)
            except FormatNotRecognised as exc:
                raise SourceError(f"{self.name}: format not recognised: {exc}") from None
        return self._format

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def fetch(self, checkpoint: str | None) -> SourceDelta:
        list_format = self._checked_format()
        digest = self.sha256()
        label = format_label(list_format, self.signal_type, self.vics_categories)
        if digest == checkpoint:
            return SourceDelta(
                iter(()), checkpoint, changed=False, resume_key=digest, format_label=label
            )
        return SourceDelta(
            self._items(list_format, digest), digest, resume_key=digest, format_label=label
        )

    def _checked_format(self) -> ListFormat:
        list_format = self.list_format()
        if self.signal_type is not None and list_format is not ListFormat.PLAIN_TEXT:
            raise SourceError(
                f"a signal type applies to plain text lists only; {self.name} is {list_format}"
            )
        if list_format is ListFormat.VICS_JSON and not self.vics_categories:
            raise SourceError(
                f"{self.name} is a VICS file, whose items span categories that include "
                "non-abusive material: choose the categories to import"
            )
        return list_format

    def _items(self, list_format: ListFormat, digest: str) -> Iterator[ReadItem]:
        self.bytes_read = 0
        with self.path.open("rb") as raw:
            stream = _HashingReader(raw, self)
            buffered = io.BufferedReader(stream, _CHUNK)
            yield from self._read(buffered, list_format)
            # Readers may stop early; the digest must still cover the whole file.
            while buffered.read(_CHUNK):
                pass
        if stream.hexdigest() != digest:
            yield RecordError(0, f"{self.name} changed while it was read: import it again")

    def _read(self, stream: BinaryIO, list_format: ListFormat) -> Iterator[ReadItem]:
        if list_format is ListFormat.VICS_JSON:
            return cap_errors(
                read_vics_json(stream, categories=self.vics_categories), self.max_errors
            )
        return read_list(
            stream, list_format, signal_type=self.signal_type, max_errors=self.max_errors
        )


def format_label(
    list_format: ListFormat,
    signal_type: SignalType | None = None,
    vics_categories: Collection[int] | None = None,
) -> str:
    """How a file was read, short enough for an import job: a resumed import must read the
    file the same way, or skipping the records already done would skip the wrong ones."""
    label = str(list_format)
    if signal_type is not None:
        label += f":{signal_type}"
    if vics_categories:
        label += ":" + ",".join(str(number) for number in sorted(vics_categories))
    if len(label) > _MAX_FORMAT_LABEL:
        label = f"{list_format}:{hashlib.sha256(label.encode()).hexdigest()[:12]}"
    return label


class _HashingReader(io.RawIOBase):
    """Hashes and counts the bytes the readers pull, so the digest is of what was read."""

    def __init__(self, raw: BinaryIO, source: LocalFileSource) -> None:
        self._raw = raw
        self._source = source
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self._digest.update(data)
        self._source.bytes_read += count
        return count

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
