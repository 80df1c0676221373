"""The live line of `vigil exchanges fetch` on a terminal: entries, pages, how far in the
service's time the fetch has come, and a bar once the service says how much is coming;
nothing at all when the output is not a terminal (a log or a pipe)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from vigil.cli.exchanges_output import fetch_progress
from vigil.exchanges.fetching import FetchProgress

THROUGH = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=160, color_system=None), out


def test_a_terminal_shows_entries_pages_and_through() -> None:
    console, out = _console(True)
    with fetch_progress(console, "ncmec-[bold]x") as show:
        show(FetchProgress(entries=1000, pages=1, through=None, estimated_total=None))
        show(FetchProgress(entries=2500, pages=3, through=THROUGH, estimated_total=5000))
    shown = out.getvalue()  # every refresh written, although the line is cleared at the end
    assert "fetching ncmec-[bold]x" in shown  # a name is shown as written, not as markup
    assert "2500 entries, 3 pages" in shown
    assert "through 2026-03-04 05:06:07 UTC" in shown


def test_a_pipe_shows_nothing() -> None:
    console, out = _console(False)
    with fetch_progress(console, "tat") as show:
        show(FetchProgress(entries=3, pages=1, through=THROUGH, estimated_total=10))
    assert out.getvalue() == ""
