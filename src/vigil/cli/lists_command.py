"""`vigil lists`: create hash lists, import and export them, show them, switch lists and
single entries off and on. See docs/lists.md.

Results go to stdout, messages and the progress bar to stderr. Exit codes: 0 done,
1 an import stored what it could but rejected some records, 2 nothing done.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO

import typer
from rich.console import Console

from vigil.cli import lists_suspects
from vigil.cli.database_access import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_REJECTED,
    command_errors,
    configured_database,
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.cli.list_entry_output import print_entry
from vigil.cli.lists_output import (
    byte_progress,
    print_details,
    print_import_report,
    print_summaries,
)
from vigil.core.files import replacing
from vigil.core.settings import load_settings
from vigil.lists.formats import ListFormat, SignalType
from vigil.lists.formats.signals import SignalError, signal_type_named
from vigil.lists.sources import LocalFileSource
from vigil.store import DatabaseUnavailable
from vigil.store.exchanges.entry_record import entry_record
from vigil.store.lists.activity import recent_events, recent_imports
from vigil.store.lists.catalogue import (
    create_list,
    get_list,
    list_summaries,
    list_summary,
    set_list_enabled,
    update_list_settings,
)
from vigil.store.lists.entry_status import (
    StatusChange,
    disable_entry,
    enable_entry,
    resolve_entry_id,
)
from vigil.store.lists.export import ExportFormat, export_list
from vigil.store.lists.importing import ImportOptions, ImportProgress, import_file
from vigil.store.lists.suspicions import open_suspicions

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Hash lists: create, import, export, show, disable and enable; "
    "decide on the flood guard's suspect entries.",
)


class ImportFormat(StrEnum):
    CSV = "csv"
    TEXT = "text"
    JSONL = "jsonl"
    NCMEC_XML = "ncmec-xml"
    VICS = "vics"
    THREATEXCHANGE_CSV = "threatexchange-csv"


_LIST_FORMATS = {
    ImportFormat.CSV: ListFormat.CSV,
    ImportFormat.TEXT: ListFormat.PLAIN_TEXT,
    ImportFormat.JSONL: ListFormat.JSON_LINES,
    ImportFormat.NCMEC_XML: ListFormat.NCMEC_XML,
    ImportFormat.VICS: ListFormat.VICS_JSON,
    ImportFormat.THREATEXCHANGE_CSV: ListFormat.THREATEXCHANGE_CSV,
}
_ACTOR_HELP = "Who makes the change, for the audit trail (default: your login name)."


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Name of the new list.", show_default=False),
    description: str = typer.Option("", "--description", help="What the list holds."),
    distance: int | None = typer.Option(
        None,
        "--distance",
        min=0,
        max=256,
        show_default=False,
        help="Largest PDQ Hamming distance that matches (default: the matching.pdq_distance "
        "setting, 31).",
    ),
    min_quality: int | None = typer.Option(
        None,
        "--min-quality",
        min=0,
        max=100,
        show_default=False,
        help="Ignore PDQ hashes of lower quality (default: the matching.min_quality setting, 50).",
    ),
    allow_list: bool = typer.Option(
        False, "--allow-list", help="Known harmless content: matches clear rather than flag."
    ),
) -> None:
    """Create an empty, enabled hash list."""
    console = error_console()
    with command_errors(console):
        settings = load_settings()
    with store_session(console, write=True, settings=settings) as session:
        hash_list = create_list(
            session,
            name,
            description=description,
            pdq_distance=distance,
            min_quality=min_quality,
            is_allow_list=allow_list,
            defaults=settings.matching,
            actor=default_actor(),
        )
        created = (hash_list.name, hash_list.pdq_distance, hash_list.min_quality)
    typer.echo(f"created list {created[0]!r} (PDQ distance {created[1]}, min quality {created[2]})")


@app.command("import")
def import_command(
    name: str = typer.Argument(..., help="The list to import into.", show_default=False),
    file: Path = typer.Argument(..., help="The list file.", show_default=False),
    list_format: ImportFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        case_sensitive=False,
        show_default=False,
        help="The file's format (default: detected from its content).",
    ),
    signal_type: str | None = typer.Option(
        None,
        "--signal-type",
        show_default=False,
        help="Plain text only: the type of hashes without a '# signal_type:' line "
        "(md5, sha1, sha256, pdq, video_pdq).",
    ),
    vics_category: list[int] = typer.Option(
        [],
        "--vics-category",
        show_default=False,
        help="VICS only, repeatable: import items of this category (required for VICS).",
    ),
) -> None:
    """Import a list file: bad records are reported and skipped, the rest is stored.

    Importing the same file again changes nothing; an interrupted import resumes.
    Exit code 0: every record imported; 1: some rejected; 2: nothing imported."""
    console = error_console()
    with command_errors(console):
        source = LocalFileSource(
            file,
            _LIST_FORMATS[list_format] if list_format else None,
            _signal_type(console, signal_type),
            vics_categories=vics_category or None,
        )
        with configured_database() as database, byte_progress(console, _size(file)) as show:

            def progress(_done: ImportProgress) -> None:
                show(source.bytes_read)

            try:
                report = import_file(
                    database,
                    name,
                    source,
                    actor=default_actor(),
                    options=ImportOptions(),
                    on_progress=progress,
                )
            except DatabaseUnavailable as exc:
                fail(
                    console,
                    f"{exc} Records already imported are kept; run the same "
                    "command again to resume.",
                )
    print_import_report(_stdout(), report)
    raise typer.Exit(EXIT_OK if report.complete else EXIT_REJECTED)


@app.command("export")
def export_command(
    name: str = typer.Argument(..., help="The list to export.", show_default=False),
    export_format: ExportFormat = typer.Option(
        ExportFormat.CSV, "--format", "-f", case_sensitive=False, help="csv, jsonl or text."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        show_default=False,
        help="Write to this file (default: standard output).",
    ),
    include_inactive: bool = typer.Option(
        False,
        "--include-inactive",
        help="Also disabled and quarantined entries, and deleted ones as deletion records.",
    ),
) -> None:
    """Export a list's active entries (or all of them) in a format Vigil imports."""
    console = error_console()
    with store_session(console) as session:
        get_list(session, name)  # fail before an output file is created
    # The audit record commits before the file takes its name: no export goes unrecorded.
    with command_errors(console), _output(output) as out, configured_database() as database:
        count = export_list(
            database,
            name,
            out,
            export_format,
            actor=default_actor(),
            destination=output.name if output else "<stdout>",
            include_inactive=include_inactive,
        )
    console.print(
        f"exported {count} records of {name!r}" + (f" to {output}" if output else ""), markup=False
    )


