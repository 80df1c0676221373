"""`vigil scan SOURCE --engine local|ray` for object sources: an S3 prefix, an inventory
manifest, or a folder with --engine. Starts the job (or resumes the unfinished one of the
same source and options), shows progress, and says how it ended. See docs/scanning.md.

Exit codes: 0 completed, 2 not completed (interrupted, failed, cancelled, bad arguments).
"""

from __future__ import annotations

import typer
from rich.console import Console

from vigil.cli.backlog_progress import job_progress
from vigil.cli.database_access import EXIT_OK, command_errors, configured_database, fail
from vigil.core.settings import Settings, load_settings
from vigil.screening.backlog.job_start import JobStart, job_options, start_or_resume
from vigil.screening.backlog.object_hashing import throttle
from vigil.screening.backlog.objects import ObjectSource, SourceError
from vigil.screening.backlog.scan_job import JobEnd
from vigil.screening.backlog.scan_session import (
    EngineChoice,
    JobBusy,
    JobFailed,
    job_rates,
    run_scan,
)
from vigil.screening.backlog.source_uri import open_source
from vigil.screening.backlog.throttle import Throttle
from vigil.store import Database
from vigil.store.lists.catalogue import get_list
from vigil.store.scan_jobs.jobs import get_job

OBJECT_SCHEMES = ("s3://", "manifest:", "keys:")


def is_object_source(source: str) -> bool:
    """Not a folder: a scheme the backlog sources know, or a URL they refuse by name."""
    return source.startswith(OBJECT_SCHEMES) or "://" in source


def scan_source(
    console: Console,
    uri: str,
    choice: EngineChoice,
    *,
    lists: list[str] | None,
    resume: bool,
    stop_after_chunks: int | None = None,
) -> None:
    settings = load_settings()
    with command_errors(console), configured_database(settings) as database:
        _check_lists(database, lists or [])
        source = _opened(console, uri)
        start = start_or_resume(
            database,
            source=source.describe(),
            engine=choice.kind,
            options=job_options(source.describe(), lists, settings.scanning),
            data_dir=settings.data_dir,
            total=_counted(console, source),
            resume=resume,
        )
        verb = "resuming" if start.resumed else "started"
        console.print(f"{verb} scan job {start.job_id} ({choice.kind} engine)", markup=False)
        run_started(console, settings, database, start, choice, stop_after_chunks)


def run_started(
    console: Console,
    settings: Settings,
    database: Database,
    start: JobStart,
    choice: EngineChoice,
    stop_after_chunks: int | None = None,
) -> None:
    """Run a started or resumed job to its end, and say how it ended."""
    # The listing's requests count against the job's ceiling too.
    source = _opened(console, str(start.options["source_uri"]), throttle(job_rates(start)))
    with database.transaction() as session:
        job = get_job(session, start.job_id)
        done, total = job.objects, job.total
    try:
        with job_progress(console, done, total) as report:
            end = run_scan(
                settings,
                database,
                start,
                source,
                choice,
                report=report,
                stop_after_chunks=stop_after_chunks,
            )
    except KeyboardInterrupt:
        fail(console, f"scan job {start.job_id} interrupted; `vigil scan-jobs resume` continues it")
    except (JobBusy, JobFailed) as exc:
        fail(console, str(exc))
    _summarise(console, database, start.job_id, end)


def _summarise(console: Console, database: Database, job_id: int, end: JobEnd) -> None:
    with database.transaction() as session:
        job = get_job(session, job_id)
        line = (
            f"scan job {job_id} {end.value}: {job.objects:,} objects, {job.bytes:,} bytes, "
            f"{job.errors:,} errors, {job.matches:,} matches; fingerprints in {job.store_dir}"
        )
    console.print(line, markup=False)
    if end is not JobEnd.COMPLETED:
        raise typer.Exit(2)
    raise typer.Exit(EXIT_OK)


def _opened(console: Console, uri: str, ceiling: Throttle | None = None) -> ObjectSource:
    try:
        return open_source(uri, throttle=ceiling)
    except SourceError as exc:
        fail(console, str(exc))


def _counted(console: Console, source: ObjectSource) -> int | None:
    """How many objects, for the ETA: only for someone watching, and never by listing a
    bucket twice (a manifest or a folder is read again instead, which is cheap)."""
    if not console.is_terminal or source.describe().startswith("s3://"):
        return None
    with console.status("counting objects…"):
        try:
            return sum(1 for _ in source.objects())
        except SourceError:
            return None  # the scan's own listing fails the job with the reason


def _check_lists(database: Database, names: list[str]) -> None:
    with database.transaction() as session:
        for name in names:
            get_list(session, name)  # UnknownList names the lists that exist
