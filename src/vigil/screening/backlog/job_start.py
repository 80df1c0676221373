"""Which job a scan runs as: the unfinished job of the same source and options, resumed, or
a new one with its own store folder.

The options that shape results and parts (lists matched, chunk size, object size limit) are
the job's: a resumed job keeps them, so a chunk redone after a crash holds the same objects
as the part it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.core.settings import ScanningSettings
from vigil.screening.backlog.scan_job import job_store_dir
from vigil.store.database import Database
from vigil.store.scan_jobs.jobs import latest_resumable, resume_job, start_job


@dataclass(frozen=True, slots=True)
class JobStart:
    job_id: int
    resumed: bool
    store_dir: Path
    options: dict[str, Any]


def job_options(
    source_uri: str, lists: list[str] | None, scanning: ScanningSettings
) -> dict[str, Any]:
    """What a job keeps for its whole life: where to re-open the source, what to match
    against, how to cut and bound it."""
    return {
        "source_uri": source_uri,
        "lists": sorted(lists) if lists else None,
        "chunk_objects": scanning.chunk_objects,
        "max_object_bytes": scanning.max_object_bytes,
        "requests_per_second": scanning.requests_per_second,
        "bytes_per_second": scanning.bytes_per_second,
    }


def start_or_resume(
    database: Database,
    *,
    source: str,
    engine: str,
    options: Mapping[str, Any],
    data_dir: Path,
    total: int | None = None,
    resume: bool = True,
) -> JobStart:
    with database.transaction(write=True) as session:
        job = latest_resumable(session, source) if resume else None
        if job is not None and job.options == dict(options):
            resume_job(session, job.id, engine=engine)
            return JobStart(job.id, True, Path(job.store_dir), dict(job.options))
        job = start_job(
            session, source=source, engine=engine, options=options, store_dir="", total=total
        )
        job.store_dir = str(job_store_dir(data_dir, job.id))
        return JobStart(job.id, False, Path(job.store_dir), dict(job.options))


def resume_by_id(database: Database, job_id: int, engine: str) -> JobStart:
    with database.transaction(write=True) as session:
        job = resume_job(session, job_id, engine=engine)
        return JobStart(job.id, True, Path(job.store_dir), dict(job.options))
