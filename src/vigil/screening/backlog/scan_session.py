"""One run of a scan job in this process: its engine built, its lock held, its end recorded.

The job lock (vigil.store.job_locks, keyed by the job) keeps a second process from running
the same job; the kernel or the server releases it when the process dies, so a job left
``running`` by a ``kill -9`` is resumable at once. Ctrl-C or SIGTERM ends the job
``interrupted``, an error about the job (the source cannot be listed, the listing changed)
``failed`` with the reason; either resumes from its checkpoint.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from vigil.core.settings import Settings
from vigil.screening.backlog.chunks import ListingChanged
from vigil.screening.backlog.engine import EngineSettings, ScanEngine
from vigil.screening.backlog.fingerprint_store import FingerprintStore
from vigil.screening.backlog.job_start import JobStart
from vigil.screening.backlog.local_engine import LocalEngine
from vigil.screening.backlog.object_hashing import Rates
from vigil.screening.backlog.objects import ObjectSource, SourceError
from vigil.screening.backlog.scan_job import JobEnd, Report, run_job
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.store.database import Database
from vigil.store.job_locks import held_alone
from vigil.store.models import ScanJobStatus
from vigil.store.scan_jobs.jobs import end_job


class JobBusy(Exception):
    """Another process is running this job."""


class JobFailed(Exception):
    """The job stopped on an error about the job itself; it is recorded and resumable."""


@dataclass(frozen=True, slots=True)
class EngineChoice:
    kind: str = "local"  # vigil.screening.backlog.engine.ENGINES
    workers: int = 1
    ray_address: str | None = None
    ray_actors: int = 2


def lock_name(job_id: int) -> str:
    return f"scan-job-{job_id}"


def run_scan(
    settings: Settings,
    database: Database,
    start: JobStart,
    source: ObjectSource,
    choice: EngineChoice,
    *,
    report: Report = lambda _progress: None,
    stop_after_chunks: int | None = None,
) -> JobEnd:
    with held_alone(database, lock_name(start.job_id)) as alone:
        if not alone:
            raise JobBusy(f"scan job {start.job_id} is running in another process")
        with _terminated_as_interrupt(), _engine(settings, database, start, choice) as engine:
            try:
                end = run_job(
                    database,
                    start.job_id,
                    source,
                    engine,
                    FingerprintStore(start.store_dir),
                    chunk_objects=int(start.options["chunk_objects"]),
                    report=report,
                    stop_after_chunks=stop_after_chunks,
                )
            except KeyboardInterrupt:
                _end(database, start.job_id, ScanJobStatus.INTERRUPTED, "interrupted")
                raise
            except (SourceError, ListingChanged) as exc:
                _end(database, start.job_id, ScanJobStatus.FAILED, str(exc))
                raise JobFailed(str(exc)) from exc
            except Exception as exc:
                _end(database, start.job_id, ScanJobStatus.FAILED, repr(exc))
                raise
        if end is JobEnd.STOPPED:
            _end(database, start.job_id, ScanJobStatus.INTERRUPTED, None)
        return end


def engine_settings(start: JobStart, settings: Settings, choice: EngineChoice) -> EngineSettings:
    return EngineSettings(
        source_uri=str(start.options["source_uri"]),
        max_object_bytes=int(start.options["max_object_bytes"]),
        workers=choice.workers,
        chunks_in_flight=settings.scanning.chunks_in_flight,
        rates=job_rates(start),
    )


def job_rates(start: JobStart) -> Rates:
    requests, nbytes = (
        start.options.get("requests_per_second"),
        start.options.get("bytes_per_second"),
    )
    return (
        float(requests) if requests is not None else None,
        float(nbytes) if nbytes is not None else None,
    )


@contextlib.contextmanager
def _engine(
    settings: Settings, database: Database, start: JobStart, choice: EngineChoice
) -> Iterator[ScanEngine]:
    lists = start.options.get("lists")
    config = engine_settings(start, settings, choice)
    if choice.kind == "ray":
        from vigil.screening.backlog.ray_engine import RayEngine  # Ray is an optional extra

        engine = RayEngine(
            settings, config, only_lists=lists, address=choice.ray_address, actors=choice.ray_actors
        )
        try:
            yield engine
        finally:
            engine.close()
        return
    with LiveIndex.open(database, index_root(settings.data_dir)) as live:
        yield LocalEngine(Matcher(live, only_lists=lists), config)


def _end(database: Database, job_id: int, status: ScanJobStatus, error: str | None) -> None:
    with database.transaction(write=True) as session:
        end_job(session, job_id, status, error=error)


@contextlib.contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) ends it as Ctrl-C does: interrupted, resumable."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
