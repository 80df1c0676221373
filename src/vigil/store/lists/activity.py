"""What happened to a list lately: entry status changes and imports, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from vigil.store.models import (
    EntryEvent,
    EntryStatus,
    ImportJob,
    ImportStatus,
    ListEntry,
    SignalType,
)


@dataclass(frozen=True, slots=True)
class EntryEventView:
    event_id: int
    entry_id: int
    signal_type: str
    signal: str
    old_status: EntryStatus | None
    new_status: EntryStatus
    reason: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ImportView:
    job_id: int
    file_name: str
    format: str
    status: ImportStatus
    records_done: int
    errors: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def recent_events(session: Session, list_id: int, limit: int = 10) -> list[EntryEventView]:
    rows = session.execute(
        select(EntryEvent, ListEntry.signal_type, ListEntry.signal)
        .join(ListEntry, ListEntry.id == EntryEvent.entry_id)
        .where(ListEntry.list_id == list_id)
        .order_by(EntryEvent.id.desc())
        .limit(limit)
    ).all()
    return _views(rows)


def entry_events(session: Session, entry_id: int) -> list[EntryEventView]:
    """An entry's whole audit trail, oldest first."""
    rows = session.execute(
        select(EntryEvent, ListEntry.signal_type, ListEntry.signal)
        .join(ListEntry, ListEntry.id == EntryEvent.entry_id)
        .where(EntryEvent.entry_id == entry_id)
        .order_by(EntryEvent.id)
    ).all()
    return _views(rows)


def recent_imports(session: Session, list_id: int, limit: int = 5) -> list[ImportView]:
    jobs = session.scalars(
        select(ImportJob)
        .where(ImportJob.list_id == list_id)
        .order_by(ImportJob.id.desc())
        .limit(limit)
    ).all()
    return [
        ImportView(
            job.id,
            job.file_name,
            job.format,
            job.status,
            job.records_done,
            job.errors,
            job.last_error,
            job.created_at,
            job.finished_at,
        )
        for job in jobs
    ]


def _views(rows: Sequence[Row[EntryEvent, SignalType, str]]) -> list[EntryEventView]:
    return [
        EntryEventView(
            event.id,
            event.entry_id,
            str(signal_type),
            signal,
            event.old_status,
            event.new_status,
            event.reason,
            event.actor,
            event.at,
        )
        for event, signal_type, signal in rows
    ]
