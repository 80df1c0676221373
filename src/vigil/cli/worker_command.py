"""`vigil worker`: the background jobs of vigil.jobs.registry, apart from the web workers.

Run it beside `vigil serve --no-jobs` (or on another machine sharing the PostgreSQL database)
so that a slow retention run or a burst of webhooks never competes with uploads for a web
worker. It serves no HTTP; it runs until SIGTERM or Ctrl-C, then stops its jobs (a run under
way finishes first) and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import typer
from rich.console import Console

from vigil.cli.database_access import command_errors, configured_database, error_console, fail
from vigil.core.settings import Settings, load_settings
from vigil.jobs.registry import REGISTRY, JobServices, UnknownJob, chosen
from vigil.jobs.runner import BackgroundJobs, JobUnavailable
from vigil.store.evidence import EvidenceVault, MasterKeyMissing

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def worker(
    jobs: list[str] | None = typer.Option(
        None,
        "--jobs",
        metavar="NAME",
        help="Run only these jobs (repeat the option, or separate names with commas); "
        "default: every job the settings enable.",
    ),
    list_jobs: bool = typer.Option(False, "--list", help="List the jobs and their intervals."),
    config: Path | None = typer.Option(
        None, "--config", exists=True, dir_okay=False, help="Settings file (TOML)."
    ),
) -> None:
    """Run the background jobs (webhooks, retention, report sending, intake expiry, triage)
    without serving HTTP, until SIGTERM or Ctrl-C."""
    console = error_console()
    if config is not None:
        os.environ["VIGIL_CONFIG"] = str(config.resolve())
    with command_errors(console):
        settings = load_settings()
    if list_jobs:
        _print_jobs(settings)
        return
    try:
        specs = chosen(_names(jobs))
    except UnknownJob as exc:
        fail(console, str(exc))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with command_errors(console), configured_database(settings) as database:
        services = JobServices(settings, database, _vault(settings))
        running = BackgroundJobs()
        try:
            running.start(services, specs, strict=bool(jobs))
        except JobUnavailable as exc:
            fail(console, str(exc))
        _run_until_stopped(running, console)


def _names(options: list[str] | None) -> list[str]:
    return [name.strip() for option in options or [] for name in option.split(",") if name.strip()]


def _vault(settings: Settings) -> EvidenceVault | None:
    """None without a master key: the jobs that need it are then left out (and say so)."""
    try:
        return EvidenceVault.from_settings(settings)
    except MasterKeyMissing:
        return None


def _run_until_stopped(running: BackgroundJobs, console: Console) -> None:
    if not running.names:
        fail(console, "no background job can run with these settings (see the log above)")
    stopping = threading.Event()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda _number, _frame: stopping.set())
    console.print(
        f"vigil worker: running {', '.join(running.names)}; stop with SIGTERM or Ctrl-C.",
        markup=False,
    )
    while not stopping.wait(1.0):  # a timed wait lets the signal handler run promptly
        pass
    console.print("vigil worker: stopping...", markup=False)
    running.stop()
    console.print("vigil worker: stopped.", markup=False)


def _print_jobs(settings: Settings) -> None:
    console = Console(highlight=False, soft_wrap=True)
    for spec in REGISTRY:
        notes = ["one process at a time"] if spec.exclusive else []
        if spec.needs_vault:
            notes.append("needs the evidence master key")
        if spec.requires:
            notes.append(f"with {spec.requires}")
        extra = f" ({'; '.join(notes)})" if notes else ""
        every = f"every {spec.interval(settings):g} s"
        console.print(f"{spec.name:<14} {every:<13} {spec.summary}{extra}", markup=False)
