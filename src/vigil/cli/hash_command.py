"""`vigil hash`: fingerprint files in parallel and print one record per file.

Exit codes: 0 every file hashed, 1 at least one file failed (its record says why),
2 the command line itself was wrong. See docs/cli-hash.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import typer
from rich.console import Console

from vigil.cli import feedback
from vigil.cli.output import OutputFormat, RecordWriter, open_writer
from vigil.fingerprint import batch, decode
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.fingerprint.record import Fingerprint
from vigil.fingerprint.walk import WalkItem, count_files, walk

EXIT_OK, EXIT_FAILED = 0, 1


def hash_files(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders to fingerprint.", show_default=False
    ),
    recursive: bool = typer.Option(
        False, "--recursive", "-r", help="Descend into sub-folders of the folders given."
    ),
    output_format: OutputFormat = typer.Option(
        OutputFormat.JSONL, "--format", "-f", case_sensitive=False, help="jsonl, csv or table."
    ),
    no_variants: bool = typer.Option(
        False, "--no-variants", help="Skip the rotated/flipped query variants."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help="Worker processes (default: one per CPU).",
    ),
    max_pixels: int = typer.Option(
        decode.DEFAULT_MAX_PIXELS,
        "--max-pixels",
        min=1,
        help="Refuse images with more pixels than this.",
    ),
    timeout: float = typer.Option(
        batch.DEFAULT_TIMEOUT,
        "--timeout",
        min=1.0,
        help="Seconds one file may take before it is abandoned (needs --workers 2 or more).",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log decoder failures with tracebacks to stderr."
    ),
) -> None:
    """Fingerprint media: MD5/SHA-1/SHA-256, PDQ with variants, video frame hashes."""
    options = FingerprintOptions(variants=not no_variants, max_pixels=max_pixels)
    stderr = Console(stderr=True)
    total = feedback.wants_progress(stderr, lambda: count_files(paths, recursive))
    tally = feedback.FailureTally()
    with _decoder_logging(verbose), _progress(stderr, total) as tick:
        # Opened inside the progress context: Rich may have rerouted sys.stdout.
        writer = open_writer(output_format, sys.stdout)
        records = fingerprint_walk(
            walk(paths, recursive), options, workers or batch.default_workers(), timeout
        )
        _write_all(records, writer, tally, tick)
    if tally.total == 0:
        stderr.print("no files found", markup=False)
    tally.report(stderr)
    raise typer.Exit(EXIT_FAILED if tally.failed else EXIT_OK)


def fingerprint_walk(
    items: Iterable[WalkItem], options: FingerprintOptions, workers: int, timeout: float
) -> Iterator[Fingerprint]:
    """Batch-hash the walk's paths and slot its failures back in at their places.

    The batch keeps input order, so each result belongs to the oldest path still
    waiting in ``places``; failures queued before that path go out first.
    """
    places: deque[Fingerprint | None] = deque()  # None: a path handed to the batch

    def paths() -> Iterator[Path]:
        for item in items:
            places.append(item if isinstance(item, Fingerprint) else None)
            if isinstance(item, Path):
                yield item

    results = batch.fingerprint_many(paths(), options, workers, timeout=timeout)
    with contextlib.closing(results):  # stops the workers if the consumer gives up
        for record in results:
            while (waiting := places.popleft()) is not None:
                yield waiting
            yield record
    yield from (failure for failure in places if failure is not None)


def _write_all(
    records: Iterator[Fingerprint],
    writer: RecordWriter,
    tally: feedback.FailureTally,
    tick: feedback.Tick,
) -> None:
    try:
        for record in records:
            writer.write(record)
            tally.add(record)
            tick()
        writer.close()
    except BrokenPipeError:
        # The reader went away (`vigil hash ... | head`): stop quietly, as Unix tools do.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_FAILED) from None


def _progress(
    console: Console, total: int | None
) -> contextlib.AbstractContextManager[feedback.Tick]:
    return feedback.no_progress() if total is None else feedback.progress_bar(console, total)


@contextlib.contextmanager
def _decoder_logging(verbose: bool) -> Iterator[None]:
    """Decoder tracebacks are noise for a person: the record already says what failed.
    Workers copy this level when they start."""
    logger = logging.getLogger("vigil")
    saved = logger.level
    if verbose:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
        logger.setLevel(logging.WARNING)
    else:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)
