"""The annual report, ready to publish: HTML (one self-contained file, charts embedded as data:
URIs, no external resource) or PDF (matplotlib's PdfPages: text pages, then one page per
figure with its chart and the table of the same numbers). Both say first that report volume
does not measure prevalence."""

from __future__ import annotations

import base64
import io
import textwrap
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vigil.stats.charts import SERIES, Chart, all_charts, draw
from vigil.stats.figures import Statistics
from vigil.stats.sections import (
    CAVEAT,
    CAVEAT_TITLE,
    METHODOLOGY,
    WHAT_IT_MEASURES,
    Section,
    headline,
    sections,
)

# matplotlib is imported when a PDF is made (see charts.py for why not at import time).
if TYPE_CHECKING:
    from matplotlib.figure import Figure

A4 = (8.27, 11.69)  # inches, portrait
ROWS_WITH_CHART = 18  # table rows that fit under a chart on one page
ROWS_ALONE = 40
WRAP = 95  # characters per line of body text
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class ReportFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"


@dataclass(frozen=True)
class EmbeddedChart:
    alt: str
    data: str  # base64 PNG


def title(stats: Statistics) -> str:
    return f"Clearinghouse statistics {stats.period.label}"


def render(stats: Statistics, report_format: ReportFormat) -> bytes:
    if report_format is ReportFormat.HTML:
        return render_html(stats).encode()
    return render_pdf(stats)


def render_html(stats: Statistics, charts: list[Chart] | None = None) -> str:
    embedded = {
        chart.name: EmbeddedChart(chart.alt, base64.b64encode(chart.png).decode())
        for chart in (charts or all_charts(stats))
    }
    return _TEMPLATES.get_template("annual_report.html").render(
        title=title(stats),
        period=stats.period.label,
        generated=_generated(stats),
        caveat_title=CAVEAT_TITLE,
        caveat=CAVEAT,
        what_it_measures=WHAT_IT_MEASURES,
        empty=stats.empty,
        headline=headline(stats),
        sections=sections(stats),
        charts=embedded,
        methodology=METHODOLOGY,
    )


def render_pdf(stats: Statistics) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    # Fixed metadata (no creation date): the same statistics give the same file.
    metadata = {
        "Title": title(stats),
        "Creator": "Vigil",
        "Producer": "Vigil",
        "CreationDate": None,
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(_cover(stats))
        pdf.savefig(_methodology())
        for section in sections(stats):
            for page in _section_pages(stats, section):
                pdf.savefig(page)
    return buffer.getvalue()


def _generated(stats: Statistics) -> str:
    return stats.generated_at.strftime("%Y-%m-%d %H:%M UTC")


def _page() -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=A4)


class _Writer:
    """Lines of text down a page, top to bottom, in figure coordinates."""

    def __init__(self, page: Figure, top: float = 0.94) -> None:
        self.page, self.y = page, top

    def heading(self, text: str, size: float = 16) -> None:
        self.page.text(0.08, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= 0.02 + size / 650

    def paragraph(self, text: str, size: float = 10, width: int = WRAP) -> None:
        for line in textwrap.wrap(text, width) or [""]:
            self.page.text(0.08, self.y, line, fontsize=size, va="top")
            self.y -= size / 620
        self.y -= 0.012


def _cover(stats: Statistics) -> Figure:
    page = _page()
    writer = _Writer(page)
    writer.heading(title(stats), 20)
    writer.paragraph(f"Period: {stats.period.label} (UTC). Generated {_generated(stats)} by Vigil.")
    box_top = writer.y
    writer.y -= 0.015
    writer.heading(CAVEAT_TITLE, 13)
    writer.paragraph(CAVEAT, width=WRAP - 5)
    writer.paragraph(WHAT_IT_MEASURES, width=WRAP - 5)
    from matplotlib.patches import FancyBboxPatch

    page.add_artist(
        FancyBboxPatch(
            (0.06, writer.y),
            0.88,
            box_top - writer.y,
            boxstyle="square,pad=0",
            fill=False,
            linewidth=2.5,
            edgecolor="#c05621",
            transform=page.transFigure,
        )
    )
    writer.y -= 0.03
    if stats.empty:
        writer.paragraph("No reports were received in this period.", size=12)
    writer.heading("Summary", 14)
    for label, value in headline(stats):
        writer.paragraph(f"{label}: {value}", size=11)
    return page


def _methodology() -> Figure:
    page = _page()
    writer = _Writer(page)
    writer.heading("Methodology")
    for term, meaning in METHODOLOGY:
        writer.heading(term, 11)
        writer.paragraph(meaning)
    return page


def _section_pages(stats: Statistics, section: Section) -> list[Figure]:
    rows = section.table.rows
    first = ROWS_WITH_CHART if section.chart else ROWS_ALONE
    chunks = [rows[:first]] + [
        rows[i : i + ROWS_ALONE] for i in range(first, len(rows), ROWS_ALONE)
    ]
    pages = []
    for number, chunk in enumerate(chunks):
        page = _page()
        writer = _Writer(page)
        writer.heading(section.title + (" (continued)" if number else ""), 14)
        table_top = writer.y
        if section.chart and number == 0:
            draw(page.add_axes((0.12, 0.50, 0.80, 0.36)), SERIES[section.chart](stats))
            table_top = 0.42
        _table(page, section, chunk, table_top)
        pages.append(page)
    return pages


def _table(page: Figure, section: Section, rows: list[list[str]], top: float) -> None:
    if not rows:
        page.text(0.08, top, "No reports in this period.", fontsize=11, style="italic", va="top")
        return
    height = min(top - 0.08, 0.02 * (len(rows) + 1))
    axes = page.add_axes((0.08, top - height, 0.84, height))
    axes.axis("off")
    table = axes.table(
        cellText=[[_fit(cell) for cell in row] for row in rows],
        colLabels=section.table.headers,
        loc="upper center",
        cellLoc="left",
        colLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    if section.note:
        page.text(0.08, top - height - 0.02, section.note, fontsize=9, va="top")


def _fit(cell: str, limit: int = 48) -> str:
    return cell if len(cell) <= limit else cell[: limit - 1] + "…"
