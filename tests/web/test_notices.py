"""Nobody is left unsure whether an action happened (issue 18, item 1): in a real browser, on
the demo data (benign pictures only), every refusal the issue found silent is shown where
the person acted, as are a lost connection and a server failure; and the successes of the
actions that change state are named in the page's live region."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, service_settings
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import ReviewSettings, Settings
from vigil.review.decisions import FalsePositiveFeedback, ReviewerRef, decide, set_incident_type
from vigil.store import Database
from vigil.store.accounts.users import find_user
from vigil.store.models import Case, EntryDisableRequest, ListEntry, Role
from vigil.store.shared.vocabulary import INCIDENT_TYPES

pytestmark = pytest.mark.browser


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    """No reporter configured (as after a fresh install); two reviewers to disable an entry."""
    return service_settings(
        database_url, tmp_path / "data", review={"two_reviewers_to_disable": True}
    )


@pytest.fixture
def demo(console_settings: Settings, corpus_images: list[Path], database: Database) -> None:
    """Seeded before the console starts (listed first by the tests that use it)."""
    seed_demo(console_settings, corpus_images[0].parent)
    add_user(database, "first", [Role.REVIEWER])
    add_user(database, "second", [Role.REVIEWER])
    add_user(database, "filer", [Role.REPORT_SUBMITTER])
    add_user(database, "keeper", [Role.ADMIN])


def _sign_in(page: Page, console: str, username: str, then: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{console}/login?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{then}")


def _reviewer(database: Database, username: str) -> ReviewerRef:
    with database.transaction() as session:
        user = find_user(session, username)
        assert user is not None
        return ReviewerRef(user.id, f"user:{username}")


def _case(database: Database, account: str) -> tuple[str, list[int]]:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == account)).one()
        return case.public_id, [item.id for item in case.items]


def _confirm_all(database: Database, account: str) -> str:
    """Known material, confirmed on its inherited classification: the case closes."""
    case_id, items = _case(database, account)
    reviewer = _reviewer(database, "first")
    with database.transaction(write=True) as session:
        set_incident_type(session, case_id, INCIDENT_TYPES[0], actor=reviewer.actor)
        for item_id in items:
            decide(
                session,
                case_id,
                "confirm",
                reviewer=reviewer,
                settings=ReviewSettings(),
                item_id=item_id,
            )
    return case_id


def _refused(page: Page) -> None:
    """The refusal is in the assertive region, seen, and nothing claims success."""
    expect(page.locator("#alerts .notice-refused")).to_be_visible()
    expect(page.locator("#notices .notice")).to_have_count(0)


def test_filing_without_a_configured_reporter_says_so(
    demo: None, page: Page, console: str, database: Database
) -> None:
    case_id = _confirm_all(database, "acct-1001")
    _sign_in(page, console, "filer", "/reports")
    row = page.locator(f'tr[data-case="{case_id}"]')
    row.get_by_label("Incident type").select_option(INCIDENT_TYPES[0])
    row.get_by_role("button", name=re.compile("Check the report")).click()
    filed = page.get_by_role("button", name="File this report")
    if filed.count():  # the preview could be built: the refusal comes on filing
        filed.click()
    # Whichever step refuses, the person reads why, on the page they are on.
    expect(page.get_by_role("alert").filter(has_text="reporter")).to_be_visible()


def test_confirming_without_a_classification_says_so(
    demo: None, page: Page, console: str, database: Database
) -> None:
    case_id, _ = _case(database, "acct-2001")  # reported by users: nothing known about it
    _sign_in(page, console, "first", f"/review/cases/{case_id}")
    page.locator(".item").first.get_by_role("button", name=re.compile("^Confirm")).click()
    _refused(page)
    expect(page.locator("#alerts")).to_contain_text("Not done: ")
    expect(page.locator("#alerts")).to_contain_text("before confirming")


def test_a_second_opinion_on_a_closed_case_says_so(
    demo: None, page: Page, console: str, database: Database
) -> None:
    case_id = _confirm_all(database, "acct-1001")
    _sign_in(page, console, "first", f"/review/cases/{case_id}")
    opinion = page.get_by_role("button", name=re.compile("Second opinion"))
    if not opinion.count():  # a closed case may no longer offer it: nothing to refuse
        pytest.skip("the closed case offers no second opinion")
    opinion.click()
    _refused(page)
    expect(page.locator("#alerts")).to_contain_text(f"Not done: case {case_id} is confirmed")


def _ask_to_disable(database: Database) -> int:
    """'first' marks a known item a false positive and asks to disable its list entry."""
    case_id, items = _case(database, "acct-1001")
    with database.transaction(write=True) as session:
        decide(
            session,
            case_id,
            "false_positive",
            reviewer=_reviewer(database, "first"),
            settings=ReviewSettings(two_reviewers_to_disable=True),
            item_id=items[0],
            reason="a landscape",
            feedback=FalsePositiveFeedback(disable_entries=True),
        )
        request = session.scalars(select(EntryDisableRequest)).one()
        return request.entry_id


def test_approving_ones_own_request_is_refused_then_another_reviewer_approves(
    demo: None, page: Page, console: str, database: Database
) -> None:
    entry_id = _ask_to_disable(database)
    _sign_in(page, console, "first", "/review/requests")
    page.get_by_role("button", name="Approve").click()
    _refused(page)
    expect(page.locator("#alerts")).to_contain_text("a second reviewer must approve")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()  # still waiting

    _sign_in(page, console, "second", "/review/requests")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#notices .notice-ok")).to_have_text(
        f"Approved: entry {entry_id} no longer matches."
    )
    expect(page.locator("#alerts .notice")).to_have_count(0)
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    with database.transaction() as session:
        entry = session.get(ListEntry, entry_id)
        assert entry is not None and entry.status.value == "disabled"


def test_a_lost_connection_and_a_server_failure_are_shown(
    demo: None, page: Page, console: str, database: Database
) -> None:
    _ask_to_disable(database)
    _sign_in(page, console, "second", "/review/requests")
    page.route("**/review/requests/*", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#alerts")).to_contain_text("Not sent: the server could not be reached")
    expect(page.locator("#alerts")).to_contain_text("Nothing was changed")
    page.unroute("**/review/requests/*")

    def failing(route: Route) -> None:  # as the server answers an unexpected error
        body = {"error": {"code": "internal_error", "message": "internal error; not applied"}}
        route.fulfill(status=500, content_type="application/json", body=json.dumps(body))

    page.route("**/review/requests/*", failing)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#alerts")).to_contain_text("Not done: internal error; not applied")
    page.unroute("**/review/requests/*")

    def failing_page(route: Route) -> None:  # a proxy's own error page: no message to read
        route.fulfill(status=502, content_type="text/html", body="<h1>Bad gateway</h1>")

    page.route("**/review/requests/*", failing_page)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#alerts")).to_contain_text("The server failed (502)")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()  # the page stays


def test_taking_a_case_is_confirmed(
    demo: None, page: Page, console: str, database: Database
) -> None:
    case_id, _ = _case(database, "acct-2001")
    _sign_in(page, console, "first", "/review")
    page.locator("tr", has_text="acct-2001").get_by_role("button", name=re.compile("Take")).click()
    page.wait_for_url(f"{console}/review/cases/{case_id}")
    expect(page.locator("#notices .notice-ok")).to_have_text("You took this case.")
    page.reload()  # said once: the notice does not greet the next page
    expect(page.locator("#notices .notice")).to_have_count(0)


def test_law_enforcement_requests_are_confirmed(
    demo: None, page: Page, console: str, database: Database
) -> None:
    _sign_in(page, console, "keeper", "/legal")
    page.get_by_label("Agency", exact=True).fill("Example Police")
    page.get_by_label("Agency case number").fill("EP-7")
    page.get_by_role("button", name=re.compile("Record")).click()
    expect(page.locator("#notices .notice-ok")).to_have_text(
        "Request EP-7 from Example Police recorded."
    )
    page.get_by_role("button", name=re.compile("answered", re.I)).click()
    expect(page.locator("#notices .notice-ok")).to_have_text("Request EP-7 marked answered.")
