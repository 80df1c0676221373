"""`vigil scan`: match a whole folder tree (or a list of files) and write a report.

Resumable: every finished file is recorded in the database, and running the same scan again
(same folder or file list) continues the latest unfinished run without hashing finished
files again; the new report still lists them, from the stored results. Exit codes: 0 done,
1 done but some files could not be hashed, 2 nothing or not everything done (bad
arguments, database unavailable, interrupted). See docs/scanning.md.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import typer
from rich.console import Console

from vigil.cli import feedback
from vigil.cli.backlog_scan import is_object_source, scan_source
from vigil.cli.database_access import EXIT_OK, EXIT_REJECTED, error_console, fail
from vigil.cli.match_command import LIST_OPTION_HELP, open_screener
from vigil.core.private_files import open_private
from vigil.fingerprint import batch
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.fingerprint.walk import WalkItem, count_files, walk
from vigil.screening.backlog.engine import ENGINES
from vigil.screening.backlog.scan_session import EngineChoice
from vigil.screening.scan import Scan, ScanSettings, ScanStopped, ScanTally
from vigil.screening.scan_report import ReportFormat, open_report, wanted
from vigil.screening.scan_runs import ItemRecorder, finish_run, start_run
from vigil.store.models import ScanStatus


def scan_files(
    source: str | None = typer.Argument(
        None,
        help="Folder to scan (all levels), s3://BUCKET/PREFIX, or manifest:PATH_OR_S3_URI.",
        show_default=False,
    ),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        help="Scan the files named in this file, one per line, instead of a folder.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Report file: .jsonl or .csv (default: JSON lines on stdout)."
    ),
    every_file: bool = typer.Option(False, "--all", help="Report files that matched nothing too."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Hashing processes (default: one per CPU).",
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue the latest unfinished scan of the same input."
    ),
    timeout: float = typer.Option(
        batch.DEFAULT_TIMEOUT,
        "--timeout",
        min=1.0,
        help="Seconds one file may take (with 2+ workers).",
    ),
    only_lists: list[str] | None = typer.Option(
        None, "--list", "-l", help=LIST_OPTION_HELP, show_default=False
    ),
    stop_after: int | None = typer.Option(
        None, "--stop-after", min=1, hidden=True, help="Stop after hashing this many files."
    ),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Scan as a backlog job: local processes (default for s3:// and manifest:) or ray.",
        show_default=False,
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="The Ray cluster to join (default: a local Ray)."
    ),
    stop_after_chunks: int | None = typer.Option(
        None, "--stop-after-chunks", min=1, hidden=True, help="Stop after this many chunks."
    ),
) -> None:
    """Scan a folder tree, a file list, an S3 prefix or a manifest against every enabled
    list; resumable."""
    console = error_console()
    if source is not None and (engine is not None or is_object_source(source)):
        kind = engine or "local"
        if kind not in ENGINES:
            fail(console, f"--engine must be one of {', '.join(ENGINES)}")
        choice = EngineChoice(kind, workers or batch.default_workers(), ray_address)
        scan_source(
            console,
            source,
            choice,
            lists=only_lists,
            resume=resume,
            stop_after_chunks=stop_after_chunks,
        )
    directory = Path(source) if source is not None else None
    root = _run_key(console, directory, from_file)
    settings = ScanSettings(
        FingerprintOptions(), workers or batch.default_workers(), timeout, stop_after
    )
    with open_screener(console, only_lists) as screener, _report_stream(console, output) as stream:
        start = start_run(
            screener.database,
            root,
            {"lists": sorted(only_lists) if only_lists else None},
            resume=resume,
        )
        if start.resumed:
            console.print(f"resuming scan run {start.run_id}", markup=False)
        report = open_report(ReportFormat.of(output), stream)
        recorder = ItemRecorder(screener.database, start.run_id)
        total = feedback.wants_progress(
            console, lambda: count_files(*_sources(directory, from_file))
        )
        with _progress(console, total) as tick:
            scan = Scan(
                screener.matcher,
                recorder,
                settings,
                lambda line: report.write(line) if wanted(line, every_file) else None,
                tick,
            )
            try:
                tally = scan.run(_inputs(directory, from_file, output))
            except (ScanStopped, KeyboardInterrupt):
                finish_run(screener.database, start.run_id, ScanStatus.INTERRUPTED)
                _summarise(console, scan.tally)
                fail(console, "scan interrupted; run the same command again to resume")
        finish_run(screener.database, start.run_id, ScanStatus.COMPLETED)
    _summarise(console, tally)
    raise typer.Exit(EXIT_REJECTED if tally.failed else EXIT_OK)


def _run_key(console: Console, directory: Path | None, from_file: Path | None) -> str:
    """What identifies "the same scan" for resuming."""
    if (directory is None) == (from_file is None):
        fail(console, "give either a folder or --from-file, not both or neither")
    if directory is not None:
        if not directory.is_dir():
            fail(console, f"{directory} is not a folder")
        return str(directory.resolve())
    assert from_file is not None
    if not from_file.is_file():
        fail(console, f"{from_file} is not a readable file")
    return f"file-list:{from_file.resolve()}"


def _sources(directory: Path | None, from_file: Path | None) -> tuple[Iterator[Path], bool]:
    if directory is not None:
        return iter([directory]), True
    assert from_file is not None
    return _listed_paths(from_file), False


def _listed_paths(from_file: Path) -> Iterator[Path]:
    with from_file.open(encoding="utf-8", errors="surrogateescape") as lines:
        for line in lines:
            if name := line.rstrip("\r\n"):
                yield Path(name)


def _inputs(
    directory: Path | None, from_file: Path | None, output: Path | None
) -> Iterator[WalkItem]:
    """The files to scan, less the report being written (it may sit inside the tree)."""
    report = output.resolve() if output is not None else None
    for item in walk(*_sources(directory, from_file)):
        if not (isinstance(item, Path) and report is not None and item.resolve() == report):
            yield item


@contextlib.contextmanager
def _report_stream(console: Console, output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    try:
        # 0600: a report names the files that matched, and where they are.
        stream = open_private(output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        fail(console, f"cannot write the report {output}: {exc.strerror or exc}")
    with stream:
        yield stream


def _progress(
    console: Console, total: int | None
) -> contextlib.AbstractContextManager[feedback.Tick]:
    return feedback.no_progress() if total is None else feedback.progress_bar(console, total)


def _summarise(console: Console, tally: ScanTally) -> None:
    console.print(
        f"{tally.hashed} files hashed, {tally.reused} from an earlier attempt, "
        f"{tally.matched} matched, {tally.failed} failed",
        markup=False,
    )
