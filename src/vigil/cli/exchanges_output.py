"""How `vigil exchanges` shows exchanges, a fetch under way and a fetch's result.

Nothing here can show a credential: it prints ExchangeStatus values (which hold none, nor
the checkpoint's content) and fetch reports (counts, and an ExchangeError's message, which
the clients keep free of credentials).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from vigil.exchanges.fetching import FetchProgress, FetchReport
from vigil.store.exchanges.provenance import FEEDBACK_KINDS
from vigil.store.exchanges.status import ExchangeStatus
from vigil.store.models import FeedbackState

NO_EXCHANGES = "no exchanges yet: add one with `vigil exchanges add TYPE NAME --list LIST ...`"


def when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def print_exchanges(console: Console, statuses: Sequence[ExchangeStatus]) -> None:
    if not statuses:
        console.print(NO_EXCHANGES, markup=False)
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Exchange", min_width=10, overflow="fold")
    for column in ("Type", "Lists", "On", "State", "Last success"):
        table.add_column(column, overflow="fold")
    for column in ("Entries", "Deleted", "Pending fb", "Failed fb"):
        table.add_column(column, justify="right", no_wrap=True)
    for status in statuses:
        table.add_row(
            Text(status.name),
            status.kind,
            Text(", ".join(status.lists)),
            "yes" if status.enabled else "no",
            _state(status),
            when(status.last_fetch_succeeded_at),
            str(status.entries_fetched),
            str(status.entries_deleted),
            str(status.pending_feedback),
            str(status.failed_feedback),
        )
    console.print(table)


def print_status(console: Console, status: ExchangeStatus) -> None:
    feedback = ", ".join(
        f"{state.value} {status.feedback.get(state, 0)}" for state in FeedbackState
    )
    lines = [
        ("Exchange", status.name),
        ("Type", status.kind + (f" ({status.environment})" if status.environment else "")),
        ("Service root", status.base_url),
        ("Options", ", ".join(f"{k}={v}" for k, v in sorted(status.options.items())) or "-"),
        ("Lists", ", ".join(status.lists)),
        ("Enabled", "yes" if status.enabled else "no (disabled: not fetched, feedback held)"),
        ("Feedback", _feedback_switch(status)),
        ("Retro after fetch", _retro_switch(status)),
        ("Interval", f"{status.fetch_interval_seconds} s (plus up to a tenth, as jitter)"),
        ("State", _state(status)),
        ("Checkpoint", "stored" if status.has_checkpoint else "none: next fetch from the start"),
        ("Last fetch started", when(status.last_fetch_started_at)),
        ("Last fetch finished", when(status.last_fetch_finished_at)),
        ("Last success", when(status.last_fetch_succeeded_at)),
        ("Entries fetched", str(status.entries_fetched)),
        ("Entries deleted", str(status.entries_deleted)),
        ("Bad records", str(status.record_errors)),
        ("Feedback queue", feedback),
    ]
    if status.last_error:
        lines.append(("Last error", f"{status.last_error_kind or 'error'}: {status.last_error}"))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        console.print(f"{label + ':':<{width + 1}} {value}", markup=False)


def print_fetch_report(console: Console, report: FetchReport) -> None:
    console.print(
        f"{report.exchange}: {report.entries} entries ({report.deletions} deletions) "
        f"in {report.pages} pages, {report.seconds:.1f} s",
        markup=False,
    )
    for name, counts in report.counts.items():
        console.print(
            f"  list {name}: {counts.added} added, {counts.updated} updated, "
            f"{counts.deleted} deleted",
            markup=False,
        )
    if report.error_count:
        console.print(f"  {report.error_count} bad record(s) skipped; first ones:", markup=False)
        for error in report.errors[:10]:
            console.print(f"    {error}", markup=False)


@contextlib.contextmanager
def fetch_progress(console: Console, name: str) -> Iterator[Callable[[FetchProgress], None]]:
    """A live line on a terminal: entries, pages, how far in the service's time the fetch
    has come, and a bar when the service says how many entries the fetch brings."""
    if not console.is_terminal:
        yield lambda _progress: None
        return
    progress = Progress(
        TextColumn("fetching {task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.fields[entries]} entries, {task.fields[pages]} pages", markup=False),
        TextColumn("through {task.fields[through]}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task(name, total=None, entries=0, pages=0, through="-")

        def show(done: FetchProgress) -> None:
            progress.update(
                task,
                total=done.estimated_total,
                completed=done.entries,
                entries=done.entries,
                pages=done.pages,
                through=when(done.through) if done.through else "-",
            )

        yield show


def _feedback_switch(status: ExchangeStatus) -> str:
    if status.kind not in FEEDBACK_KINDS:
        return "none (this service takes no feedback)"
    return "on: reviewers' verdicts are sent" if status.feedback_enabled else "off"


def _retro_switch(status: ExchangeStatus) -> str:
    if not status.retro_after_fetch:
        return "off"
    return "on: a fetch that changes its lists is followed by retroactive matching"


def _state(status: ExchangeStatus) -> str:
    state = status.shown_fetch_state
    if status.fetch_interrupted and status.last_fetch_started_at is not None:
        return f"{state} (started {when(status.last_fetch_started_at)}; its process died)"
    if status.last_error_kind and state == "failed":
        return f"failed ({status.last_error_kind})"
    return state
