"""The statistics page on a platform's installation (clearinghouse off): the platform's own
work for the year -- cases, decisions, reveals, reports filed, time from detection to report,
law-enforcement requests -- and not the clearinghouse's empty figures; the annual report it
offers is the platform's, with its page numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.api.service import PASSWORD, add_user
from tests.stats import platform_dataset
from tests.stats.rendering import flat, pdf_pages
from vigil.stats.period import Period
from vigil.stats.platform import platform_figures
from vigil.stats.sections import CAVEAT_TITLE, platform_headline, platform_sections
from vigil.store import Database
from vigil.store.models import Role

pytestmark = pytest.mark.browser
YEAR = platform_dataset.YEAR


def test_a_platform_install_shows_its_own_work(
    page: Page, console: str, database: Database
) -> None:
    add_user(database, "auditor", [Role.AUDITOR])
    with database.transaction(write=True) as session:
        platform_dataset.insert(session)
    with database.transaction() as session:
        figures = platform_figures(session, Period.year(YEAR))

    page.goto(f"{console}/login?next=/stats?year={YEAR}")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/stats?year={YEAR}")

    platform = page.get_by_role("region", name="This platform: detection, review and reporting")
    expect(platform).to_be_visible()
    headline = page.locator("#platform-headline")
    for label, value in platform_headline(figures):
        expect(headline.locator("div", has_text=label).locator("dd")).to_have_text(value)
    for section in platform_sections(figures):
        table = page.get_by_role("table", name=f"{section.title}, {YEAR}")
        for row in section.table.rows:
            line = table.locator("tbody tr").filter(
                has=page.get_by_role("rowheader", name=row[0], exact=True)
            )
            expect(line.locator("td")).to_have_text(row[1:])
    review = page.get_by_role("table", name=f"Cases, decisions and reveals, {YEAR}")
    expect(review.get_by_role("row", name="Cases opened")).to_contain_text(
        str(figures.cases_opened)
    )
    # Not a clearinghouse: none of its (empty) figures, nor its caveat.
    expect(page.locator("#clearinghouse")).to_have_count(0)
    expect(page.get_by_text(CAVEAT_TITLE)).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("link", name="Annual report (PDF)").click()
    pages = pdf_pages(download.value.path().read_bytes())
    first = flat(pages[0][1])
    assert first.startswith(f"Platform statistics {YEAR}") and f"Page 1 of {len(pages)}" in first
