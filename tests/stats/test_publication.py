"""The annual report reads like a publication: few pages (several tables to a page), "Page N
of M" on every page, labels and cells printed whole however long (wrapped, never cut), and a
platform's own figures on a platform install."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.stats import platform_dataset
from tests.stats.dataset import at, insert
from tests.stats.rendering import flat, pdf_pages
from vigil.stats.annual_report import render_html, render_pdf, title
from vigil.stats.figures import AgencyRow, CompanyRow, Count, Statistics
from vigil.stats.period import Period
from vigil.stats.platform import PlatformFigures, platform_figures
from vigil.stats.queries import statistics
from vigil.stats.sections import platform_sections, sections
from vigil.store import Database

NOW = at(2026, 6, 1)
LONG_COMPANY = (
    "Northern Hemisphere Photo Sharing and Messaging Services International Holdings "
    "Limited Liability Company, trading as Example Snapshots"
)
LONG_AGENCY = (
    "Internet Crimes Against Children Task Force of the Eastern District, Digital "
    "Forensics and Victim Identification Unit"
)
LONG_TYPE = "Child Pornography (possession, manufacture, and distribution)"


@pytest.fixture
def loaded(database: Database) -> Statistics:
    with database.transaction(write=True) as session:
        insert(session)
    with database.transaction() as session:
        return statistics(session, Period.year(2026), now=NOW)


@pytest.fixture
def platform(database: Database) -> PlatformFigures:
    with database.transaction(write=True) as session:
        platform_dataset.insert(session)
    with database.transaction() as session:
        return platform_figures(session, Period.year(2026), now=platform_dataset.NOW)


def _texts(pdf: bytes) -> list[str]:
    return [flat(text) for _, text in pdf_pages(pdf)]


def test_pages_are_few_numbered_and_hold_several_tables(loaded: Statistics) -> None:
    texts = _texts(render_pdf(loaded))
    assert len(texts) <= 6 < len(sections(loaded)) + 2  # was a page per section
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
    titles = [section.title for section in sections(loaded)]
    shared = [sum(title in text for title in titles) for text in texts]
    assert max(shared) >= 3  # several sections share a page
    assert title(loaded) in texts[0]  # the title page


def test_long_labels_and_cells_are_printed_whole(loaded: Statistics) -> None:
    longer = dataclasses.replace(
        loaded,
        companies=[CompanyRow(LONG_COMPANY, 12_345, 67_890), *loaded.companies],
        agencies=[AgencyRow(LONG_AGENCY, 1_234, 1_000, 34, 200), *loaded.agencies],
        incident_types=[Count(LONG_TYPE, 9), *loaded.incident_types],
    )
    everything = " ".join(_texts(render_pdf(longer)))
    for label in (LONG_COMPANY, LONG_AGENCY, LONG_TYPE):
        assert label in everything
    assert "12,345 67,890" in everything  # the numbers beside it, whole too
    assert "…" not in everything  # nothing shortened


def test_a_platform_report_shows_the_platform_figures(
    loaded: Statistics, platform: PlatformFigures
) -> None:
    pdf = render_pdf(loaded, platform=platform, clearinghouse=False)
    texts = _texts(pdf)
    everything = " ".join(texts)
    assert texts[0].startswith("Platform statistics 2026")
    assert "Clearinghouse: reports received" not in everything  # not a clearinghouse
    for section in platform_sections(platform):
        assert section.title in everything
        assert " ".join(section.table.headers) in everything  # no header broken
        for row in section.table.rows:
            assert " ".join(row) in everything
    assert len(texts) <= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text

    html = render_html(loaded, platform=platform, clearinghouse=False)
    assert "<h1>Platform statistics 2026</h1>" in html
    assert f">{platform.cases_opened}</td>" in html
    assert not re.search(r'id="months-title"', html)


def test_both_parts_when_both(loaded: Statistics, platform: PlatformFigures) -> None:
    everything = " ".join(_texts(render_pdf(loaded, platform=platform, clearinghouse=True)))
    assert "Platform and clearinghouse statistics 2026" in everything
    for section in platform_sections(platform) + sections(loaded):
        assert section.title in everything
