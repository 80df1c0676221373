"""The clearinghouse report page for analysts in a real browser (made-up reports and digests,
no media): it leads with what matters (the company's escalation, the victim's age, the
reported person's identifiers, the triage level and its reasons) above the full field
table; the intake list shows each report's level; a one-click label that would lower the
report's level asks first, in the page, and says the level it falls to; and nothing on the
page scrolls sideways at 1280 px, however long a hash or an identifier."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, service_settings
from tests.triage import triage_rows as rows
from tests.web.test_accessibility import axe_source, violations  # noqa: F401 (fixture)
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeFile, ReportTriage, Role
from vigil.triage.scoring import REASON_TITLES
from vigil.triage.service import score_pending
from vigil.triage.weights import load_weights
from vigil.web.pages.triage import LEVELS

pytestmark = pytest.mark.browser
ANALYST = "analyst-ida"
ESCALATION = "He says he will meet her tonight at the station"
LONG_PROFILE = "https://example.net/u/" + "x" * 300  # no place to break but anywhere


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    """A clearinghouse's console (overrides tests/web/conftest.py's plain console)."""
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


@pytest.fixture
def reports(console: str, database: Database) -> dict[str, int]:
    """An escalated report naming a victim and a suspect; a report of one new file that
    every company marked viral (labelled, it would become informational)."""
    add_user(database, ANALYST, [Role.REVIEWER])
    with database.transaction(write=True) as session:
        owner = rows.company(session, "Example Platform")
        urgent = rows.report(session, owner, _urgent_document(), [(FileVerdict.NEW, "A1", [])])
        viral = rows.report(session, owner, rows.document(), [(FileVerdict.NEW, None, ["viral"])])
        two = rows.report(session, owner, rows.document(), [(FileVerdict.NEW, None, ["viral"])] * 2)
        score_pending(session, load_weights())
        return {"urgent": urgent.id, "viral": viral.id, "two viral": two.id}


def test_the_report_page_leads_with_what_matters(
    page: Page, console: str, database: Database, reports: dict[str, int]
) -> None:
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{reports['urgent']}")
    lead = page.locator("#lead")
    expect(lead.locator("#lead-escalation")).to_contain_text(ESCALATION)
    expect(lead.locator("#lead-victims")).to_have_text("13 years old")
    identifiers = lead.locator("#lead-identifiers")
    for value in ("suspect-77", "dark_fox", "fox@example.net", "203.0.113.9"):
        expect(identifiers).to_contain_text(value)
    level = _level(database, reports["urgent"])
    expect(lead.locator("#lead-level")).to_contain_text(LEVELS[level])
    # What the escalation says leads, quoted (issue 20), not that there is one.
    expect(lead.locator("#lead-reasons")).to_contain_text(REASON_TITLES["danger_now"])
    expect(lead.locator("#lead-reasons")).to_contain_text("meet her tonight")
    expect(lead.get_by_role("link", name="why, and override")).to_have_attribute(
        "href", f"/clearinghouse/reports/{reports['urgent']}/triage"
    )
    # First on the page, and the full table is still there below it.
    fields = page.get_by_text("All report fields")
    expect(fields).to_be_visible()
    lead_box, fields_box = lead.bounding_box(), fields.bounding_box()
    assert lead_box and fields_box and lead_box["y"] < fields_box["y"]
    expect(page.locator("#lead-escalation")).to_be_in_viewport()


def test_the_triage_page_leads_with_the_same_facts(
    page: Page, console: str, reports: dict[str, int]
) -> None:
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{reports['urgent']}/triage")
    lead = page.locator("#lead")
    expect(lead.locator("#lead-escalation")).to_contain_text(ESCALATION)
    expect(lead.locator("#lead-victims")).to_have_text("13 years old")
    expect(lead.locator("#lead-identifiers")).to_contain_text("suspect-77")
    lead_box = lead.bounding_box()
    reasons_box = page.locator("#reasons").bounding_box()
    assert lead_box and reasons_box and lead_box["y"] < reasons_box["y"]


def test_the_intake_list_shows_each_reports_level(
    page: Page, console: str, database: Database, reports: dict[str, int]
) -> None:
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse")
    for report_id in reports.values():
        row = page.locator("tbody tr").filter(
            has=page.get_by_role("link", name=f"Report {report_id}", exact=True)
        )
        expect(row.locator(".level-cell")).to_have_text(LEVELS[_level(database, report_id)])


def test_a_label_that_lowers_the_level_asks_in_the_page(
    page: Page, console: str, database: Database, reports: dict[str, int]
) -> None:
    """The question is a panel in the page naming both levels, never the browser's dialog:
    Escape and "Keep level" change nothing and give the focus back to the label; "Lower it"
    labels the file and the notice says the level it falls to."""
    report_id = reports["viral"]
    before = _level(database, report_id)
    assert before < 4  # new material: referred
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{report_id}")
    chip = page.get_by_role("group", name="Label file").get_by_role("button", name="B2")
    question = page.get_by_role("alertdialog")
    keep = question.get_by_role("button", name="Keep level")

    chip.click()
    expect(question).to_contain_text(f"from level {LEVELS[before]} to level {LEVELS[4]}")
    expect(question).to_contain_text(f"report {report_id}")
    expect(keep).to_be_focused()  # a habitual Enter changes nothing
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(chip).to_be_focused()

    chip.press("Enter")  # by keyboard too
    keep.press("Enter")
    expect(question).to_have_count(0)
    expect(chip).to_be_focused()
    assert _file(database, report_id) == (FileVerdict.NEW, None)  # nothing done

    chip.click()
    question.get_by_role("button", name="Lower it").click()
    notice = page.locator("#notices")
    expect(notice).to_contain_text("Labelled B2")
    expect(notice).to_contain_text(f"from level {LEVELS[before]} to level {LEVELS[4]}")
    expect(page.locator(".intake-file").get_by_text("Labelled B2")).to_be_visible()
    expect(question).to_have_count(0)
    expect(chip).to_be_focused()  # the labelled card's chip, swapped in
    expect(chip).to_have_attribute("aria-pressed", "true")
    assert _file(database, report_id) == (FileVerdict.KNOWN, "B2")
    with database.transaction(write=True) as session:
        score_pending(session, load_weights())  # what the triage job does next
    page.reload()
    expect(page.locator("#lead-level")).to_contain_text(LEVELS[4])
    assert dialogs == []  # the browser's confirm() was never used


def test_the_question_in_the_page_meets_wcag_21_aa(
    page: Page,
    console: str,
    reports: dict[str, int],
    axe_source: str,  # noqa: F811 (the fixture imported above)
) -> None:
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{reports['viral']}")
    page.get_by_role("group", name="Label file").get_by_role("button", name="A1").click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    assert violations(page, axe_source) == []


def test_a_question_stays_one_and_other_keys_wait(
    page: Page, console: str, database: Database, reports: dict[str, int]
) -> None:
    """A second lowering label replaces the open question; keys typed in it are not the
    screen's shortcuts ("r" reveals nothing)."""
    report_id = reports["viral"]
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{report_id}")
    chips = page.get_by_role("group", name="Label file")
    chips.get_by_role("button", name="A1").click()
    chips.get_by_role("button", name="A2").click()
    question = page.get_by_role("alertdialog")
    expect(question).to_have_count(1)
    expect(question).to_contain_text("A2 makes it known material")
    question.get_by_role("button", name="Keep level").press("r")
    expect(question).to_be_visible()
    expect(page.locator(".reveal-count")).to_have_text("0")
    question.get_by_role("button", name="Keep level").click()
    expect(chips.get_by_role("button", name="A2")).to_be_focused()
    assert _file(database, report_id) == (FileVerdict.NEW, None)