@app.command("show")
def show(
    name: str | None = typer.Argument(None, help="One list to show in detail.", show_default=False),
    entry: str | None = typer.Option(
        None,
        "--entry",
        show_default=False,
        help="Show only this entry (its id or its hash): where it came from and the feedback "
        "on it.",
    ),
) -> None:
    """All lists with their entry counts, or one list's settings and recent activity, or one
    entry's origin and feedback."""
    console = error_console()
    if entry is not None and name is None:
        fail(console, "--entry needs the list: vigil lists show NAME --entry ENTRY")
    with store_session(console) as session:
        if entry is not None:
            assert name is not None  # checked above
            print_entry(_stdout(), entry_record(session, name, entry))
            return
        if name is None:
            print_summaries(_stdout(), list_summaries(session))
            return
        summary = list_summary(session, name)
        print_details(
            _stdout(),
            summary,
            recent_imports(session, summary.id),
            recent_events(session, summary.id),
        )
        suspects = open_suspicions(session, name)
        if suspects:
            lists_suspects.print_suspects(_stdout(), suspects)


@app.command("disable")
def disable(
    name: str = typer.Argument(..., help="The list.", show_default=False),
    entry: str | None = typer.Option(
        None, "--entry", show_default=False, help="Disable only this entry (its id or its hash)."
    ),
    reason: str | None = typer.Option(
        None, "--reason", show_default=False, help="Why (required with --entry)."
    ),
    actor: str | None = typer.Option(None, "--actor", show_default=False, help=_ACTOR_HELP),
) -> None:
    """Stop a whole list, or one entry of it, from matching. Nothing is deleted."""
    console = error_console()
    if entry is None:
        _no_reason_for_lists(console, reason)
        _switch_list(console, name, enabled=False, actor=actor or default_actor())
        return
    if not (reason or "").strip():
        fail(console, "give a --reason for disabling an entry")
    with store_session(console, write=True) as session:
        change = disable_entry(
            session,
            resolve_entry_id(session, name, entry),
            actor=actor or default_actor(),
            reason=reason or "",
            list_name=name,
        )
    _report_entry_change(change, "disabled")


