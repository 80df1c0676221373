"""Translating the database's change feed into the match index's changes and list settings.

Pure functions: no database, no files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigil.fingerprint.video import FrameHash
from vigil.index.changes import Change, Kind
from vigil.store.lists.change_feed import EntryChange, ListChange
from vigil.store.models import EntryStatus, HashList, SignalType

# Frames without a stored time: lists are sampled at about 1 frame per second, so the
# position stands in for the time (segment offsets only).
SECONDS_PER_FRAME = 1.0
# Frames of unknown quality were kept by whoever listed them; do not let vPDQ drop them.
UNKNOWN_FRAME_QUALITY = 100


@dataclass(frozen=True, slots=True)
class ListSettings:
    """What matching needs to know about one list."""

    list_id: int
    name: str
    enabled: bool
    pdq_distance: int
    min_quality: int
    is_allow_list: bool

    @classmethod
    def of_change(cls, change: ListChange) -> ListSettings:
        return cls(
            change.list_id,
            change.name,
            change.enabled,
            change.pdq_distance,
            change.min_quality,
            change.is_allow_list,
        )

    @classmethod
    def of_row(cls, row: HashList) -> ListSettings:
        return cls(
            row.id, row.name, row.enabled, row.pdq_distance, row.min_quality, row.is_allow_list
        )


FrameTimes = Mapping[int, Sequence[float | None]]  # entry id -> time of each frame


def index_change(entry: EntryChange, times: FrameTimes | None = None) -> Change:
    """ACTIVE entries are upserted; any other status takes the entry out of the index.
    ``times``: the frames' time offsets, which the feed does not carry."""
    kind = Kind(entry.signal_type.value)
    if entry.status is not EntryStatus.ACTIVE:
        return Change.remove(entry.seq, kind, entry.entry_id)
    if entry.signal_type is SignalType.VIDEO_PDQ:
        known = (times or {}).get(entry.entry_id, ())
        return Change.add_video(
            entry.seq, entry.entry_id, entry.list_id, video_frames(entry, known)
        )
    return Change.add(entry.seq, kind, entry.entry_id, entry.list_id, entry.signal)


def video_frames(entry: EntryChange, times: Sequence[float | None]) -> tuple[FrameHash, ...]:
    return tuple(
        FrameHash(
            _time(times, position),
            frame.pdq,
            UNKNOWN_FRAME_QUALITY if frame.quality is None else frame.quality,
        )
        for position, frame in enumerate(entry.frames)
    )


def _time(times: Sequence[float | None], position: int) -> float:
    known = times[position] if position < len(times) else None
    return position * SECONDS_PER_FRAME if known is None else known
