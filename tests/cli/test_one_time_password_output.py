"""Issue 14, item 12: the first administrator's one-time password went to stdout, so into
the service's log. Now: on a terminal it is shown; otherwise only a path is, and the password
is in a 0600 file there."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from vigil.cli.one_time_password_output import _is_terminal, hand_over, password_file

PASSWORD = "Yc1oQ2-not-a-real-one-time-password"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))


def test_a_terminal_sees_the_password_and_no_file_is_written() -> None:
    screen = _Terminal()
    assert (
        hand_over(
            Console(file=screen, width=300),
            PASSWORD,
            "admin",
            headline="created administrator 'admin'",
        )
        is None
    )
    assert PASSWORD in screen.getvalue()
    assert not password_file("admin").exists()


def test_a_log_gets_only_the_path_of_a_private_file() -> None:
    log = io.StringIO()  # what a service manager keeps
    path = hand_over(
        Console(file=log, width=300),
        PASSWORD,
        "admin",
        headline="First run: created the administrator 'admin'",
    )
    assert path == password_file("admin") and path is not None
    assert PASSWORD not in log.getvalue() and str(path) in log.getvalue()
    assert path.read_text() == PASSWORD + "\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_an_older_readable_file_is_narrowed_and_replaced() -> None:
    path = password_file("admin")
    path.parent.mkdir(parents=True)
    path.write_text("an earlier password, much longer than the new one\n")
    os.chmod(path, 0o644)
    hand_over(Console(file=io.StringIO()), PASSWORD, "admin", headline="reset")
    assert path.read_text() == PASSWORD + "\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_closed_or_odd_output_counts_as_no_terminal() -> None:
    closed = io.StringIO()
    closed.close()
    assert _is_terminal(closed) is False
    assert _is_terminal(object()) is False  # type: ignore[arg-type]
