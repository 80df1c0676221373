"""Scan runs and their files in the database, so an interrupted scan resumes where it stopped.

A file counts as finished when its item is DONE and its size and modification time are still
what they were when it was scanned; anything else (new, changed, failed) is scanned again.
Items are written in batches: memory and transactions stay small however big the scan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from vigil.store.database import Database
from vigil.store.models import ScanItem, ScanItemStatus, ScanRun, ScanStatus, utcnow

ITEM_BATCH = 200  # items per commit
UNFINISHED = (ScanStatus.RUNNING, ScanStatus.INTERRUPTED)


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    size: int | None
    mtime_ns: int | None

    @classmethod
    def of(cls, path: Path | str) -> FileState:
        try:
            info = os.stat(path)
        except OSError:  # hashing reports why; an unknown state is never "unchanged"
            return cls(str(path), None, None)
        return cls(str(path), info.st_size, info.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class RunStart:
    run_id: int
    resumed: bool


def start_run(
    database: Database, root: str, options: Mapping[str, Any], *, resume: bool
) -> RunStart:
    """Continue the latest unfinished run of ``root`` when resuming, else start a new one.
    ``options``: what decides the results (e.g. the lists matched); a run with others is
    not continued, as its stored results would not fit."""
    with database.transaction(write=True) as session:
        if resume:
            run = session.scalar(
                select(ScanRun)
                .where(ScanRun.root == root, ScanRun.status.in_(UNFINISHED))
                .order_by(ScanRun.id.desc())
                .limit(1)
            )
            if run is not None and run.options == dict(options):
                run.status = ScanStatus.RUNNING
                return RunStart(run.id, True)
        run = ScanRun(root=root, options=dict(options))
        session.add(run)
        session.flush()
        return RunStart(run.id, False)


def finish_run(database: Database, run_id: int, status: ScanStatus) -> None:
    with database.transaction(write=True) as session:
        session.execute(
            update(ScanRun).where(ScanRun.id == run_id).values(status=status, finished_at=utcnow())
        )


def finished_results(
    database: Database, run_id: int, states: Iterable[FileState]
) -> dict[str, dict[str, Any]]:
    """Stored report lines of the files among ``states`` that need no new scan."""
    wanted = {s.path: s for s in states}
    if not wanted:
        return {}
    with database.transaction() as session:
        rows = session.scalars(
            select(ScanItem).where(
                ScanItem.run_id == run_id,
                ScanItem.path.in_(list(wanted)),
                ScanItem.status == ScanItemStatus.DONE,
            )
        ).all()
    return {
        row.path: row.result
        for row in rows
        if row.result is not None and _unchanged(row, wanted[row.path])
    }


def _unchanged(row: ScanItem, state: FileState) -> bool:
    return state.size is not None and row.size == state.size and row.mtime_ns == state.mtime_ns


class ItemRecorder:
    """Buffers finished files and writes them ``ITEM_BATCH`` at a time."""

    def __init__(self, database: Database, run_id: int, batch: int = ITEM_BATCH) -> None:
        self.database = database
        self.run_id = run_id
        self.batch = batch
        self._pending: dict[str, tuple[FileState, ScanItemStatus, dict[str, Any]]] = {}

    def add(self, state: FileState, status: ScanItemStatus, result: dict[str, Any]) -> None:
        self._pending[state.path] = (state, status, result)
        if len(self._pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        with self.database.transaction(write=True) as session:
            existing = {
                row.path: row
                for row in session.scalars(
                    select(ScanItem).where(
                        ScanItem.run_id == self.run_id, ScanItem.path.in_(list(self._pending))
                    )
                )
            }
            now = utcnow()
            for path, (state, status, result) in self._pending.items():
                item = existing.get(path) or ScanItem(run_id=self.run_id, path=path)
                item.size, item.mtime_ns = state.size, state.mtime_ns
                item.status, item.result, item.scanned_at = status, result, now
                session.add(item)
        self._pending.clear()
