"""Where a one-time password that Vigil made up goes (the first administrator's, from
`vigil serve` or `vigil admin bootstrap`; a reset one, from `vigil admin reset-password`).

A person at a terminal sees it there. Anything else (a service manager, a pipe, a log file)
gets only a path: the password is written to ``<config dir>/one-time-password-<user>``,
beside the evidence master key, 0600 in a 0700 folder, so it never lands in a service log
(issue 14). It is good only for choosing a new password; delete the file once used.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from rich.console import Console

from vigil.core.private_files import open_private, private_directory
from vigil.store.evidence.keys import default_master_key_path

FILE_PREFIX = "one-time-password-"


def password_file(username: str) -> Path:
    """``username`` is a validated Vigil user name (ASCII letters, digits, ``._@-``)."""
    return default_master_key_path().parent / f"{FILE_PREFIX}{username}"


def hand_over(console: Console, password: str, username: str, *, headline: str) -> Path | None:
    """Show ``headline`` and the password on ``console`` when it is a terminal; otherwise
    write the password to password_file and show only the headline and the path. Returns the
    file written, if any."""
    if _is_terminal(console.file):
        console.print(
            f"{headline}; one-time password: {password}", markup=False, style="bold yellow"
        )
        return None
    path = password_file(username)
    private_directory(path.parent)
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    console.print(
        f"{headline}; the one-time password is in {path} (readable only by this "
        "user: this output is not a terminal, so the password is not printed). "
        "Delete the file once the password is changed.",
        markup=False,
        style="bold yellow",
    )
    return path


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or not a real stream
        return False