def test_after_a_label_the_other_files_ask_anew(
    page: Page, console: str, database: Database, reports: dict[str, int]
) -> None:
    """Two new viral files: labelling the first leaves new material (no question); after it,
    labelling the second would make the report informational, and its labels now ask."""
    report_id = reports["two viral"]
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{report_id}")
    groups = page.get_by_role("group", name="Label file")
    expect(groups.nth(1).locator("[data-confirm]")).to_have_count(0)
    groups.nth(0).get_by_role("button", name="A2").click()
    expect(page.locator(".intake-file").get_by_text("Labelled A2")).to_be_visible()
    expect(page.get_by_role("alertdialog")).to_have_count(0)  # that one asked nothing
    second = groups.nth(1).get_by_role("button", name="B1")
    expect(second).to_have_attribute("data-confirm", re.compile(LEVELS[4]))
    second.click()
    question = page.get_by_role("alertdialog")
    expect(question).to_contain_text(f"to level {LEVELS[4]}")
    question.get_by_role("button", name="Keep level").click()
    assert _files(database, report_id)[1] == (FileVerdict.NEW, None)


def test_a_label_that_keeps_the_level_asks_nothing(
    page: Page, console: str, reports: dict[str, int]
) -> None:
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{reports['viral']}")
    chips = page.get_by_role("group", name="Label file").get_by_role("button")
    lowering = chips.evaluate_all(
        "buttons => buttons.map(b => [b.textContent.trim(), b.hasAttribute('data-confirm')])"
    )
    # Every label makes this file known, so every one makes the report informational.
    assert lowering == [[c, True] for c in ("A1", "A2", "B1", "B2")]
    page.goto(f"{console}/clearinghouse/reports/{reports['urgent']}")
    kept = page.get_by_role("group", name="Label file").locator("button:not([data-confirm])")
    expect(kept).not_to_have_count(0)  # an escalation keeps the report referred
    kept.first.click()
    expect(page.locator("#notices")).to_contain_text("Labelled")
    expect(page.get_by_role("alertdialog")).to_have_count(0)


