"""What `vigil scan` shows while a backlog job runs: objects done, their rate and, when the
source says how many there are, the ETA; on stderr, and only on a terminal."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vigil.screening.backlog.job_overview import rate
from vigil.screening.backlog.scan_job import Progress as JobProgress
from vigil.screening.backlog.scan_job import Report


@contextlib.contextmanager
def job_progress(console: Console, done: int, total: int | None) -> Iterator[Report]:
    if not console.is_terminal:
        yield lambda _progress: None
        return
    columns = [
        TextColumn("scanning"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}" + ("/{task.total:,.0f}" if total else "")),
        TextColumn("{task.fields[rate]:.1f} objects/s"),
        TextColumn("{task.fields[errors]:,} errors, {task.fields[matches]:,} matches"),
        TimeElapsedColumn(),
    ]
    if total:
        columns += [TextColumn("ETA"), TimeRemainingColumn()]
    started = time.monotonic()
    with Progress(*columns, console=console, redirect_stdout=False) as bar:
        task = bar.add_task("scan", total=total, completed=done, rate=0.0, errors=0, matches=0)

        def report(progress: JobProgress) -> None:
            elapsed = time.monotonic() - started
            bar.update(
                task,
                completed=progress.objects,
                rate=rate(progress.objects, done, elapsed),
                errors=progress.errors,
                matches=progress.matches,
            )

        yield report
