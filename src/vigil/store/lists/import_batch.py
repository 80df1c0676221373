"""Writing one batch of import records in the caller's transaction, in bulk.

A batch holds at most one record per entry, so it can be applied set-wise: one query
finds the entries that exist, then bulk inserts, bulk metadata updates and status changes
(with their audit events) write the differences. Core writes bypass the ORM flush hook,
so new rows and status changes take their change-feed numbers from
``allocate_change_seqs`` here, as the change feed contract requires.

Per record:
* new hash: inserted, active;
* known hash, first time this import sees it: metadata merged (a field the record leaves
  out keeps its value) and written only if it changed; the status stays as it is, so an
  entry someone disabled or quarantined stays so; a deleted entry the source lists again
  gets back the status it had before the deletion;
* known hash this import has already stored (the file lists it twice): a duplicate, and
  the first record's metadata wins; unless the file deleted it in between, when it is
  listed again;
* deletion: the entry gets status ``deleted`` with an audit event, and keeps its row.
Every entry an import sees is stamped with its job id, which is how repeats are found
across batches and across a resumed run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from vigil.store.lists.bulk_rows import insert_rows
from vigil.store.lists.change_feed import allocate_change_seqs
from vigil.store.lists.import_records import EntryKey, EntryRecord, Metadata
from vigil.store.models import EntryEvent, EntryFrame, EntryStatus, ListEntry, SignalType, utcnow

# Values per IN (...) list: well below SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 900
# Core inserts of the tables, not ORM bulk inserts. A declarative class's __table__ is typed
# as any FROM clause; these classes are mapped to plain tables.
_ENTRIES = cast(Table, ListEntry.__table__)
_FRAMES = cast(Table, EntryFrame.__table__)
_EVENTS = cast(Table, EntryEvent.__table__)


@dataclass(slots=True)
class BatchCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    restored: int = 0  # deleted entries the source listed again
    duplicates: int = 0  # records repeating a hash this import had already stored
    missing_deletions: int = 0  # deletions of entries the list does not hold

    def add(self, other: BatchCounts) -> None:
        for counter in fields(self):
            name = counter.name
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class BatchContext:
    list_id: int
    job_id: int
    source: str  # provenance stored on new entries (a file name)
    actor: str  # who the audit trail says changed a status
    list_version: str | None = None
    # A hash exchange's later record of an entry updates it even within one job (a file's
    # repeat is a duplicate, an exchange's is a newer version).
    newest_wins: bool = False


class Offer(StrEnum):
    TAKEN = "taken"
    DUPLICATE = "duplicate"  # same hash as a pending record: first wins, nothing to write
    CONFLICT = "conflict"  # depends on a pending record: write the batch first


@dataclass(slots=True)
class PendingBatch:
    """Records waiting to be written: at most one per entry key, and deletions by external
    id last (they may hit any entry, so nothing keyed may follow them in one batch)."""

    by_key: dict[EntryKey, EntryRecord] = field(default_factory=dict)
    by_external_id: list[EntryRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.by_key) + len(self.by_external_id)

    def offer(self, record: EntryRecord) -> Offer:
        if record.key is None:
            self.by_external_id.append(record)
            return Offer.TAKEN
        if self.by_external_id:
            return Offer.CONFLICT
        earlier = self.by_key.get(record.key)
        if earlier is None:
            self.by_key[record.key] = record
            return Offer.TAKEN
        if not earlier.deleted and not record.deleted:
            return Offer.DUPLICATE
        return Offer.CONFLICT


class _Row(NamedTuple):
    id: int
    status: EntryStatus
    import_job_id: int | None
    metadata: Metadata


class _StatusUpdate(NamedTuple):
    entry_id: int
    old: EntryStatus
    new: EntryStatus
    reason: str


@dataclass(slots=True)
class _Plan:
    inserts: list[EntryRecord] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    status_changes: list[_StatusUpdate] = field(default_factory=list)


def write_batch(session: Session, context: BatchContext, batch: PendingBatch) -> BatchCounts:
    counts = BatchCounts()
    now = utcnow()
    if batch.by_key:
        plan = _plan_keyed(session, context, list(batch.by_key.values()), counts)
        _apply(session, context, plan, now)
    if batch.by_external_id:
        plan = _plan_id_deletions(session, context, batch.by_external_id, counts)
        _apply(session, context, plan, now)
    return counts


def _plan_keyed(
    session: Session, context: BatchContext, records: list[EntryRecord], counts: BatchCounts
) -> _Plan:
    plan = _Plan()
    existing = _existing_rows(session, context.list_id, [r.key for r in records if r.key])
    restores: list[tuple[_Row, EntryRecord]] = []
    for record in records:
        assert record.key is not None
        row = existing.get(record.key)
        if record.deleted:
            _plan_deletion(plan, context, record, row, counts)
        elif row is None:
            plan.inserts.append(record)
            counts.added += 1
        elif (
            row.import_job_id == context.job_id
            and row.status is not EntryStatus.DELETED
            and not context.newest_wins
        ):
            counts.duplicates += 1
        else:
            _plan_known(plan, context, record, row, counts)
            if row.status is EntryStatus.DELETED:
                restores.append((row, record))
    _plan_restores(session, plan, context, restores)
    counts.restored += len(restores)
    return plan


def _plan_deletion(
    plan: _Plan,
    context: BatchContext,
    record: EntryRecord,
    row: _Row | None,
    counts: BatchCounts,
) -> None:
    if row is None:
        counts.missing_deletions += 1
    elif row.status is EntryStatus.DELETED:
        counts.unchanged += 1
    else:
        plan.status_changes.append(
            _StatusUpdate(
                row.id, row.status, EntryStatus.DELETED, _deletion_reason(context, record)
            )
        )
        counts.deleted += 1


def _plan_known(
    plan: _Plan, context: BatchContext, record: EntryRecord, row: _Row, counts: BatchCounts
) -> None:
    merged = row.metadata.merged_with(record.metadata)
    if merged != row.metadata:
        plan.updates.append({"id": row.id, "import_job_id": context.job_id, **merged._asdict()})
        if row.status is not EntryStatus.DELETED:
            counts.updated += 1
        return
    plan.stamps.append(row.id)
    if row.status is not EntryStatus.DELETED:
        counts.unchanged += 1


def _plan_restores(
    session: Session,
    plan: _Plan,
    context: BatchContext,
    restores: list[tuple[_Row, EntryRecord]],
) -> None:
    if not restores:
        return
    before = _status_before_deletion(session, [row.id for row, _ in restores])
    for row, record in restores:
        status = before.get(row.id, EntryStatus.ACTIVE)
        reason = f"listed again by {context.source} (position {record.position})"
        plan.status_changes.append(_StatusUpdate(row.id, row.status, status, reason))


def _plan_id_deletions(
    session: Session, context: BatchContext, records: list[EntryRecord], counts: BatchCounts
) -> _Plan:
    plan = _Plan()
    wanted = {record.metadata.external_id for record in records}
    matches = _rows_by_external_id(session, context.list_id, [i for i in wanted if i])
    done: set[int] = set()
    for record in records:
        rows = matches.get(record.metadata.external_id or "", [])
        if not rows:
            counts.missing_deletions += 1
        for entry_id, status in rows:
            if status is EntryStatus.DELETED or entry_id in done:
                counts.unchanged += 1
                continue
            done.add(entry_id)
            plan.status_changes.append(
                _StatusUpdate(
                    entry_id, status, EntryStatus.DELETED, _deletion_reason(context, record)
                )
            )
            counts.deleted += 1
    return plan


def _deletion_reason(context: BatchContext, record: EntryRecord) -> str:
    return f"deleted by its source {context.source} (position {record.position})"


def _apply(session: Session, context: BatchContext, plan: _Plan, now: datetime) -> None:
    needed = len(plan.inserts) + len(plan.status_changes)
    seqs = iter(allocate_change_seqs(session, needed) if needed else ())
    _insert(session, context, plan.inserts, seqs, now)
    if plan.updates:
        session.execute(update(ListEntry), plan.updates)
    for chunk in _chunks(plan.stamps):
        session.execute(
            update(ListEntry)
            .where(ListEntry.id.in_(chunk))
            .values(import_job_id=context.job_id)
            .execution_options(synchronize_session=False)
        )
    _change_statuses(session, context, plan.status_changes, seqs, now)


def _insert(
    session: Session,
    context: BatchContext,
    records: list[EntryRecord],
    seqs: Iterator[int],
    now: datetime,
) -> None:
    plain = [_entry_row(context, r, next(seqs), now) for r in records if not r.frames]
    insert_rows(session.connection(), _ENTRIES, plain)
    videos = [r for r in records if r.frames]
    if not videos:
        return
    ids = (
        session.execute(
            _ENTRIES.insert().returning(_ENTRIES.c.id, sort_by_parameter_order=True),
            [_entry_row(context, r, next(seqs), now) for r in videos],
        )
        .scalars()
        .all()
    )
    session.execute(
        _FRAMES.insert(),
        [
            {
                "entry_id": entry_id,
                "position": position,
                "pdq": frame.pdq,
                "quality": None,
                "time_offset": frame.timestamp,
            }
            for entry_id, record in zip(ids, videos, strict=True)
            for position, frame in enumerate(record.frames)
        ],
    )


def _entry_row(
    context: BatchContext, record: EntryRecord, seq: int, now: datetime
) -> dict[str, Any]:
    assert record.key is not None
    return {
        "list_id": context.list_id,
        "signal_type": record.key.signal_type,
        "signal": record.key.signal,
        **record.metadata._asdict(),
        "added_at": now,
        "import_job_id": context.job_id,
        "source": context.source,
        "list_version": context.list_version,
        "status": EntryStatus.ACTIVE,
        "status_reason": None,
        "status_by": None,
        "status_at": None,
        "match_count": 0,
        "change_seq": seq,
    }


def _change_statuses(
    session: Session,
    context: BatchContext,
    changes: list[_StatusUpdate],
    seqs: Iterator[int],
    now: datetime,
) -> None:
    if not changes:
        return
    session.execute(
        update(ListEntry),
        [
            {
                "id": change.entry_id,
                "status": change.new,
                "status_reason": change.reason,
                "status_by": context.actor,
                "status_at": now,
                "change_seq": next(seqs),
            }
            for change in changes
        ],
    )
    session.execute(
        _EVENTS.insert(),
        [
            {
                "entry_id": change.entry_id,
                "old_status": change.old,
                "new_status": change.new,
                "reason": change.reason,
                "actor": context.actor,
                "at": now,
            }
            for change in changes
        ],
    )


def _existing_rows(session: Session, list_id: int, keys: list[EntryKey]) -> dict[EntryKey, _Row]:
    found: dict[EntryKey, _Row] = {}
    signals_by_type: dict[SignalType, set[str]] = {}
    for key in keys:
        signals_by_type.setdefault(key.signal_type, set()).add(key.signal)
    # One type per query, so each lookup is a range of the unique (list, type, signal) index.
    for signal_type, signals in signals_by_type.items():
        for chunk in _chunks(sorted(signals)):
            rows = session.execute(
                select(
                    ListEntry.id,
                    ListEntry.signal,
                    ListEntry.status,
                    ListEntry.import_job_id,
                    *(getattr(ListEntry, name) for name in Metadata._fields),
                ).where(
                    ListEntry.list_id == list_id,
                    ListEntry.signal_type == signal_type,
                    ListEntry.signal.in_(chunk),
                )
            ).all()
            for row in rows:
                found[EntryKey(signal_type, row.signal)] = _Row(
                    row.id, EntryStatus(row.status), row.import_job_id, Metadata.from_row(row[4:])
                )
    return found


def _rows_by_external_id(
    session: Session, list_id: int, external_ids: list[str]
) -> dict[str, list[tuple[int, EntryStatus]]]:
    found: dict[str, list[tuple[int, EntryStatus]]] = {}
    for chunk in _chunks(sorted(external_ids)):
        rows = session.execute(
            select(ListEntry.id, ListEntry.status, ListEntry.external_id)
            .where(ListEntry.list_id == list_id, ListEntry.external_id.in_(chunk))
            .order_by(ListEntry.id)
        ).all()
        for row in rows:
            found.setdefault(row.external_id, []).append((row.id, EntryStatus(row.status)))
    return found


def _status_before_deletion(session: Session, entry_ids: list[int]) -> dict[int, EntryStatus]:
    """What each entry was before its latest deletion (a disabled entry stays disabled)."""
    before: dict[int, EntryStatus] = {}
    for chunk in _chunks(entry_ids):
        rows = session.execute(
            select(EntryEvent.entry_id, EntryEvent.old_status)
            .where(EntryEvent.entry_id.in_(chunk), EntryEvent.new_status == EntryStatus.DELETED)
            .order_by(EntryEvent.id)
        ).all()
        for entry_id, old_status in rows:  # later events overwrite earlier ones
            if old_status is not None:
                before[entry_id] = EntryStatus(old_status)
    return before


def _chunks(values: Sequence[Any] | Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]
