"""What the match index is built from: enabled lists with their settings, and their active
entries, read in pages.

The pages are separate statements, so on a busy database they are not one snapshot. Read
``last_committed_seq`` first and follow the change feed from there once the pages are
loaded: the feed replays every change made meanwhile, and applying it is idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.lists.change_feed import FrameSignal, last_committed_seq
from vigil.store.models import EntryFrame, EntryStatus, HashList, ListEntry, SignalType

DEFAULT_PAGE = 20_000

__all__ = [
    "MatchableEntry",
    "MatchableList",
    "enabled_lists",
    "iter_active_entries",
    "last_committed_seq",
]


@dataclass(frozen=True, slots=True)
class MatchableList:
    list_id: int
    name: str
    pdq_distance: int
    min_quality: int
    is_allow_list: bool


@dataclass(frozen=True, slots=True)
class MatchableEntry:
    entry_id: int
    list_id: int
    signal_type: SignalType
    signal: str
    frames: tuple[FrameSignal, ...] = ()  # video_pdq entries only, in position order


def enabled_lists(session: Session) -> dict[int, MatchableList]:
    """Enabled lists by id, with the thresholds their entries match under."""
    lists = session.scalars(select(HashList).where(HashList.enabled.is_(True))).all()
    return {
        hash_list.id: MatchableList(
            hash_list.id,
            hash_list.name,
            hash_list.pdq_distance,
            hash_list.min_quality,
            hash_list.is_allow_list,
        )
        for hash_list in lists
    }


def iter_active_entries(
    session: Session, *, page: int = DEFAULT_PAGE, signal_types: set[SignalType] | None = None
) -> Iterator[list[MatchableEntry]]:
    """Pages of active entries of enabled lists, by id (keyset paging)."""
    after = 0
    while True:
        query = (
            select(ListEntry.id, ListEntry.list_id, ListEntry.signal_type, ListEntry.signal)
            .join(HashList, HashList.id == ListEntry.list_id)
            .where(
                HashList.enabled.is_(True),
                ListEntry.status == EntryStatus.ACTIVE,
                ListEntry.id > after,
            )
            .order_by(ListEntry.id)
            .limit(page)
        )
        if signal_types is not None:
            query = query.where(ListEntry.signal_type.in_(sorted(signal_types)))
        rows = session.execute(query).all()
        if not rows:
            return
        videos = [row.id for row in rows if row.signal_type == SignalType.VIDEO_PDQ]
        frames = _frames(session, videos)
        yield [
            MatchableEntry(
                row.id, row.list_id, SignalType(row.signal_type), row.signal, frames.get(row.id, ())
            )
            for row in rows
        ]
        after = rows[-1].id


def _frames(session: Session, entry_ids: list[int]) -> dict[int, tuple[FrameSignal, ...]]:
    found: dict[int, list[FrameSignal]] = defaultdict(list)
    for start in range(0, len(entry_ids), 1000):
        rows = session.execute(
            select(EntryFrame.entry_id, EntryFrame.pdq, EntryFrame.quality)
            .where(EntryFrame.entry_id.in_(entry_ids[start : start + 1000]))
            .order_by(EntryFrame.entry_id, EntryFrame.position)
        ).all()
        for entry_id, pdq, quality in rows:
            found[entry_id].append(FrameSignal(pdq, quality))
    return {entry_id: tuple(frames) for entry_id, frames in found.items()}
