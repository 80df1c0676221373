"""What changed in the lists since a checkpoint, as retroactive matching needs it: the entries
that can match something they did not match before.

The change feed is state based (vigil.store.lists.change_feed): every entry changed after the
checkpoint comes once, in its current state. An entry that is ACTIVE now, in an enabled list
that is not an allow-list, is in the delta; deletions, disables and quarantines make no match
and are left out. A list whose own settings changed (enabled again, a wider PDQ distance, a
lower minimum quality) can match anything it holds, so all its active entries join the delta.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.screening.feed_changes import ListSettings
from vigil.store.lists.change_feed import (
    EntryChange,
    FrameSignal,
    read_changes,
)
from vigil.store.models import EntryFrame, EntryStatus, HashList, ListEntry, SignalType

DIGEST_TYPES = (SignalType.MD5, SignalType.SHA1, SignalType.SHA256)


@dataclass(frozen=True, slots=True)
class ListDelta:
    since: int
    checkpoint: int  # pass as ``since`` next time
    lists: dict[int, ListSettings]  # every list an entry below belongs to
    entries: list[EntryChange] = field(default_factory=list)  # ACTIVE, one per entry id

    def of_type(self, signal_type: SignalType) -> list[EntryChange]:
        return [e for e in self.entries if e.signal_type is signal_type]

    def __len__(self) -> int:
        return len(self.entries)


def read_delta(session: Session, since: int) -> ListDelta:
    """The entries that may newly match, from the change feed after ``since``."""
    if since < 0:
        raise ValueError("a checkpoint is a change-feed number, 0 or more")
    latest: dict[int, EntryChange] = {}
    changed_lists: set[int] = set()
    after = since
    while True:
        batch = read_changes(session, after)
        latest.update((e.entry_id, e) for e in batch.entries)  # oldest first: last wins
        changed_lists.update(c.list_id for c in batch.lists)
        after = batch.next_seq
        if batch.complete:
            break
    lists = _matching_lists(session, {e.list_id for e in latest.values()} | changed_lists)
    for entry in _whole_lists(session, changed_lists & set(lists)):
        latest.setdefault(entry.entry_id, entry)
    active = [e for e in latest.values() if e.status is EntryStatus.ACTIVE and e.list_id in lists]
    # ``after`` is now the feed's committed end: nothing up to it is left unread.
    return ListDelta(since, max(after, since), lists, sorted(active, key=lambda e: e.seq))


def _matching_lists(session: Session, list_ids: Iterable[int]) -> dict[int, ListSettings]:
    """Current settings of the lists that can make a match: enabled, not allow-lists."""
    wanted = sorted(set(list_ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(HashList).where(
            HashList.id.in_(wanted), HashList.enabled.is_(True), HashList.is_allow_list.is_(False)
        )
    ).all()
    return {row.id: ListSettings.of_row(row) for row in rows}


def _whole_lists(session: Session, list_ids: set[int]) -> list[EntryChange]:
    """Every active entry of these lists, as feed changes (with video frames)."""
    if not list_ids:
        return []
    rows = session.execute(
        select(
            ListEntry.change_seq,
            ListEntry.id,
            ListEntry.list_id,
            ListEntry.signal_type,
            ListEntry.signal,
        ).where(ListEntry.list_id.in_(sorted(list_ids)), ListEntry.status == EntryStatus.ACTIVE)
    ).all()
    videos = [r.id for r in rows if r.signal_type is SignalType.VIDEO_PDQ]
    frames = _frames(session, videos)
    return [
        EntryChange(
            r.change_seq,
            r.id,
            r.list_id,
            r.signal_type,
            r.signal,
            EntryStatus.ACTIVE,
            tuple(frames.get(r.id, ())),
        )
        for r in rows
    ]


def _frames(session: Session, entry_ids: list[int]) -> dict[int, list[FrameSignal]]:
    frames: dict[int, list[FrameSignal]] = {}
    for first in range(0, len(entry_ids), 1000):  # bounded IN lists
        rows = session.execute(
            select(EntryFrame.entry_id, EntryFrame.pdq, EntryFrame.quality)
            .where(EntryFrame.entry_id.in_(entry_ids[first : first + 1000]))
            .order_by(EntryFrame.entry_id, EntryFrame.position)
        ).all()
        for row in rows:
            frames.setdefault(row.entry_id, []).append(FrameSignal(row.pdq, row.quality))
    return frames
