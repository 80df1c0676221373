"""`vigil match`: fingerprint files and print which listed entries each one matches.

One JSON line per file: path, matches (list, entry, external id, signal type, distance,
variant, classification, video segments), the allow-list entries that suppressed matches,
and the hashing error if any. Exit codes: 0 done, 1 a file could not be hashed,
2 nothing done (bad configuration, database or index unavailable). See docs/scanning.md.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from vigil.cli.database_access import (
    EXIT_OK,
    EXIT_REJECTED,
    command_errors,
    configured_database,
    error_console,
    fail,
)
from vigil.core.settings import load_settings
from vigil.fingerprint import batch
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.index.errors import VigilIndexError
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import ListMatch, Matcher
from vigil.store import Database
from vigil.store.lists.catalogue import get_list


@dataclass(frozen=True, slots=True)
class Screener:
    database: Database
    matcher: Matcher


@contextlib.contextmanager
def open_screener(console: Console, only_lists: list[str] | None = None) -> Iterator[Screener]:
    """The configured database and its live match index; any failure to get them (or an
    unknown list in ``only_lists``) ends the command with a one-line error and exit code 2."""
    with command_errors(console):
        settings = load_settings()
        with configured_database(settings) as database:
            _check_lists(database, only_lists or [])
            try:
                live = LiveIndex.open(database, index_root(settings.data_dir))
            except VigilIndexError as exc:
                fail(
                    console,
                    f"match index unusable: {exc} (remove {index_root(settings.data_dir)}"
                    " to rebuild it)",
                )
            with live:
                yield Screener(database, Matcher(live, only_lists=only_lists or None))


def _check_lists(database: Database, names: list[str]) -> None:
    with database.transaction() as session:
        for name in names:
            get_list(session, name)  # UnknownList names the lists that exist


LIST_OPTION_HELP = "Match only against this list (repeatable; allow-lists always apply)."


def match_files(
    paths: list[Path] = typer.Argument(..., help="Files to match.", show_default=False),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes."),
    only_lists: list[str] | None = typer.Option(
        None, "--list", "-l", help=LIST_OPTION_HELP, show_default=False
    ),
) -> None:
    """Fingerprint files and match them against every enabled list."""
    console = error_console()
    failed = False
    with open_screener(console, only_lists) as screener:
        records = batch.fingerprint_many(paths, FingerprintOptions(), workers)
        with contextlib.closing(records):
            for record in records:
                # A file that could not be decoded still matches on its digests.
                screening = screener.matcher.screen(record.matchable())
                line: dict[str, Any] = {
                    "path": record.path,
                    "matches": [_described(m) for m in screening.matches],
                    "suppressed_by": [_described(m) for m in screening.suppressed_by],
                    "error": record.error,
                }
                failed |= not record.ok
                sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    raise typer.Exit(EXIT_REJECTED if failed else EXIT_OK)


def _described(match: ListMatch) -> dict[str, Any]:
    return match.to_dict()  # segments become dicts too
