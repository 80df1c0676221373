"""What `vigil hash` tells a person on stderr: a progress bar while it runs, then failures.

stdout carries only records, so it can be piped; everything here goes to stderr, and the
progress bar only to a terminal (a log file would fill with redraws).
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from vigil.fingerprint.record import Fingerprint

PROGRESS_MIN_FILES = 20  # below this a bar only flickers
FAILURE_EXAMPLES = 10

Tick = Callable[[], None]


class FileRateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- files/s" if speed is None else f"{speed:.1f} files/s")


@contextlib.contextmanager
def progress_bar(console: Console, total: int) -> Iterator[Tick]:
    """A bar with count, rate and ETA; yields the function to call once per file."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        FileRateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        # Rich reroutes stdout through its own console; right when both are this
        # terminal, wrong when stdout is a file or pipe (records would land on stderr).
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=False,
    )
    with progress:
        task = progress.add_task("hashing", total=total)
        yield lambda: progress.advance(task)


@contextlib.contextmanager
def no_progress() -> Iterator[Tick]:
    yield lambda: None


def wants_progress(console: Console, count: Callable[[], int]) -> int | None:
    """The file count when a bar is worth showing, else None (counting walks the tree
    once more, so it only happens when someone is watching)."""
    if not console.is_terminal:
        return None
    with console.status("counting files…"):
        total = count()
    return total if total > PROGRESS_MIN_FILES else None


@dataclass(slots=True)
class FailureTally:
    """Counts by reason and the first few failures: bounded memory over any run."""

    total: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[Fingerprint] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.reasons.values())

    def add(self, record: Fingerprint) -> None:
        self.total += 1
        if record.ok:
            return
        self.reasons[record.error_reason or "unknown"] += 1
        if len(self.examples) < FAILURE_EXAMPLES:
            self.examples.append(record)

    def report(self, console: Console) -> None:
        if not self.failed:
            return
        by_reason = ", ".join(f"{reason} {n}" for reason, n in self.reasons.most_common())
        console.print(
            f"{self.failed} of {self.total} files failed ({by_reason})",
            markup=False,
            highlight=False,
            soft_wrap=True,
            style="bold red",
        )
        for record in self.examples:
            console.print(
                f"  {record.error_reason}  {record.path}: {record.error}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        if self.failed > len(self.examples):
            console.print(
                f"  … and {self.failed - len(self.examples)} more in the output",
                markup=False,
                highlight=False,
            )