@app.command("enable")
def enable(
    name: str = typer.Argument(..., help="The list.", show_default=False),
    entry: str | None = typer.Option(
        None, "--entry", show_default=False, help="Enable only this entry (its id or its hash)."
    ),
    reason: str | None = typer.Option(None, "--reason", show_default=False, help="Why."),
    actor: str | None = typer.Option(None, "--actor", show_default=False, help=_ACTOR_HELP),
) -> None:
    """Let a disabled list, or a disabled or quarantined entry, match again."""
    console = error_console()
    if entry is None:
        _no_reason_for_lists(console, reason)
        _switch_list(console, name, enabled=True, actor=actor or default_actor())
        return
    with store_session(console, write=True) as session:
        change = enable_entry(
            session,
            resolve_entry_id(session, name, entry),
            actor=actor or default_actor(),
            reason=reason,
            list_name=name,
        )
    _report_entry_change(change, "enabled")


@app.command("set")
def set_command(
    name: str = typer.Argument(..., help="The list.", show_default=False),
    distance: int | None = typer.Option(
        None,
        "--distance",
        min=0,
        max=256,
        show_default=False,
        help="Largest PDQ Hamming distance that matches.",
    ),
    min_quality: int | None = typer.Option(
        None,
        "--min-quality",
        min=0,
        max=100,
        show_default=False,
        help="Ignore PDQ hashes of lower quality.",
    ),
    allow_list: bool | None = typer.Option(
        None,
        "--allow-list/--no-allow-list",
        show_default=False,
        help="Whether matches clear rather than flag.",
    ),
    description: str | None = typer.Option(
        None, "--description", show_default=False, help="What the list holds."
    ),
) -> None:
    """Change a list's matching settings."""
    console = error_console()
    if distance is None and min_quality is None and allow_list is None and description is None:
        fail(
            console,
            "nothing to change: give --distance, --min-quality, "
            "--allow-list/--no-allow-list or --description",
        )
    with store_session(console, write=True) as session:
        hash_list = update_list_settings(
            session,
            name,
            description=description,
            pdq_distance=distance,
            min_quality=min_quality,
            is_allow_list=allow_list,
            actor=default_actor(),
        )
        kind = "allow list" if hash_list.is_allow_list else "block list"
        settings = (
            f"PDQ distance {hash_list.pdq_distance}, min quality {hash_list.min_quality}, {kind}"
        )
    typer.echo(f"list {name!r}: {settings}")


def _switch_list(console: Console, name: str, *, enabled: bool, actor: str) -> None:
    with store_session(console, write=True) as session:
        changed = set_list_enabled(session, name, enabled, actor=actor)
    word = "enabled" if enabled else "disabled"
    if not changed:
        typer.echo(f"list {name!r} was already {word}")
    elif enabled:
        typer.echo(f"list {name!r} enabled: its active entries match again")
    else:
        typer.echo(f"list {name!r} disabled: none of its entries match until it is enabled")


def _no_reason_for_lists(console: Console, reason: str | None) -> None:
    if reason is not None:
        fail(console, "--reason is recorded for single entries: add --entry ID")


def _report_entry_change(change: StatusChange, word: str) -> None:
    entry, name = change.entry_id, change.list_name
    if change.changed:
        typer.echo(f"entry {entry} of {name!r} {word} (was {change.old_status.value})")
    else:
        typer.echo(f"entry {entry} of {name!r} was already {word}")


def _signal_type(console: Console, name: str | None) -> SignalType | None:
    if name is None:
        return None
    try:
        return signal_type_named(name)
    except SignalError as exc:
        known = ", ".join(kind.value for kind in SignalType)
        fail(console, f"{exc} (known types: {known})")


def _size(file: Path) -> int | None:
    try:
        return file.stat().st_size
    except OSError:
        return None


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a file that appears only once it is complete: a failed export
    never leaves a truncated list behind that a later import would take for the whole."""
    if path is None:
        yield sys.stdout
        return
    with replacing(path, text=True, temporary_suffix=".partial") as out:
        yield out


app.command("suspects")(lists_suspects.suspects)
app.command("confirm-suspect")(lists_suspects.confirm)
app.command("quarantine")(lists_suspects.quarantine)

# Re-exported for tests and for callers that script the command's outcomes.
__all__ = ["EXIT_FATAL", "EXIT_OK", "EXIT_REJECTED", "ImportFormat", "app"]
