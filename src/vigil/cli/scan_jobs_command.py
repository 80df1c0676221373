"""`vigil scan-jobs list|status|resume|cancel|retro|release`: backlog scan jobs (issue 17).

A job left ``running`` by a process that died (kill -9, a lost node) shows as such and is
resumed like an interrupted one: `vigil scan-jobs resume ID` continues after its checkpoint.
"""

from __future__ import annotations

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from vigil.cli.backlog_scan import run_started
from vigil.cli.database_access import (
    EXIT_OK,
    command_errors,
    configured_database,
    default_actor,
    fail,
)
from vigil.cli.match_command import open_screener
from vigil.core.settings import load_settings
from vigil.fingerprint.batch import default_workers
from vigil.screening.backlog.engine import ENGINES
from vigil.screening.backlog.job_overview import shown_status
from vigil.screening.backlog.job_start import resume_by_id
from vigil.screening.backlog.retro_round import retro_round
from vigil.screening.backlog.review_release import release_matches
from vigil.screening.backlog.scan_session import EngineChoice
from vigil.store.scan_jobs.jobs import (
    ScanJobEnded,
    cancel_job,
    get_job,
    list_jobs,
)
from vigil.store.scan_jobs.matches import queued_count
from vigil.store.scan_jobs.retro_state import RetroSummary, retro_summary

app = typer.Typer(no_args_is_help=True, help="Backlog scan jobs: list, status, resume, cancel.")

ENGINE_HELP = "Where hashing and matching run: local processes, or Ray."


def _console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@app.command("list")
def list_command(
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Show at most this many jobs."),
) -> None:
    """The newest jobs first."""
    console = Console(highlight=False, soft_wrap=True)
    with command_errors(console), configured_database() as database:
        with database.transaction() as session:
            jobs = list_jobs(session, limit=limit)
            retro = retro_summary(session)
            table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
            for column in ("Job", "Status", "Engine", "Source", "Objects", "Errors", "Matches"):
                table.add_column(column, overflow="fold")
            for job in jobs:
                table.add_row(
                    str(job.id),
                    shown_status(database, job),
                    job.engine,
                    job.source,
                    f"{job.objects:,}",
                    f"{job.errors:,}",
                    f"{job.matches:,}",
                )
        console.print(table if jobs else "no scan jobs yet: start one with `vigil scan SOURCE`")
        console.print(retro_line(retro), markup=False)


def retro_line(retro: RetroSummary) -> str:
    """The last retroactive matching round, failed or not, and where the next one starts."""
    if retro.last_at is None:
        return "retroactive matching: no round yet (vigil scan-jobs retro)"
    when = f"{retro.last_at:%Y-%m-%d %H:%M:%S} UTC by {retro.last_by}"
    outcome = (
        f"FAILED: {retro.last_error}"
        if retro.last_error is not None
        else f"{retro.last_matches:,} new matches for review"
    )
    return (
        f"retroactive matching: last round {when}: {outcome}; next starts after {retro.checkpoint}"
    )


@app.command("status")
def status_command(job_id: int = typer.Argument(..., help="The job's number.")) -> None:
    """One job: where it is, its counters, its checkpoint and its queued matches."""
    console = Console(highlight=False, soft_wrap=True)
    with command_errors(console), configured_database() as database:
        with database.transaction() as session:
            job = get_job(session, job_id)
            lines = [
                f"job {job.id}: {shown_status(database, job)} ({job.engine} engine)",
                f"source: {job.source}",
                f"objects: {job.objects:,}"
                + (f" of {job.total:,}" if job.total is not None else ""),
                f"bytes: {job.bytes:,}; errors: {job.errors:,}; matches: {job.matches:,}"
                f" ({queued_count(session, job.id):,} waiting for review)",
                f"chunks finished: {job.chunks:,}; checkpoint: {job.checkpoint or '-'}",
                f"fingerprints: {job.store_dir}",
                f"started {job.started_at:%Y-%m-%d %H:%M:%S} UTC, "
                f"updated {job.updated_at:%Y-%m-%d %H:%M:%S} UTC",
            ]
            if job.last_error:
                lines.append(f"last error: {job.last_error}")
        for line in lines:
            console.print(line, markup=False)


@app.command("resume")
def resume_command(
    job_id: int = typer.Argument(..., help="The job's number."),
    engine: str = typer.Option("local", "--engine", help=ENGINE_HELP),
    ray_address: str | None = typer.Option(None, "--ray-address", help="A Ray cluster to join."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Hashing processes of the local engine (default: one per CPU).",
    ),
    stop_after_chunks: int | None = typer.Option(
        None, "--stop-after-chunks", min=1, hidden=True, help="Stop after this many chunks."
    ),
) -> None:
    """Continue a job after its checkpoint (interrupted, failed, or its process died)."""
    console = _console()
    if engine not in ENGINES:
        fail(console, f"--engine must be one of {', '.join(ENGINES)}")
    settings = load_settings()
    choice = EngineChoice(engine, workers or default_workers(), ray_address)
    with command_errors(console), configured_database(settings) as database:
        try:
            start = resume_by_id(database, job_id, engine)
        except ScanJobEnded as exc:
            fail(console, str(exc))
        console.print(f"resuming scan job {job_id} ({engine} engine)", markup=False)
        run_started(console, settings, database, start, choice, stop_after_chunks)


@app.command("cancel")
def cancel_command(job_id: int = typer.Argument(..., help="The job's number.")) -> None:
    """Stop a job for good (a running one stops before its next chunk); results stay."""
    console = _console()
    with command_errors(console), configured_database() as database:
        try:
            with database.transaction(write=True) as session:
                cancel_job(session, job_id, actor=default_actor())
        except ScanJobEnded as exc:
            fail(console, str(exc))
    console.print(f"scan job {job_id} cancelled", markup=False)
    raise typer.Exit(EXIT_OK)


@app.command("retro")
def retro_command(
    since: int | None = typer.Option(
        None,
        "--since",
        min=0,
        show_default=False,
        help="Change-feed number to start after (default: where the last round ended).",
    ),
) -> None:
    """Match every job's stored fingerprints against the list entries changed since the
    last round (its end is kept in the database), without reading media again; new matches
    wait for review. One round at a time: a second one is refused."""
    console = Console(highlight=False, soft_wrap=True)
    settings = load_settings()
    with open_screener(_console()) as screener, command_errors(console):
        done = retro_round(screener.database, settings.data_dir, screener.matcher, since)
    for job_id, match in done.matches:
        console.print(
            f"job {job_id}: {match.identity} matches entry {match.entry_id} of list "
            f"{match.list_id} ({match.signal_type})",
            markup=False,
        )
    console.print(
        f"{done.entries} changed entries since {done.since}: {len(done.matches)} matches "
        f"of {done.objects} stored objects, {done.queued} new for review; next round starts "
        f"after {done.checkpoint}",
        markup=False,
    )


@app.command("release")
def release_command() -> None:
    """Release queued matches into review, up to [scanning] review_ceiling_per_hour."""
    console = _console()
    settings = load_settings()
    with command_errors(console), configured_database(settings) as database:
        released = release_matches(database, settings.scanning.review_ceiling_per_hour)
        with database.transaction() as session:
            waiting = queued_count(session)
    console.print(f"{released} objects released to review, {waiting} matches waiting", markup=False)
