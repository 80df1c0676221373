"""Filing a report from /reports in a real browser, on the demo data (benign pictures only),
with the default destination (an XML file for a manual upload): the incident type must be
chosen (none is assumed), the case's urgency shows, the report is checked in a preview (its
fields and the XML filing sends) before it is filed, and the finished report links to its
case, offers its XML for download and shows no file as pending."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, service_settings
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import Settings
from vigil.core.xml import hardened_parser
from vigil.store import Database
from vigil.store.models import Case, FileState, Report, ReportState, Role
from vigil.store.shared.vocabulary import INCIDENT_TYPES

pytestmark = pytest.mark.browser
FILER = "filer-fay"
ACCOUNT = "acct-1001"  # the demo's account with known pictures: confirmed on inheritance
ENTICEMENT = INCIDENT_TYPES[6]
REASON = "He asked her to meet tonight"


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path, corpus_images: list[Path]) -> Settings:
    """A platform's console with the reporter configured and the demo data (overrides
    tests/web/conftest.py's plain console)."""
    settings = service_settings(
        database_url,
        tmp_path / "data",
        reporting={
            "reporter_company": "Example Platform",
            "reporter_contact_name": "Trust Team",
            "reporter_contact_email": "trust@example.org",
        },
    )
    seed_demo(settings, corpus_images[0].parent)
    return settings


@pytest.fixture
def filer_page(page: Page, console: str, database: Database) -> Iterator[Page]:
    """Signed in as a person who reviews and files, with the demo case confirmed (no
    incident type chosen during review) and escalated."""
    add_user(database, FILER, [Role.REVIEWER, Role.REPORT_SUBMITTER])
    page.goto(f"{console}/login?next=/reports")
    page.get_by_label("Username").fill(FILER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/reports")
    case_id, items = _case(database)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    for item_id in items:
        answer = page.request.post(
            f"{console}/review/cases/{case_id}/decide",
            headers={"X-CSRF-Token": csrf},
            form={"kind": "confirm", "item_id": str(item_id)},
        )
        assert answer.ok, answer.text()
    with database.transaction(write=True) as session:
        case = session.scalars(select(Case).where(Case.public_id == case_id)).one()
        case.escalated, case.escalation_reason = True, REASON
    page.goto(f"{console}/reports")
    yield page


def test_a_report_cannot_be_filed_without_choosing_its_type(
    filer_page: Page, console: str, database: Database
) -> None:
    page = filer_page
    case_id, _ = _case(database)
    row = page.locator(f"tr[data-case='{case_id}']")
    select_type = row.get_by_label("Incident type")
    expect(select_type).to_have_value("")  # nothing assumed
    row.get_by_role("button", name="Check the report").click()
    assert select_type.evaluate("element => !element.validity.valid")
    expect(page).to_have_url(f"{console}/reports")  # the browser kept the form here
    # Past the browser (a form of another page, a script): the server refuses, visibly.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    answer = page.request.post(
        f"{console}/reports/file",
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        form={"case_id": case_id, "incident_type": ""},
    )
    assert answer.status == 422 and "Choose the incident type" in answer.text()
    page.goto(f"{console}/reports/preview?case_id={case_id}&incident_type=")
    expect(page.get_by_text("Choose the incident type")).to_be_visible()
    with database.transaction() as session:
        assert session.scalars(select(Report)).all() == []


def test_urgency_preview_filing_download_and_the_finished_state(
    filer_page: Page, console: str, database: Database, tmp_path: Path
) -> None:
    page = filer_page
    case_id, items = _case(database)
    row = page.locator(f"tr[data-case='{case_id}']")
    expect(row.locator(".urgency")).to_have_text("Escalated")
    expect(row).to_contain_text(REASON)
    expect(row.get_by_role("link", name=f"Case {case_id[:8]}")).to_have_attribute(
        "href", f"/review/cases/{case_id}"
    )
    row.get_by_label("Incident type").select_option(ENTICEMENT)
    row.get_by_role("button", name="Check the report").click()

    # The preview: the fields and the XML, before anything is sent.
    expect(page.get_by_role("heading", name="Check the report before it is sent")).to_be_visible()
    expect(page.locator("#urgency")).to_contain_text(REASON)
    fields = page.locator("#report-fields")
    expect(fields).to_contain_text(ENTICEMENT)
    expect(fields).to_contain_text(ACCOUNT)
    xml = page.locator("#report-xml")
    expect(xml).to_contain_text(f"<incidentType>{ENTICEMENT}</incidentType>")
    expect(xml).to_contain_text(REASON)
    with database.transaction() as session:
        assert session.scalars(select(Report)).all() == []  # a preview files nothing

    page.get_by_role("button", name="File this report").click()
    page.wait_for_url(re.compile(r".*/reports/[0-9a-f]{32}$"))
    expect(page.locator("#notices")).to_contain_text(f"Report filed ({ENTICEMENT})")
    with database.transaction() as session:
        [report] = session.scalars(select(Report)).all()
        states = [f.state for f in report.files]
    assert report.state is ReportState.FINISHED
    assert len(states) == len(items) and all(s is FileState.DESCRIBED for s in states)
    expect(page).to_have_url(f"{console}/reports/{report.public_id}")
    expect(page.locator("#report-state")).to_contain_text("finished")
    expect(page.locator("#urgency")).to_contain_text(REASON)
    expect(page.get_by_role("link", name=case_id)).to_have_attribute(
        "href", f"/review/cases/{case_id}"
    )
    files = page.locator("#report-files tbody tr")
    expect(files).to_have_count(len(items))
    expect(page.locator("#report-files")).not_to_contain_text("pending")
    expect(files.first).to_contain_text("details written for the manual upload")

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the report's XML").click()
    saved = tmp_path / "downloaded.xml"
    waiting.value.save_as(saved)
    root = etree.fromstring(saved.read_bytes(), hardened_parser())
    assert root.findtext("incidentSummary/incidentType") == ENTICEMENT
    assert root.findtext("incidentSummary/escalateToHighPriority").endswith(REASON)
    assert saved.read_bytes() == report.xml.encode()
    assert waiting.value.suggested_filename == f"{report.public_id}.xml"


def test_hostile_report_ids_and_file_numbers_are_refused(filer_page: Page, console: str) -> None:
    page = filer_page
    for path in (
        "/reports/" + "x" * 500,
        "/reports/nonexistent/report.xml",
        "/reports/nonexistent/files/1/details.xml",
        "/reports/preview?case_id=" + "y" * 40 + f"&incident_type={INCIDENT_TYPES[0]}",
        f"/reports/preview?case_id=nope&incident_type={INCIDENT_TYPES[0]}",
        "/reports/preview?case_id=nope&incident_type=Not%20a%20type",
    ):
        answer = page.request.get(f"{console}{path}")
        assert answer.status in (404, 422), (path, answer.status)
        assert "Traceback" not in answer.text()


def _case(database: Database) -> tuple[str, list[int]]:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == ACCOUNT)).one()
        return case.public_id, [item.id for item in case.items]
