"""The annual report, ready to publish, in two forms made from the same content:

* HTML: one self-contained, accessible file (headings, captioned tables with header cells,
  alt text that reads out every chart's numbers; charts embedded as data: URIs, no external
  resource). This is the accessible version.
* PDF: A4, drawn with matplotlib (vigil.stats.pdf_layout): a title page, then the figures
  flowing down the pages (several tables to a page when they fit, tables as wide as their
  content with wrapped cells), "Page N of M" on every page. matplotlib cannot write a tagged
  PDF, so the HTML file is served beside it (docs/statistics.md).

A platform's installation reports its own work; a clearinghouse its intake, triage and
referrals; an installation doing both reports both. Volume is never presented as prevalence.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vigil.stats.charts import SERIES, Chart, all_charts, figure, png
from vigil.stats.figures import Statistics
from vigil.stats.pdf_layout import CONTENT_WIDTH, PageFlow, save
from vigil.stats.platform import PlatformFigures
from vigil.stats.sections import (
    CAVEAT,
    CAVEAT_TITLE,
    METHODOLOGY,
    PLATFORM_METHODOLOGY,
    PLATFORM_NOTE,
    PLATFORM_NOTE_TITLE,
    WHAT_IT_MEASURES,
    Section,
    headline,
    platform_headline,
    platform_sections,
    sections,
)

PDF_CHART_SIZE = (8.0, 3.4)  # inches: a chart and its table share a page
PDF_CHART_DPI = 200
CAVEAT_COLOUR = "#c05621"
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


@dataclass(frozen=True)
class Part:
    """The platform's or the clearinghouse's figures."""

    key: str
    title: str
    note_title: str
    note: list[str]
    empty_text: str | None  # shown when the period has nothing
    headline: list[tuple[str, str]]
    sections: list[Section]


@dataclass(frozen=True)
class Contents:
    title: str
    period: str
    generated: str
    parts: list[Part]
    methodology: list[tuple[str, str]] = field(default_factory=list)


def contents(
    stats: Statistics, platform: PlatformFigures | None = None, *, clearinghouse: bool = True
) -> Contents:
    """What the report says: the platform part when there are platform figures, the
    clearinghouse part when ``clearinghouse``."""
    parts: list[Part] = []
    methodology: list[tuple[str, str]] = []
    if platform is not None:
        parts.append(_platform_part(platform))
        methodology.extend(PLATFORM_METHODOLOGY)
    if clearinghouse or platform is None:
        parts.append(_clearinghouse_part(stats))
        methodology.extend(METHODOLOGY)
    return Contents(
        title=title(stats, platform, clearinghouse=clearinghouse),
        period=stats.period.label,
        generated=stats.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        parts=parts,
        methodology=methodology,
    )


def title(
    stats: Statistics, platform: PlatformFigures | None = None, *, clearinghouse: bool = True
) -> str:
    if platform is None:
        kind = "Clearinghouse"
    else:
        kind = "Platform and clearinghouse" if clearinghouse else "Platform"
    return f"{kind} statistics {stats.period.label}"


def _platform_part(figures: PlatformFigures) -> Part:
    return Part(
        "platform",
        "Platform: detection, review and reporting",
        PLATFORM_NOTE_TITLE,
        [PLATFORM_NOTE],
        "No case was opened and no report filed in this period." if figures.empty else None,
        platform_headline(figures),
        platform_sections(figures),
    )


def _clearinghouse_part(stats: Statistics) -> Part:
    return Part(
        "clearinghouse",
        "Clearinghouse: reports received, triage and referrals",
        CAVEAT_TITLE,
        [CAVEAT, WHAT_IT_MEASURES],
        "No reports were received in this period." if stats.empty else None,
        headline(stats),
        sections(stats),
    )


def render(
    stats: Statistics,
    report_format: ReportFormat,
    platform: PlatformFigures | None = None,
    *,
    clearinghouse: bool = True,
) -> bytes:
    if report_format is ReportFormat.HTML:
        return render_html(stats, platform=platform, clearinghouse=clearinghouse).encode()
    return render_pdf(stats, platform=platform, clearinghouse=clearinghouse)


def render_html(
    stats: Statistics,
    charts: list[Chart] | None = None,
    *,
    platform: PlatformFigures | None = None,
    clearinghouse: bool = True,
) -> str:
    content = contents(stats, platform, clearinghouse=clearinghouse)
    shown = any(part.key == "clearinghouse" for part in content.parts)
    embedded = {
        chart.name: EmbeddedChart(chart.alt, base64.b64encode(chart.png).decode())
        for chart in ((charts or all_charts(stats)) if shown else [])
    }
    return _TEMPLATES.get_template("annual_report.html").render(content=content, charts=embedded)


def render_pdf(
    stats: Statistics, *, platform: PlatformFigures | None = None, clearinghouse: bool = True
) -> bytes:
    content = contents(stats, platform, clearinghouse=clearinghouse)
    flow = PageFlow(f"{content.title} · Vigil")
    _title_page(flow, content)
    for part in content.parts:
        flow.new_page()
        flow.heading(part.title, 17)
        for section in part.sections:
            _section(flow, stats, section)
    flow.heading("Methodology", 14)
    for term, meaning in content.methodology:
        flow.heading(term, 10.5, keep_with=24)
        flow.paragraph(meaning, 9.5)
    # Fixed metadata (no creation date): the same statistics give the same file.
    metadata = {"Title": content.title, "Creator": "Vigil", "Producer": "Vigil"}
    return save(flow.finish(), {**metadata, "CreationDate": None})


def _title_page(flow: PageFlow, content: Contents) -> None:
    flow.y -= 40
    flow.heading(content.title, 24, keep_with=0)
    flow.paragraph(f"Period: {content.period} (UTC). Generated {content.generated} by Vigil.", 11)
    flow.y -= 6
    for part in content.parts:
        flow.boxed(part.note_title, part.note, CAVEAT_COLOUR)
    for part in content.parts:
        flow.heading(f"Summary: {part.title}", 13, keep_with=40)
        if part.empty_text:
            flow.paragraph(part.empty_text, 11, style="italic")
        flow.pairs(part.headline)
    flow.heading("In this report", 12, keep_with=40)
    for part in content.parts:
        flow.paragraph(f"{part.title}: " + "; ".join(s.title for s in part.sections) + ".", 10)
    flow.paragraph("Methodology: what each figure counts and how.", 10)


def _section(flow: PageFlow, stats: Statistics, section: Section) -> None:
    chart_height = 0.0
    if section.chart:
        chart_height = CONTENT_WIDTH * PDF_CHART_SIZE[1] / PDF_CHART_SIZE[0]
    flow.heading(section.title, 13, keep_with=chart_height + 40)
    if section.chart:
        series = SERIES[section.chart](stats)
        width, height = PDF_CHART_SIZE
        flow.image(
            png(figure(series, PDF_CHART_SIZE), dpi=PDF_CHART_DPI),
            int(width * PDF_CHART_DPI),
            int(height * PDF_CHART_DPI),
        )
    if section.table.rows:
        flow.table(section.table.headers, section.table.rows, section.title)
    else:
        flow.paragraph("Nothing to count in this period.", 10, style="italic")
    if section.note:
        flow.paragraph(section.note, 9)
