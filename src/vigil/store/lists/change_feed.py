"""The change feed the in-memory match index follows.

Contract
--------
* Every insert of a ``ListEntry`` or ``HashList``, and every update of a field the index uses
  (entry: list_id, signal_type, signal, status; list: enabled, pdq_distance, min_quality,
  is_allow_list) stamps the row's ``change_seq`` with a new number from one counter shared by
  both tables. ORM flushes do this automatically; Core bulk writes must call
  :func:`allocate_change_seqs` themselves and set ``change_seq`` (it is NOT NULL).
* A row carries only its latest number, so the feed is state based: a reader gets the current
  state of every row changed since its cursor and applies it idempotently (upsert by id;
  anything but ACTIVE, or a disabled list, means "not in the index").
* Numbers are handed out in commit order. ``allocate_change_seqs`` increments the single
  ``change_counter`` row, and that row stays locked (PostgreSQL row lock; SQLite's one writer
  lock) until the transaction ends, so a transaction holding a lower number has committed or
  rolled back before anyone gets a higher one. A plain SEQUENCE would not do: its numbers are
  handed out at insert time and commit in any order, and a reader polling ``seq > :last`` could
  jump past a number whose transaction commits late. A rolled-back transaction returns its
  numbers with the counter, so numbers have no gaps but may be reused - never once committed.
* Readers call :func:`read_changes` with the last ``next_seq`` they processed (0 at start).
  It bounds the query by the counter's committed value, which makes it correct under READ
  COMMITTED too, where each statement sees a newer snapshot than the previous one.

Cost: transactions that change the feed are serialised from their first allocation to their
commit; keep them short (commit imports in batches). Match counters are not feed changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from vigil.store.errors import AppendOnlyViolation, SchemaNotReady
from vigil.store.models import (
    COUNTER_ROW_ID,
    ChangeCounter,
    EntryEvent,
    EntryFrame,
    EntryStatus,
    HashList,
    ListEntry,
    SignalType,
)

ENTRY_FEED_ATTRIBUTES = ("list_id", "signal_type", "signal", "status")
LIST_FEED_ATTRIBUTES = ("enabled", "pdq_distance", "min_quality", "is_allow_list")
# Assigning entry.hash_list only sets list_id later in the flush, so watch the relationship too.
_ENTRY_WATCHED = (*ENTRY_FEED_ATTRIBUTES, "hash_list")
DEFAULT_BATCH = 50_000


class FrameSignal(NamedTuple):
    pdq: str
    quality: int | None


@dataclass(frozen=True, slots=True)
class EntryChange:
    seq: int
    entry_id: int
    list_id: int
    signal_type: SignalType
    signal: str
    status: EntryStatus
    frames: tuple[FrameSignal, ...] = ()  # video_pdq entries only, in position order


@dataclass(frozen=True, slots=True)
class ListChange:
    seq: int
    list_id: int
    name: str
    enabled: bool
    pdq_distance: int
    min_quality: int
    is_allow_list: bool


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    lists: list[ListChange]
    entries: list[EntryChange]
    next_seq: int  # pass as ``after`` next time
    complete: bool  # False: the batch limit was hit, call again right away


def allocate_change_seqs(db: Session | Connection, count: int) -> range:
    """Reserve ``count`` consecutive numbers; the counter stays locked until commit."""
    if count < 1:
        raise ValueError("count must be positive")
    statement = (
        update(ChangeCounter)
        .where(ChangeCounter.id == COUNTER_ROW_ID)
        .values(last_seq=ChangeCounter.last_seq + count)
        .returning(ChangeCounter.last_seq)
    )
    connection = db.connection() if isinstance(db, Session) else db
    last = connection.execute(statement).scalar_one_or_none()
    if last is None:
        raise SchemaNotReady("change_counter row missing: run the database migrations")
    return range(last - count + 1, last + 1)


def last_committed_seq(db: Session | Connection) -> int:
    last = db.scalar(select(ChangeCounter.last_seq).where(ChangeCounter.id == COUNTER_ROW_ID))
    if last is None:
        raise SchemaNotReady("change_counter row missing: run the database migrations")
    return last


def read_changes(session: Session, after: int, limit: int = DEFAULT_BATCH) -> ChangeBatch:
    """Lists and entries whose latest change is numbered above ``after``, oldest first."""
    high = last_committed_seq(session)
    entries = _entry_changes(session, after, high, limit)
    complete = len(entries) < limit
    upper = high if complete else entries[-1].seq
    lists = _list_changes(session, after, upper)
    return ChangeBatch(lists=lists, entries=entries, next_seq=upper, complete=complete)


def _entry_changes(session: Session, after: int, high: int, limit: int) -> list[EntryChange]:
    rows = session.execute(
        select(
            ListEntry.change_seq,
            ListEntry.id,
            ListEntry.list_id,
            ListEntry.signal_type,
            ListEntry.signal,
            ListEntry.status,
        )
        .where(ListEntry.change_seq > after, ListEntry.change_seq <= high)
        .order_by(ListEntry.change_seq)
        .limit(limit)
    ).all()
    if not rows:
        return []
    frames = _video_frames(session, after, rows[-1].change_seq)
    return [
        EntryChange(
            row.change_seq,
            row.id,
            row.list_id,
            row.signal_type,
            row.signal,
            row.status,
            tuple(frames.get(row.id, ())),
        )
        for row in rows
    ]


def _video_frames(session: Session, after: int, upper: int) -> dict[int, list[FrameSignal]]:
    # Joined on the same seq window as the entries, so no huge IN (...) list is needed.
    rows = session.execute(
        select(EntryFrame.entry_id, EntryFrame.pdq, EntryFrame.quality)
        .join(ListEntry, ListEntry.id == EntryFrame.entry_id)
        .where(
            ListEntry.signal_type == SignalType.VIDEO_PDQ,
            ListEntry.change_seq > after,
            ListEntry.change_seq <= upper,
        )
        .order_by(EntryFrame.entry_id, EntryFrame.position)
    ).all()
    frames: dict[int, list[FrameSignal]] = defaultdict(list)
    for row in rows:
        frames[row.entry_id].append(FrameSignal(row.pdq, row.quality))
    return frames


def _list_changes(session: Session, after: int, upper: int) -> list[ListChange]:
    rows = session.scalars(
        select(HashList)
        .where(HashList.change_seq > after, HashList.change_seq <= upper)
        .order_by(HashList.change_seq)
    ).all()
    return [
        ListChange(
            row.change_seq,
            row.id,
            row.name,
            row.enabled,
            row.pdq_distance,
            row.min_quality,
            row.is_allow_list,
        )
        for row in rows
    ]


@event.listens_for(Session, "before_flush")
def _stamp_change_seqs(session: Session, _flush_context: Any, _instances: Any) -> None:
    _refuse_history_rewrites(session)
    changed = [obj for obj in session.new if isinstance(obj, ListEntry | HashList)]
    changed += [obj for obj in session.dirty if _changes_feed(obj)]
    if not changed:
        return
    for obj, seq in zip(changed, allocate_change_seqs(session, len(changed)), strict=True):
        obj.change_seq = seq


def _changes_feed(obj: object) -> bool:
    names: tuple[str, ...]
    if isinstance(obj, ListEntry):
        names = _ENTRY_WATCHED
    elif isinstance(obj, HashList):
        names = LIST_FEED_ATTRIBUTES
    else:
        return False
    attrs = instance_state(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _refuse_history_rewrites(session: Session) -> None:
    for obj in session.deleted:
        if isinstance(obj, ListEntry):
            raise AppendOnlyViolation(
                f"list entries are never deleted; set status {EntryStatus.DELETED.value!r} "
                f"with ListEntry.set_status() instead (entry {obj.id})"
            )
        if isinstance(obj, EntryEvent):
            raise AppendOnlyViolation("entry events are an append-only audit trail")
    for obj in session.dirty:
        if isinstance(obj, EntryEvent) and session.is_modified(obj):
            raise AppendOnlyViolation("entry events are an append-only audit trail")
