"""Reading a new password on the command line: a hidden prompt asked twice, or one line on
standard input for scripts. Never an argument: it would land in shell history."""

from __future__ import annotations

import typer

from vigil.cli.database_access import EXIT_FATAL, error_console, fail
from vigil.store.accounts.passwords import MAX_PASSWORD_LENGTH


def read_new_password(*, from_stdin: bool) -> str:
    return _read_stdin_password() if from_stdin else _prompt_password()


def _prompt_password() -> str:
    password = typer.prompt("Password", hide_input=True)
    again = typer.prompt("Repeat the password", hide_input=True)
    if password != again:
        fail(error_console(), "the two passwords differ", EXIT_FATAL)
    return str(password)


def _read_stdin_password() -> str:
    # One bounded line: an endless stdin must not fill memory.
    line = typer.get_text_stream("stdin").readline(MAX_PASSWORD_LENGTH + 2)
    password = line.rstrip("\r\n")
    if not password:
        fail(error_console(), "no password on stdin", EXIT_FATAL)
    return password
