"""`vigil stats`: the statistics of a period as tables on the terminal (the same sections as
the console's /stats: a platform's own work, the clearinghouse's figures, or both), and `vigil
stats report`, the annual report as a PDF or self-contained HTML file ready to publish.

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
from vigil.stats.platform import InstallationFigures, PlatformFigures, installation_figures
from vigil.stats.sections import (
    CAVEAT,
    CAVEAT_TITLE,
    PLATFORM_NOTE,
    Section,
    headline,
    platform_headline,
    platform_sections,
    sections,
)
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
    figures = _installation_figures(_period(year, first, last))
    _print(Console(highlight=False, soft_wrap=False), figures)


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
    """The summary's and the report's parts follow the installation: a platform's own work,
    the clearinghouse's figures where it is enabled, both when both (docs/statistics.md)."""
    settings = load_settings()
    with store_session(error_console(), settings=settings) as session:
        return installation_figures(session, period, clearinghouse=settings.clearinghouse.enabled)


def _print(console: Console, figures: InstallationFigures) -> None:
    """The sections that apply to this installation, as on the console's /stats: the
    platform's own work, then the clearinghouse's figures."""
    console.print(f"[bold]Statistics {figures.stats.period.label}[/bold] (UTC)")
    if figures.platform is not None:
        _print_platform(console, figures.platform)
    if figures.clearinghouse:
        _print_clearinghouse(console, figures.stats)


def _print_platform(console: Console, platform: PlatformFigures) -> None:
    console.rule("This platform: detection, review and reporting", align="left")
    console.print(PLATFORM_NOTE, style="dim")
    _print_headline(console, platform_headline(platform))
    if platform.empty:
        console.print("No case was opened and no report filed in this period.")
    _print_sections(console, platform_sections(platform))


def _print_clearinghouse(console: Console, stats: Statistics) -> None:
    console.rule("Clearinghouse: reports received, triage and referrals", align="left")
    console.print(Panel(CAVEAT, title=CAVEAT_TITLE, border_style="yellow"))
    _print_headline(console, headline(stats))
    if stats.empty:
        console.print("No reports were received in this period.")
    _print_sections(console, sections(stats))


def _print_headline(console: Console, pairs: list[tuple[str, str]]) -> None:
    figures = Table(show_header=False, box=None)
    for label, value in pairs:
        figures.add_row(label, Text(value))
    console.print(figures)


def _print_sections(console: Console, chosen: list[Section]) -> None:
    for section in chosen:
        table = Table(title=section.title, header_style="bold", title_justify="left")
        for index, header in enumerate(section.table.headers):
            table.add_column(header, justify="left" if index == 0 else "right")
        for row in section.table.rows:
            table.add_row(*(Text(cell) for cell in row))  # names are data, not markup
        if section.table.rows:
            console.print(table)
        if section.note:
            console.print(section.note)