def test_a_notice_hides_nothing_on_a_scrolled_page(
    page: Page, console: str, reports: dict[str, int]
) -> None:
    """The notice region sticks to the top of the window: a notice that comes over the focused
    label, focus moved under a notice, and an #anchor all leave the element in view below it."""
    page.set_viewport_size({"width": 1280, "height": 500})  # the page is long
    _sign_in(page, console)
    page.goto(f"{console}/clearinghouse/reports/{reports['viral']}")
    chips = page.get_by_role("group", name="Label file")
    chip = chips.get_by_role("button", name="B2")
    chip.evaluate("chip => chip.scrollIntoView({block: 'start'})")  # the label at the very top
    assert page.evaluate("window.scrollY") > 0
    chip.click()
    page.get_by_role("button", name="Lower it").click()
    notice = page.locator("#notices .notice")
    expect(notice).to_contain_text("Labelled B2")
    expect(chip).to_be_focused()
    _assert_clear(notice, chip)

    other = chips.get_by_role("button", name="A1")  # under the notice, then focused
    other.evaluate("chip => chip.scrollIntoView({block: 'start'})")
    other.focus()
    _assert_clear(notice, other)

    heading = page.get_by_role("heading", name="Incident", exact=True)
    page.evaluate("location.hash = '#summary-title'")
    expect(heading).to_be_in_viewport()
    _assert_clear(notice, heading)


def test_nothing_scrolls_sideways_at_1280_px(
    page: Page, console: str, reports: dict[str, int]
) -> None:
    _sign_in(page, console)
    for path in (
        f"/clearinghouse/reports/{reports['urgent']}",
        f"/clearinghouse/reports/{reports['viral']}",
        "/clearinghouse",
        f"/clearinghouse/reports/{reports['urgent']}/triage",
    ):
        page.goto(f"{console}{path}")
        width = page.evaluate(
            "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
        )
        assert width[0] <= width[1] == 1280, (path, width)
    page.goto(f"{console}/clearinghouse/reports/{reports['urgent']}")
    hash_box = page.locator(".intake-file code").first.bounding_box()
    card_box = page.locator(".intake-file").first.bounding_box()
    assert hash_box and card_box
    assert hash_box["x"] + hash_box["width"] <= card_box["x"] + card_box["width"] + 1


# --- helpers -------------------------------------------------------------------------------


def _urgent_document() -> dict[str, Any]:
    document = rows.document(incident_type=rows.ENTICEMENT, escalation=ESCALATION)
    body = document["report"]
    body["victim"] = {"victimPerson": {"firstName": "Test", "age": "13"}}
    body["personOrUserReported"] = {
        "personOrUserReportedPerson": {"email": "fox@example.net"},
        "espIdentifier": "suspect-77",
        "screenName": "dark_fox",
        "profileUrl": LONG_PROFILE,
        "ipCaptureEvent": {"ipAddress": "203.0.113.9"},
    }
    return document


def _sign_in(page: Page, console: str) -> None:
    page.goto(f"{console}/login?next=/clearinghouse")
    page.get_by_label("Username").fill(ANALYST)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/clearinghouse")


def _level(database: Database, report_id: int) -> int:
    with database.transaction() as session:
        row = session.get(ReportTriage, report_id)
        assert row is not None
        return row.effective_priority


def _file(database: Database, report_id: int) -> tuple[FileVerdict | None, str | None]:
    with database.transaction() as session:
        file = session.scalars(select(IntakeFile).where(IntakeFile.report_id == report_id)).one()
        return file.verdict, file.classification


def _files(database: Database, report_id: int) -> list[tuple[FileVerdict | None, str | None]]:
    with database.transaction() as session:
        files = session.scalars(
            select(IntakeFile).where(IntakeFile.report_id == report_id).order_by(IntakeFile.id)
        )
        return [(file.verdict, file.classification) for file in files]


def _assert_clear(notice: Locator, element: Locator) -> None:
    """The element is in the window and the notice's box does not overlap it."""
    over, under = notice.bounding_box(), element.bounding_box()
    assert over and under, (over, under)
    assert under["y"] >= 0, under
    assert under["y"] >= over["y"] + over["height"] or under["y"] + under["height"] <= over["y"], (
        over,
        under,
    )
