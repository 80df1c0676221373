"""Charts are real, readable PNGs; the annual report (PDF and HTML) renders, shows the caveat
and the same numbers as its charts, embeds everything, and still renders for an empty year."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.stats.dataset import (
    HOSTILE_TYPE,
    SECRET_EMAIL,
    SECRET_IP,
    at,
    insert,
)
from tests.stats.rendering import assert_not_blank, flat, image, pdf_pages
from vigil.stats.annual_report import ReportFormat, render, render_html, render_pdf
from vigil.stats.charts import SERIES, all_charts, chart
from vigil.stats.figures import Statistics
from vigil.stats.period import Period
from vigil.stats.queries import statistics
from vigil.stats.sections import CAVEAT, CAVEAT_TITLE, sections
from vigil.store import Database

NOW = at(2026, 6, 1)
MAX_PAGES = 6  # the test data's nine sections, several to a page


@pytest.fixture
def loaded(database: Database) -> Iterator[Statistics]:
    with database.transaction(write=True) as session:
        insert(session)
    with database.transaction() as session:
        yield statistics(session, Period.year(2026), now=NOW)


@pytest.fixture
def empty(database: Database) -> Statistics:
    with database.transaction() as session:
        return statistics(session, Period.year(2031), now=NOW)


def test_charts_are_valid_png_with_content_and_alt_text(loaded: Statistics) -> None:
    charts = all_charts(loaded)
    assert [c.name for c in charts] == list(SERIES)
    for drawn in charts:
        picture = image(drawn.png)
        assert picture.size == (800, 450)
        assert_not_blank(picture)
        assert drawn.title and "2026" in drawn.title
        assert drawn.alt.startswith(("Bar chart", "Horizontal bar chart"))
    months = next(c for c in charts if c.name == "months")
    for row in loaded.months:  # the alt text says the same numbers as the chart
        assert f"{row.month}: {row.reports}" in months.alt


def test_charts_are_deterministic(loaded: Statistics) -> None:
    assert chart("countries", loaded).png == chart("countries", loaded).png


def test_empty_charts_say_so(empty: Statistics) -> None:
    for drawn in all_charts(empty):
        assert_not_blank(image(drawn.png))  # "No data for this period", axes and title
        assert "no data for this period" in drawn.alt


def test_unknown_chart_name() -> None:
    with pytest.raises(KeyError):
        SERIES["../../etc/passwd"]


def test_pdf_report_pages_are_not_blank_and_carry_the_caveat(loaded: Statistics) -> None:
    pdf = render_pdf(loaded)
    assert pdf == render_pdf(loaded)  # reproducible: no creation date, no random ids
    pages = pdf_pages(pdf)
    assert 2 <= len(pages) <= MAX_PAGES  # a title page, then the sections flowing
    for picture, _ in pages:
        assert_not_blank(picture)
    first = flat(pages[0][1])
    assert CAVEAT_TITLE in first and flat(CAVEAT)[:120] in first
    assert "Clearinghouse statistics 2026" in first
    everything = flat(" ".join(text for _, text in pages))
    assert "Methodology" in everything
    for row in loaded.companies:
        assert row.company in everything
    for secret in (SECRET_EMAIL, SECRET_IP, HOSTILE_TYPE, "secret question"):
        assert secret not in everything


def test_html_report_is_self_contained(loaded: Statistics) -> None:
    html = render_html(loaded)
    assert CAVEAT_TITLE in html and CAVEAT.replace("'", "&#39;") in html
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    assert len(images) == len(SERIES)
    assert all(src.startswith("data:image/png;base64,") for src, _ in images)
    assert all(alt for _, alt in images)
    # No external resource of any kind: no URL, no stylesheet or script to fetch.
    outside_images = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", html)
    assert not re.search(r"(?:https?:)?//[a-z0-9]", outside_images, re.IGNORECASE)
    assert not re.search(r"\b(?:src|href)=\"(?!data:)", outside_images)
    assert "<script" not in html and "<link" not in html and "url(" not in html
    for section in sections(loaded):
        assert f'<h3 id="{section.key}-title">' in html
        for row in section.table.rows:
            assert f'<th scope="row">{row[0]}</th>' in html.replace("&#39;", "'")
    for secret in (SECRET_EMAIL, SECRET_IP, HOSTILE_TYPE, "<script>alert"):
        assert secret not in html


def test_empty_year_renders(empty: Statistics) -> None:
    html = render_html(empty)
    assert "No reports were received in this period." in html and CAVEAT_TITLE in html
    pages = pdf_pages(render(empty, ReportFormat.PDF))
    assert "No reports were received in this period." in flat(pages[0][1])
    for picture, _ in pages:
        assert_not_blank(picture)


def test_a_period_across_years_is_labelled_by_its_days(database: Database) -> None:
    period = Period(datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    with database.transaction() as session:
        stats = statistics(session, period, now=NOW)
    html = render_html(stats)
    assert "2025-12-01 to 2026-01-31" in html
