"""A scan job's life: started or resumed, advanced chunk by chunk, ended.

``commit_chunk`` is the only place the checkpoint moves, in the transaction that stores the
chunk's matches (duplicates ignored, by the unique (job, object, entry) index): after a crash
at any point the checkpoint names exactly the prefix of the listing whose results are stored,
and a chunk done again adds no row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog, checked_actor
from vigil.store.errors import StoreError
from vigil.store.models import ScanJob, ScanJobMatch, ScanJobStatus, utcnow

RESUMABLE = (ScanJobStatus.RUNNING, ScanJobStatus.INTERRUPTED, ScanJobStatus.FAILED)
ENDED = (ScanJobStatus.COMPLETED, ScanJobStatus.CANCELLED)
MAX_ERROR_CHARS = 2000
MAX_PAGE = 500
INSERT_BATCH = 500  # rows per INSERT: bounded statements whatever a chunk matched
SCAN_JOB_SUBJECT = "scan_job"


class ScanJobNotFound(StoreError, LookupError):
    """No scan job has that id."""


class ScanJobEnded(StoreError):
    """The job is completed or cancelled: nothing to resume or cancel."""


class InvalidScanJobRequest(StoreError, ValueError):
    """A request about a scan job that cannot be taken as given (e.g. no actor)."""


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One entry one object matched, as the pipeline found it."""

    identity: str
    bucket: str
    key: str
    version: str
    list_id: int
    entry_id: int
    signal_type: str
    distance: int | None = None


@dataclass(frozen=True, slots=True)
class ChunkTally:
    """What one finished chunk adds to its job."""

    number: int  # 1, 2, ...: the Parquet part it was written to
    checkpoint: str  # the key of its last object
    objects: int
    bytes: int
    errors: int


def start_job(
    session: Session,
    *,
    source: str,
    engine: str,
    options: Mapping[str, Any],
    store_dir: str,
    total: int | None = None,
) -> ScanJob:
    job = ScanJob(
        source=source, engine=engine, options=dict(options), store_dir=store_dir, total=total
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> ScanJob:
    job = session.get(ScanJob, job_id)
    if job is None:
        raise ScanJobNotFound(f"no scan job {job_id}")
    return job


def latest_resumable(session: Session, source: str) -> ScanJob | None:
    """The newest unfinished job of ``source`` (the run key), if any."""
    return session.scalar(
        select(ScanJob)
        .where(ScanJob.source == source, ScanJob.status.in_(RESUMABLE))
        .order_by(ScanJob.id.desc())
        .limit(1)
    )


def list_jobs(session: Session, *, limit: int = 50) -> list[ScanJob]:
    limit = max(1, min(limit, MAX_PAGE))
    return list(session.scalars(select(ScanJob).order_by(ScanJob.id.desc()).limit(limit)))


def resume_job(session: Session, job_id: int, *, engine: str | None = None) -> ScanJob:
    """Mark a job running again (its checkpoint says where from)."""
    job = get_job(session, job_id)
    if job.status in ENDED:
        raise ScanJobEnded(f"scan job {job_id} is {job.status.value}")
    job.status, job.finished_at, job.updated_at = ScanJobStatus.RUNNING, None, utcnow()
    if engine is not None:
        job.engine = engine
    session.flush()
    return job


def commit_chunk(
    session: Session, job_id: int, chunk: ChunkTally, matches: Sequence[MatchRow]
) -> int:
    """Store a finished chunk's matches and move the checkpoint past it; the number of new
    match rows (a chunk stored before a crash adds none)."""
    added = insert_matches(session, job_id, matches)
    session.execute(
        update(ScanJob)
        .where(ScanJob.id == job_id)
        .values(
            checkpoint=chunk.checkpoint,
            chunks=chunk.number,
            objects=ScanJob.objects + chunk.objects,
            bytes=ScanJob.bytes + chunk.bytes,
            errors=ScanJob.errors + chunk.errors,
            matches=ScanJob.matches + added,
            updated_at=utcnow(),
        )
    )
    return added


def insert_matches(session: Session, job_id: int, matches: Sequence[MatchRow]) -> int:
    """Add the rows not stored yet; how many were new."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if on_postgresql else sqlite.insert
    now, added = utcnow(), 0
    for start in range(0, len(matches), INSERT_BATCH):
        rows = [
            {"job_id": job_id, "created_at": now, **_row(match)}
            for match in matches[start : start + INSERT_BATCH]
        ]
        statement = (
            insert(ScanJobMatch).values(rows).on_conflict_do_nothing().returning(ScanJobMatch.id)
        )
        added += len(session.execute(statement).all())
    return added


def add_matches(session: Session, job_id: int, matches: Sequence[MatchRow]) -> int:
    """Matches found after the job's chunks (retroactive matching); counted on the job."""
    added = insert_matches(session, job_id, matches)
    if added:
        session.execute(
            update(ScanJob)
            .where(ScanJob.id == job_id)
            .values(matches=ScanJob.matches + added, updated_at=utcnow())
        )
    return added


def end_job(
    session: Session,
    job_id: int,
    status: ScanJobStatus,
    *,
    error: str | None = None,
    now: datetime | None = None,
) -> ScanJob:
    job = get_job(session, job_id)
    when = now or utcnow()
    job.status, job.updated_at = status, when
    job.finished_at = when if status in ENDED else None
    if error is not None:
        job.last_error = error[:MAX_ERROR_CHARS]
    session.flush()
    return job


def cancel_job(session: Session, job_id: int, *, actor: str) -> ScanJob:
    """Stop a job for good; its results so far stay. A running process sees it at its
    next chunk and stops. Audited under ``actor``, in the same transaction."""
    actor = checked_actor(actor, refusal=InvalidScanJobRequest)
    job = get_job(session, job_id)
    if job.status in ENDED:
        raise ScanJobEnded(f"scan job {job_id} is already {job.status.value}")
    before = job.status.value
    ended = end_job(session, job_id, ScanJobStatus.CANCELLED)
    AuditLog(session).append(
        AuditAction.SETTING_CHANGED,
        actor=actor,
        subject_type=SCAN_JOB_SUBJECT,
        subject_id=str(job_id),
        details={"change": "cancelled", "old": {"status": before}, "source": job.source[:200]},
    )
    return ended


def job_status(session: Session, job_id: int) -> ScanJobStatus:
    status = session.scalar(select(ScanJob.status).where(ScanJob.id == job_id))
    if status is None:
        raise ScanJobNotFound(f"no scan job {job_id}")
    return status


def _row(match: MatchRow) -> dict[str, Any]:
    return {
        "identity": match.identity,
        "bucket": match.bucket,
        "key": match.key,
        "version": match.version,
        "list_id": match.list_id,
        "entry_id": match.entry_id,
        "signal_type": match.signal_type,
        "distance": match.distance,
    }
