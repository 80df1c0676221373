"""A reader's ListRecord made ready for the list_entries table, or the reason it cannot be.

The readers have validated the hashes; what is left is what only the store knows: the
column sizes, which signal types the store (and this import) accepts, and the key a video
entry is stored under.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import String

from vigil.lists.formats import ListRecord, RecordError, VideoFrame
from vigil.store.errors import InvalidSignal
from vigil.store.models import ListEntry, SignalType, frame_set_signal

METADATA_FIELDS = (
    "external_id",
    "classification",
    "series",
    "victim_identified",
    "note",
    "member",
    "tags",
)


def _column_length(name: str) -> int:
    column_type = ListEntry.__table__.c[name].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


# The readers allow 256 characters; the columns hold fewer, and PostgreSQL would refuse
# the whole batch over one long value, so such records are reported here instead.
_TEXT_LIMITS = {
    name: _column_length(name) for name in ("external_id", "classification", "series", "member")
}
MAX_TAGS = 64  # an exchange's labels on one entry
MAX_TAG_CHARS = 255


class EntryKey(NamedTuple):
    signal_type: SignalType
    signal: str


class Metadata(NamedTuple):
    external_id: str | None
    classification: str | None
    series: str | None
    victim_identified: bool | None
    note: str | None
    member: str | None = None  # provenance from a hash exchange
    tags: tuple[str, ...] | None = None  # None (not ``()``) when the source gives none

    @classmethod
    def from_row(cls, values: Sequence[object]) -> Metadata:
        """The metadata columns as the database hands them back (tags as a JSON list)."""
        fields = list(values)
        tags = fields[-1]
        fields[-1] = tuple(tags) if isinstance(tags, list) else None
        return cls(*fields)  # type: ignore[arg-type]

    def merged_with(self, newer: Metadata) -> Metadata:
        """``newer``'s values where it has one: a source that omits a field (plain text
        has none) does not wipe what another import of the same hash supplied."""
        return Metadata._make(
            new if new is not None else old for old, new in zip(self, newer, strict=True)
        )


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One record to store. ``key`` is None for a deletion by external id alone."""

    key: EntryKey | None
    metadata: Metadata
    deleted: bool
    position: int
    frames: tuple[VideoFrame, ...] = ()


def entry_record(
    record: ListRecord, allowed: Collection[SignalType] | None = None
) -> EntryRecord | RecordError:
    try:
        key = _key(record, allowed)
        metadata = _metadata(record)
    except _Rejected as exc:
        return RecordError(record.position, str(exc))
    frames = record.signal if isinstance(record.signal, tuple) else ()
    return EntryRecord(key, metadata, record.deleted, record.position, frames)


class _Rejected(Exception):
    pass


def _key(record: ListRecord, allowed: Collection[SignalType] | None) -> EntryKey | None:
    if record.signal_type is None or record.signal is None:
        return None  # a deletion by external id; ListRecord guarantees it has one
    try:
        signal_type = SignalType(str(record.signal_type))
    except ValueError:
        raise _Rejected(f"signal type {record.signal_type} cannot be stored") from None
    if allowed is not None and signal_type not in allowed and not record.deleted:
        names = ", ".join(sorted(str(kind) for kind in allowed))
        raise _Rejected(f"signal type {signal_type} is not accepted here (only {names})")
    if isinstance(record.signal, tuple):
        try:
            return EntryKey(signal_type, frame_set_signal(frame.pdq for frame in record.signal))
        except InvalidSignal as exc:
            raise _Rejected(str(exc)) from None
    return EntryKey(signal_type, record.signal)


def _metadata(record: ListRecord) -> Metadata:
    metadata = Metadata(
        record.external_id,
        record.classification,
        record.series,
        record.victim_identified,
        record.note,
        record.member,
        record.tags or None,
    )
    if metadata.tags is not None and (
        len(metadata.tags) > MAX_TAGS or max(map(len, metadata.tags)) > MAX_TAG_CHARS
    ):
        raise _Rejected(f"more than {MAX_TAGS} tags, or a tag longer than {MAX_TAG_CHARS}")
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(metadata, name)
        if value is not None and len(value) > limit:
            raise _Rejected(f"{name} longer than {limit} characters")
    return metadata
