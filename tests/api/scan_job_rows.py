"""Scan jobs in the three states a person meets, made through the store functions the scan
uses: one running (its process may or may not hold its lock), one interrupted, one completed
with matches, one of them released to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vigil.store import Database
from vigil.store.models import ScanJobStatus
from vigil.store.scan_jobs.jobs import (
    ChunkTally,
    MatchRow,
    commit_chunk,
    end_job,
    get_job,
    start_job,
)
from vigil.store.scan_jobs.matches import mark_released, oldest_queued

RUNNING_SOURCE = "s3://platform-media/uploads/2019/"
ELAPSED = timedelta(seconds=100)


@dataclass(frozen=True)
class Jobs:
    running: int  # 250 of 1,000 objects in 100 s: 2.5 objects/s, 25 %, 300 s to go
    interrupted: int  # 40 objects of an unknown total, 2 errors
    completed: int  # 3 matches on 2 objects: one object released, two matches queued


def _match(key: str, entry_id: int) -> MatchRow:
    return MatchRow(f"s3://old/{key}#v1", "old", key, "v1", 1, entry_id, "pdq", 4)


def make_jobs(database: Database) -> Jobs:
    with database.transaction(write=True) as session:
        running = start_job(
            session,
            source=RUNNING_SOURCE,
            engine="ray",
            options={},
            store_dir="/data/scan-jobs/1",
            total=1000,
        ).id
        commit_chunk(session, running, ChunkTally(1, "uploads/2019/k250", 250, 25_000, 0), [])
        interrupted = start_job(
            session, source="/srv/media", engine="local", options={}, store_dir="/d/2"
        ).id
        commit_chunk(session, interrupted, ChunkTally(1, "k40", 40, 4000, 2), [])
        end_job(session, interrupted, ScanJobStatus.INTERRUPTED)
        completed = start_job(
            session, source="s3://old/", engine="local", options={}, store_dir="/d/3", total=10
        ).id
        found = [_match("a.jpg", 11), _match("a.jpg", 12), _match("b.jpg", 11)]
        commit_chunk(session, completed, ChunkTally(1, "j.jpg", 10, 1000, 0), found)
        end_job(session, completed, ScanJobStatus.COMPLETED)
    with database.transaction(write=True) as session:
        job = get_job(session, running)
        job.started_at = job.updated_at - ELAPSED
        first = oldest_queued(session, 1)[0]
        mark_released(session, first.matches, "rec-1", job.updated_at)
    return Jobs(running, interrupted, completed)
