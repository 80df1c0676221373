"""What a person is shown of a backlog scan job, on the terminal, in the API and in the
console alike (issue 17): its status as the person should read it (a ``running`` job whose
process died says so), its counters, its rate and, when the source said how many objects it
holds, its percentage and ETA.

The rate of a stored job is its objects over the time from its start to its last checkpoint:
the only times the database keeps. For a job that was interrupted and resumed it therefore
counts the pause too and is lower than the live rate `vigil scan` shows; the ETA built on it
errs late, never early.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigil.screening.backlog.scan_session import lock_name
from vigil.store import Database
from vigil.store.job_locks import is_held
from vigil.store.models import ScanJob, ScanJobStatus
from vigil.store.scan_jobs.jobs import get_job, list_jobs
from vigil.store.scan_jobs.match_counts import MatchCounts, match_counts

PROCESS_GONE = "stopped (process gone; resume it)"


def rate(objects: int, started_with: int, seconds: float) -> float:
    """Objects per second of a run that started with ``started_with`` objects done (the
    objects of earlier runs took other time)."""
    return (objects - started_with) / seconds if seconds > 0 else 0.0


def process_gone(database: Database, job: ScanJob) -> bool:
    """``running`` in the database, but no process holds the job's lock: it died."""
    return job.status is ScanJobStatus.RUNNING and not is_held(database, lock_name(job.id))


def shown_status(database: Database, job: ScanJob) -> str:
    return PROCESS_GONE if process_gone(database, job) else job.status.value


@dataclass(frozen=True, slots=True)
class JobOverview:
    id: int
    source: str
    engine: str
    status: ScanJobStatus
    shown_status: str
    process_gone: bool
    objects: int
    total: int | None
    bytes: int
    errors: int
    matches: int
    queued: int  # matches waiting under the review ceiling
    released: int  # matches released to the review queue
    chunks: int
    checkpoint: str | None
    last_error: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    rate: float | None  # objects per second; None before any time has passed
    percent: float | None  # None when the source did not say how many objects it holds
    eta_seconds: float | None  # only while a live process scans a source of known size

    @property
    def cancellable(self) -> bool:
        return self.status not in (ScanJobStatus.COMPLETED, ScanJobStatus.CANCELLED)


def job_overviews(database: Database, *, limit: int = 50) -> list[JobOverview]:
    """The newest jobs first."""
    with database.transaction() as session:
        jobs = list_jobs(session, limit=limit)
        counts = match_counts(session, [job.id for job in jobs])
    return [_overview(database, job, counts[job.id]) for job in jobs]


def job_overview(database: Database, job_id: int) -> JobOverview:
    """Raises ScanJobNotFound for an unknown id."""
    with database.transaction() as session:
        job = get_job(session, job_id)
        counts = match_counts(session, [job.id])
    return _overview(database, job, counts[job.id])


def _overview(database: Database, job: ScanJob, counts: MatchCounts) -> JobOverview:
    gone = process_gone(database, job)
    seconds = (job.updated_at - job.started_at).total_seconds()
    speed = rate(job.objects, 0, seconds) if seconds > 0 else None
    live = job.status is ScanJobStatus.RUNNING and not gone
    return JobOverview(
        id=job.id,
        source=job.source,
        engine=job.engine,
        status=job.status,
        shown_status=PROCESS_GONE if gone else job.status.value,
        process_gone=gone,
        objects=job.objects,
        total=job.total,
        bytes=job.bytes,
        errors=job.errors,
        matches=job.matches,
        queued=counts.queued,
        released=counts.released,
        chunks=job.chunks,
        checkpoint=job.checkpoint,
        last_error=job.last_error,
        started_at=job.started_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
        rate=speed,
        percent=_percent(job.objects, job.total),
        eta_seconds=_eta(job.objects, job.total, speed) if live else None,
    )


def _percent(objects: int, total: int | None) -> float | None:
    if total is None:
        return None
    return 100.0 if total <= 0 else min(100.0, objects * 100 / total)


def _eta(objects: int, total: int | None, speed: float | None) -> float | None:
    if total is None or not speed:
        return None
    return max(0, total - objects) / speed
