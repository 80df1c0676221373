"""Opening the configured database for a command, and failing in one line, never a traceback.

Exit codes shared by the database commands: 0 done, 1 done but some input was rejected,
2 nothing done (bad configuration or input, unknown list, database unavailable).
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.core.settings import Settings, load_settings
from vigil.lists.sources import SourceError
from vigil.store import Database, StoreError, open_database
from vigil.store.migrate import prepare_schema

EXIT_OK, EXIT_REJECTED, EXIT_FATAL = 0, 1, 2


def error_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(console: Console, message: str, code: int = EXIT_FATAL) -> NoReturn:
    console.print(f"error: {message}", markup=False, style="bold red")
    raise typer.Exit(code)


@contextlib.contextmanager
def command_errors(console: Console) -> Iterator[None]:
    """Store, source and file errors become ``error: ...`` on stderr and exit code 2."""
    try:
        yield
    except (StoreError, SourceError) as exc:
        fail(console, str(exc))
    except SQLAlchemyError as exc:
        fail(console, f"database error: {_first_line(str(getattr(exc, 'orig', None) or exc))}")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(console, f"{where}{exc.strerror or exc}")


@contextlib.contextmanager
def configured_database(settings: Settings | None = None) -> Iterator[Database]:
    """The database the settings name, with its schema current."""
    settings = settings or load_settings()
    database = open_database(settings)
    try:
        prepare_schema(settings, database)
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def store_session(
    console: Console, *, write: bool = False, settings: Settings | None = None
) -> Iterator[Session]:
    """A transaction on the configured database, committed if the block succeeds; any
    failure, including the commit's, ends the command with a one-line error."""
    with (
        command_errors(console),
        configured_database(settings) as database,
        database.transaction(write=write) as session,
    ):
        yield session


def default_actor() -> str:
    """Who the audit trail names for a change made from this shell."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. a container with an unnamed uid
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
