"""Run a scan job: the source's listing after the checkpoint (``chunks.resumed_listing``), in
chunks, through an engine; each chunk's Parquet part written, then its matches and the
checkpoint committed together.

That order makes a kill at any point safe: a chunk whose part was written but not committed
is done again on resume and replaces its own part (same number, same objects); its matches
are not stored twice (unique per job, object and entry). A cancelled job (``vigil scan-jobs
cancel`` from another process) stops before committing its next chunk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from vigil.fingerprint.errors import FailureReason
from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.chunk_matching import ChunkResult
from vigil.screening.backlog.chunks import Listed, chunked, resumed_listing
from vigil.screening.backlog.engine import ScanEngine
from vigil.screening.backlog.objects import ObjectSource
from vigil.store.database import Database
from vigil.store.models import ScanJob, ScanJobStatus
from vigil.store.scan_jobs.jobs import ChunkTally, commit_chunk, end_job, get_job, job_status

JOBS_DIR = "scan-jobs"
EXPECTED = frozenset({FailureReason.NOT_MEDIA.value})  # digests only, as intended: no error


class PartStore(Protocol):
    def write_part(self, number: int, rows: Sequence[tuple[Listed, Fingerprint]]) -> object: ...


class JobEnd(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # the ``stop_after`` limit (tests, dry runs): resumable


@dataclass(frozen=True, slots=True)
class Progress:
    """After each committed chunk: the job's totals."""

    objects: int
    bytes: int
    errors: int
    matches: int
    total: int | None


Report = Callable[[Progress], None]


def job_store_dir(data_dir: Path, job_id: int) -> Path:
    return data_dir / JOBS_DIR / f"job-{job_id}"


def run_job(
    database: Database,
    job_id: int,
    source: ObjectSource,
    engine: ScanEngine,
    store: PartStore,
    *,
    chunk_objects: int,
    report: Report = lambda _progress: None,
    stop_after_chunks: int | None = None,
) -> JobEnd:
    """Scan from the job's checkpoint to the end of the listing. Raises what stops it
    (KeyboardInterrupt, SourceError, ...): the caller ends the job as it sees fit."""
    with database.transaction() as session:
        job = get_job(session, job_id)
        done, checkpoint, first = job.objects, job.checkpoint, job.chunks + 1
    listing = resumed_listing(source, done, checkpoint)
    results = engine.run(chunked(listing, chunk_objects, first))
    with contextlib.closing(_closable(results)):
        for committed, result in enumerate(results, start=1):
            store.write_part(result.chunk.number, result.rows())
            progress = _commit(database, job_id, result)
            if progress is None:
                return JobEnd.CANCELLED
            report(progress)
            if stop_after_chunks is not None and committed >= stop_after_chunks:
                return JobEnd.STOPPED
    with database.transaction(write=True) as session:
        end_job(session, job_id, ScanJobStatus.COMPLETED)
    return JobEnd.COMPLETED


def _commit(database: Database, job_id: int, result: ChunkResult) -> Progress | None:
    with database.transaction(write=True) as session:
        if job_status(session, job_id) is ScanJobStatus.CANCELLED:
            return None
        commit_chunk(session, job_id, tally(result), result.matches)
        return progress_of(get_job(session, job_id))


def tally(result: ChunkResult) -> ChunkTally:
    fingerprints = result.fingerprints
    return ChunkTally(
        number=result.chunk.number,
        checkpoint=result.chunk.last_key,
        objects=len(fingerprints),
        bytes=sum(f.size or 0 for f in fingerprints),
        errors=sum(is_error(f) for f in fingerprints),
    )


def is_error(fingerprint: Fingerprint) -> bool:
    return fingerprint.error is not None and fingerprint.error_reason not in EXPECTED


def progress_of(job: ScanJob) -> Progress:
    return Progress(job.objects, job.bytes, job.errors, job.matches, job.total)


def _closable(results: Iterator[ChunkResult]) -> _Closing:
    return _Closing(results)


class _Closing:
    """Close the engine's iterator (a generator: stops its pool) when the loop ends early."""

    def __init__(self, results: Iterator[ChunkResult]) -> None:
        self.results = results

    def close(self) -> None:
        close = getattr(self.results, "close", None)
        if close is not None:
            close()
