"""How `vigil lists` shows lists, their activity and import reports to a person."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from vigil.store.lists.activity import EntryEventView, ImportView
from vigil.store.lists.catalogue import ListSummary
from vigil.store.lists.importing import ImportReport
from vigil.store.models import EntryStatus

ERRORS_SHOWN = 20
STATUS_COLUMNS = (
    EntryStatus.ACTIVE,
    EntryStatus.DISABLED,
    EntryStatus.QUARANTINED,
    EntryStatus.DELETED,
)
_STATUS_HEADERS = {
    EntryStatus.ACTIVE: "Active",
    EntryStatus.DISABLED: "Disabled",
    EntryStatus.QUARANTINED: "Quar.",
    EntryStatus.DELETED: "Deleted",
}


def print_summaries(console: Console, summaries: Sequence[ListSummary]) -> None:
    if not summaries:
        console.print("no hash lists yet: create one with `vigil lists create NAME`", markup=False)
        return
    # Borderless, so nine columns fit 80 characters; long names wrap.
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("List", min_width=10, overflow="fold")
    for column in ("State", "Kind", "Dist", "MinQ"):
        table.add_column(column, no_wrap=True)
    for header in _STATUS_HEADERS.values():
        table.add_column(header, justify="right", no_wrap=True)
    for summary in summaries:
        table.add_row(
            Text(summary.name),
            _state(summary),
            _kind(summary).removesuffix(" list"),
            str(summary.pdq_distance),
            str(summary.min_quality),
            *(str(summary.count(status)) for status in _STATUS_HEADERS),
        )
    console.print(table)


def print_details(
    console: Console,
    summary: ListSummary,
    imports: Sequence[ImportView],
    events: Sequence[EntryEventView],
) -> None:
    lines = [
        ("List", summary.name),
        ("Description", summary.description or "-"),
        ("State", _state(summary)),
        ("Kind", _kind(summary)),
        ("PDQ distance", str(summary.pdq_distance)),
        ("Min quality", str(summary.min_quality)),
        ("Version", summary.version or "-"),
        ("Entries", ", ".join(f"{summary.count(s)} {s.value}" for s in STATUS_COLUMNS)),
        ("Created", _when(summary.created_at)),
    ]
    for label, value in lines:
        console.print(Text.assemble((f"{label + ':':<14}", "bold"), value))
    _print_imports(console, imports)
    _print_events(console, events)


def _print_imports(console: Console, imports: Sequence[ImportView]) -> None:
    if not imports:
        return
    table = Table(
        title="Recent imports",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("Job", "File", "Format", "Status", "Records", "Errors", "Started"):
        table.add_column(column, overflow="fold")
    for job in imports:
        table.add_row(
            str(job.job_id),
            Text(job.file_name),
            job.format,
            job.status.value,
            str(job.records_done),
            str(job.errors),
            _when(job.created_at),
        )
    console.print(table)


def _print_events(console: Console, events: Sequence[EntryEventView]) -> None:
    if not events:
        return
    table = Table(
        title="Recent status changes",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("When", "Entry", "Hash", "Change", "By", "Reason"):
        table.add_column(column, overflow="fold")
    for event in events:
        old = event.old_status.value if event.old_status else "-"
        table.add_row(
            _when(event.at),
            str(event.entry_id),
            f"{event.signal_type} {event.signal[:16]}…",
            f"{old} → {event.new_status.value}",
            Text(event.actor),
            Text(event.reason or ""),
        )
    console.print(table)


def print_import_report(console: Console, report: ImportReport) -> None:
    counts = report.counts
    console.print(
        f"imported {report.source} into {report.list_name!r} ({report.format_label}) "
        f"in {report.seconds:.1f} s",
        markup=False,
    )
    if report.resumed_after:
        console.print(
            f"  resumed: the first {report.resumed_after} records were stored by "
            "an interrupted earlier run",
            markup=False,
        )
    console.print(
        f"  added {counts.added}, updated {counts.updated}, unchanged {counts.unchanged}, "
        f"deleted {counts.deleted}, restored {counts.restored}, duplicates {counts.duplicates}"
        + (
            f", deletions of unknown entries {counts.missing_deletions}"
            if counts.missing_deletions
            else ""
        ),
        markup=False,
    )
    _print_problems(console, report)


def _print_problems(console: Console, report: ImportReport) -> None:
    if report.warning_count:
        console.print(f"  {report.warning_count} warning(s):", markup=False)
        for warning in report.warnings[:ERRORS_SHOWN]:
            console.print(
                f"    {_where(report, warning.position)}: {warning.message}", markup=False
            )
    if not report.error_count:
        return
    console.print(
        f"  {report.error_count} record(s) rejected, the rest stored:",
        markup=False,
        style="bold red",
    )
    for error in report.errors[:ERRORS_SHOWN]:
        detail = f"  [{error.raw_excerpt}]" if error.raw_excerpt else ""
        console.print(
            f"    {_where(report, error.position)}: {error.message}{detail}", markup=False
        )
    if report.error_count > ERRORS_SHOWN:
        console.print(f"    … and {report.error_count - ERRORS_SHOWN} more", markup=False)


def _where(report: ImportReport, position: int) -> str:
    if position == 0:
        return "file"
    return f"item {position}" if report.format_label.startswith("vics") else f"line {position}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _state(summary: ListSummary) -> str:
    return "enabled" if summary.enabled else "disabled"


def _kind(summary: ListSummary) -> str:
    return "allow list" if summary.is_allow_list else "block list"


@contextlib.contextmanager
def byte_progress(console: Console, total: int | None) -> Iterator[Callable[[int], None]]:
    """A bar over the file's bytes on a terminal; yields the function to report bytes read."""
    if total is None or not console.is_terminal:
        yield lambda _done: None
        return
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("importing", total=total)
        yield lambda done: progress.update(task, completed=done)
