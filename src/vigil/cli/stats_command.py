"""`vigil stats`: the statistics of a period as tables on the terminal, and `vigil stats
report`, the annual report as a PDF or self-contained HTML file ready to publish.

The period is a calendar year (--year, this year by default) or --from/--to (days, both
included, UTC). Exit codes: 0 done, 2 nothing done (bad period, database unavailable).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from vigil.cli.database_access import error_console, fail, store_session
from vigil.core.settings import load_settings
from vigil.stats.annual_report import ReportFormat, render
from vigil.stats.figures import Statistics
from vigil.stats.period import InvalidPeriod, Period
from vigil.stats.platform import InstallationFigures, installation_figures
from vigil.stats.queries import statistics
from vigil.stats.sections import CAVEAT, CAVEAT_TITLE, headline, sections
from vigil.store.models import utcnow

app = typer.Typer(
    no_args_is_help=False,
    add_completion=False,
    invoke_without_command=True,
    help="Statistics: reports, files, triage, routing and outcomes of a period.",
)

_YEAR = typer.Option(None, "--year", help="A calendar year (default: this year).")
_FROM = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
_TO = typer.Option(
    None, "--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD; default: today)."
)


@app.callback()
def summary(
    ctx: typer.Context,
    year: int | None = _YEAR,
    first: datetime | None = _FROM,
    last: datetime | None = _TO,
) -> None:
    """The figures of a period as tables (this year unless told otherwise)."""
    if ctx.invoked_subcommand is not None:
        return
    stats = _statistics(_period(year, first, last))
    _print(Console(highlight=False, soft_wrap=False), stats)


@app.command("report")
def report(
    year: int | None = _YEAR,
    first: datetime | None = _FROM,
    last: datetime | None = _TO,
    report_format: ReportFormat | None = typer.Option(
        None,
        "--format",
        case_sensitive=False,
        help="pdf or html (default: from the output's suffix, else pdf).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        dir_okay=False,
        help="The file to write (default: vigil-statistics-PERIOD.FORMAT here).",
    ),
) -> None:
    """Write the report of a period: charts, tables, methodology and the caveat."""
    period = _period(year, first, last)
    chosen = report_format or _format_of(output)
    target = output or Path(f"vigil-statistics-{period.label.replace(' ', '_')}.{chosen}")
    figures = _installation_figures(period)
    content = render(figures.stats, chosen, figures.platform, clearinghouse=figures.clearinghouse)
    try:
        target.write_bytes(content)
    except OSError as exc:
        fail(error_console(), f"{target}: {exc.strerror or exc}")
    typer.echo(f"wrote the {chosen.value.upper()} report for {period.label} to {target}")


def _period(year: int | None, first: datetime | None, last: datetime | None) -> Period:
    console = error_console()
    try:
        if year is not None:
            if first or last:
                fail(console, "give either --year or --from/--to, not both")
            return Period.year(year)
        if first is None:
            if last is not None:
                fail(console, "--to needs --from")
            return Period.year(utcnow().year)
        return Period.between(first.date(), (last.date() if last else _today()))
    except InvalidPeriod as exc:
        fail(console, str(exc))


def _today() -> date:
    return utcnow().date()


def _format_of(output: Path | None) -> ReportFormat:
    if output is not None and output.suffix.lower() in (".html", ".htm"):
        return ReportFormat.HTML
    return ReportFormat.PDF


def _installation_figures(period: Period) -> InstallationFigures:
    """The report's parts follow the installation: a platform's own work, the
    clearinghouse's figures where it is enabled, both when both (docs/statistics.md)."""
    settings = load_settings()
    with store_session(error_console(), settings=settings) as session:
        return installation_figures(session, period, clearinghouse=settings.clearinghouse.enabled)


def _statistics(period: Period) -> Statistics:
    with store_session(error_console()) as session:
        return statistics(session, period)


def _print(console: Console, stats: Statistics) -> None:
    console.print(f"[bold]Statistics {stats.period.label}[/bold] (UTC)")
    console.print(Panel(CAVEAT, title=CAVEAT_TITLE, border_style="yellow"))
    figures = Table(show_header=False, box=None)
    for label, value in headline(stats):
        figures.add_row(label, Text(value))
    console.print(figures)
    if stats.empty:
        console.print("No reports were received in this period.")
    for section in sections(stats):
        table = Table(title=section.title, header_style="bold", title_justify="left")
        for index, header in enumerate(section.table.headers):
            table.add_column(header, justify="left" if index == 0 else "right")
        for row in section.table.rows:
            table.add_row(*(Text(cell) for cell in row))  # names are data, not markup
        if section.table.rows:
            console.print(table)
        if section.note:
            console.print(section.note)
