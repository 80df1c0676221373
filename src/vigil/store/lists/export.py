"""Exporting a hash list as Vigil CSV, JSON lines or plain text, streamed in id order.

By default only active entries are written: the list as it matches today. With
``include_inactive`` disabled and quarantined entries are written as ordinary records (the
formats have no status column) and deleted entries as deletion records, which plain text
cannot express, so it leaves them out.

Every export appends a security audit record (who, which list, format, how many entries,
the destination's file name; never content) once the last record is written, in its own
short write transaction: the export itself only reads, so on SQLite a large export does not
hold the write lock that screening needs. Publish the output only after export_list returns,
so no finished export lacks its record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from vigil.lists.formats import (
    ListRecord,
    VideoFrame,
    write_csv,
    write_json_lines,
    write_plain_text,
)
from vigil.lists.formats import SignalType as RecordSignalType
from vigil.store.database import Database
from vigil.store.lists.audit_trail import checked_actor, record_export
from vigil.store.lists.catalogue import get_list
from vigil.store.models import EntryFrame, EntryStatus, ListEntry, SignalType

PAGE = 5000
_IN_CHUNK = 900
# Plain columns rather than ORM objects: the caller's session stays small however long
# the list.
_COLUMNS = (
    ListEntry.id,
    ListEntry.signal_type,
    ListEntry.signal,
    ListEntry.external_id,
    ListEntry.classification,
    ListEntry.series,
    ListEntry.victim_identified,
    ListEntry.note,
    ListEntry.status,
)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON_LINES = "jsonl"
    PLAIN_TEXT = "text"


def export_list(
    database: Database,
    list_name: str,
    out: IO[str],
    export_format: ExportFormat = ExportFormat.CSV,
    *,
    actor: str,
    destination: str,
    include_inactive: bool = False,
) -> int:
    """Write the list to ``out`` (opened with ``newline=""``) and audit it; returns records
    written. ``destination`` names where ``out`` goes; only its file name is recorded."""
    actor = checked_actor(actor)
    keep_deleted = include_inactive and export_format is not ExportFormat.PLAIN_TEXT
    with database.transaction() as session:
        hash_list = get_list(session, list_name)
        records = list_records(
            session, hash_list.id, include_inactive=include_inactive, include_deleted=keep_deleted
        )
        count = _write(records, out, export_format)
    with database.transaction(write=True) as session:
        record_export(
            session,
            hash_list.name,
            actor=actor,
            export_format=export_format,
            entries=count,
            destination=destination,
            include_inactive=include_inactive,
        )
    return count


def _write(records: Iterator[ListRecord], out: IO[str], export_format: ExportFormat) -> int:
    match export_format:
        case ExportFormat.CSV:
            return write_csv(records, out)
        case ExportFormat.JSON_LINES:
            return write_json_lines(records, out)
        case ExportFormat.PLAIN_TEXT:
            return write_plain_text(records, out)
    raise ValueError(f"unknown export format {export_format!r}")


def list_records(
    session: Session,
    list_id: int,
    *,
    include_inactive: bool = False,
    include_deleted: bool = False,
) -> Iterator[ListRecord]:
    """The list's entries as records, a page at a time (keyset paging by id)."""
    statuses = [EntryStatus.ACTIVE]
    if include_inactive:
        statuses += [EntryStatus.DISABLED, EntryStatus.QUARANTINED]
    if include_deleted:
        statuses.append(EntryStatus.DELETED)
    after = 0
    while True:
        rows = session.execute(
            select(*_COLUMNS)
            .where(
                ListEntry.list_id == list_id, ListEntry.status.in_(statuses), ListEntry.id > after
            )
            .order_by(ListEntry.id)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        videos = [row.id for row in rows if row.signal_type == SignalType.VIDEO_PDQ]
        frames = _frames(session, videos)
        yield from (_record(row, frames.get(row.id, ())) for row in rows)
        after = rows[-1].id


def _frames(session: Session, entry_ids: list[int]) -> dict[int, tuple[VideoFrame, ...]]:
    frames: dict[int, list[VideoFrame]] = defaultdict(list)
    for start in range(0, len(entry_ids), _IN_CHUNK):
        rows = session.execute(
            select(EntryFrame.entry_id, EntryFrame.pdq, EntryFrame.time_offset)
            .where(EntryFrame.entry_id.in_(entry_ids[start : start + _IN_CHUNK]))
            .order_by(EntryFrame.entry_id, EntryFrame.position)
        ).all()
        for entry_id, pdq, offset in rows:
            frames[entry_id].append(VideoFrame(pdq, offset))
    return {entry_id: tuple(found) for entry_id, found in frames.items()}


def _record(row: Row[*tuple[Any, ...]], frames: tuple[VideoFrame, ...]) -> ListRecord:
    signal: str | tuple[VideoFrame, ...] = frames if frames else row.signal
    return ListRecord(
        signal_type=RecordSignalType(str(row.signal_type)),
        signal=signal,
        external_id=row.external_id,
        classification=row.classification,
        series=row.series,
        victim_identified=row.victim_identified,
        note=row.note,
        deleted=row.status == EntryStatus.DELETED,
    )
