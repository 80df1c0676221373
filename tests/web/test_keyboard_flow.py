"""The keyboard-first review flow on the case screen (issue 18, items 4, 5 and 10), in a
real browser on benign corpus pictures: how many key presses a reviewer needs, the current
item surviving decisions, the compact cards, the shortcuts and their switch, escalation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.web.review_cases import case_of, item_ids, seed_reported_case, statuses
from vigil.cli.demo_data import DEMO_REVIEWER
from vigil.core.settings import Settings
from vigil.reporting.cybertipline.from_case import build_case_report
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, Case
from vigil.store.shared.vocabulary import INCIDENT_TYPES

pytestmark = pytest.mark.browser
ACCOUNT = "acct-8008"
ITEMS = 8
# Measured with measure_presses on main before the keyboard flow (issue 18): every
# decision reloaded the page and made item 1 current again; the page was 2,711 px tall.
PRESSES_BEFORE = 42
PRESSES_NOW = 15  # j once, then 2 and c for each of the seven items
HEIGHT_BEFORE = 2711
# Now 1,489 px (1280x800 window): compact cards, the current item spanning the row,
# and the selection bar (1,441 px before it).


@pytest.fixture
def reviewer_password(console_settings: Settings, corpus_images: list[Path]) -> str:
    """Seeded before the console starts (listed before ``page`` in each test)."""
    return seed_reported_case(console_settings, corpus_images, ACCOUNT, ITEMS)


def sign_in(page: Page, console: str, password: str) -> None:
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill(DEMO_REVIEWER)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/review")


def settled(page: Page) -> None:
    """HTMX has finished swapping and the page is loaded (after a redirect too)."""
    page.wait_for_load_state("load")
    # A locator, not wait_for_function: its predicate is evaluated with eval, which the
    # console's Content-Security-Policy refuses once polling starts.
    expect(
        page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")
    ).to_have_count(0)


def current_item(page: Page) -> str | None:
    return page.evaluate(
        "(document.querySelector('.item[aria-current=\"true\"]')"
        " || document.querySelector('.item'))?.id"
    )


def wait_for(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def measure_presses(page: Page, database: Database, case_id: str) -> int:
    """Key presses to classify (A2, key 2) and confirm items 2 to 8, as a reviewer who
    moves to the next item with j/k only when it is not already current."""
    ids = item_ids(database, case_id)
    positions = {f"item-{item_id}": index for index, item_id in enumerate(ids)}
    presses = 0

    def press(key: str) -> None:
        nonlocal presses
        presses += 1
        page.keyboard.press(key)
        settled(page)

    def item_is(position: int, wanted: tuple[str, str | None]) -> bool:
        return statuses(database, case_id)[position] == wanted

    for position in range(1, len(ids)):
        for _ in range(2 * len(ids)):
            current = current_item(page)
            if positions.get(current or "") == position:
                break
            press("j" if positions.get(current or "", 0) < position else "k")
        press("2")
        wait_for(lambda p=position: item_is(p, ("pending", "A2")), "classification")
        settled(page)
        press("c")
        wait_for(lambda p=position: item_is(p, ("confirmed", "A2")), "confirmation")
        expect(page.locator(f"#item-{ids[position]}")).to_contain_text("Confirmed")
        settled(page)
    return presses


def open_case(page: Page, console: str, password: str, case_id: str) -> None:
    sign_in(page, console, password)
    page.goto(f"{console}/review/cases/{case_id}")
    settled(page)


def test_classifying_and_confirming_items_2_to_8_by_keyboard(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    open_case(page, console, reviewer_password, case_id)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.evaluate("window.vigilSamePage = true")  # gone if the page reloads
    presses = measure_presses(page, database, case_id)
    print(
        f"\nkey presses for items 2-8: {presses} (before: {PRESSES_BEFORE}); "
        f"page height at opening: {height} px (before: {HEIGHT_BEFORE} px)"
    )
    assert [status for status, _ in statuses(database, case_id)] == ["pending"] + ["confirmed"] * (
        ITEMS - 1
    )
    assert presses <= PRESSES_NOW
    assert height < HEIGHT_BEFORE * 0.6
    assert page.evaluate("window.vigilSamePage") is True
    expect(page.locator("#case-progress")).to_contain_text("7 of 8")


def test_a_decision_swaps_one_card_and_the_next_pending_item_becomes_current(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    ids = item_ids(database, case_id)
    open_case(page, console, reviewer_password, case_id)
    first, second = page.locator(f"#item-{ids[0]}"), page.locator(f"#item-{ids[1]}")
    expect(first).to_have_attribute("aria-current", "true")  # the first pending item
    expect(first).to_be_focused()
    expect(first.get_by_role("button", name="Confirm")).to_be_visible()
    expect(second.get_by_role("button", name="Confirm")).to_be_hidden()  # compact card
    page.keyboard.press("3")
    expect(first.get_by_role("button", name="B1")).to_have_attribute("aria-pressed", "true")
    expect(first).to_be_focused()
    page.keyboard.press("c")
    expect(first).to_contain_text("Confirmed")
    expect(second).to_have_attribute("aria-current", "true")
    expect(second).to_be_focused()
    expect(page.locator("#notices")).to_contain_text(f"Item {ids[0]} confirmed.")
    expect(page.locator("#case-progress")).to_contain_text("1 of 8")
    expect(page.locator("#case-decisions")).to_contain_text("confirm")

    page.keyboard.press("f")  # the false-positive form, the cursor in its reason
    reason = second.get_by_label("Reason (required)")
    expect(reason).to_be_focused()
    page.keyboard.type("a landscape photo, not abuse")
    second.get_by_role("button", name="Record false positive").click()
    expect(second).to_contain_text("False positive")
    expect(page.locator(f"#item-{ids[2]}")).to_be_focused()
    assert statuses(database, case_id)[:3] == [
        ("confirmed", "B1"),
        ("false_positive", None),
        ("pending", None),
    ]


def test_keys_pressed_while_htmx_is_busy_wait_for_it(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    """A fast "3 c" on a slow link: "c" can come while the classification is still out or
    its card is being swapped in. It must wait for the page to settle, not press the old
    card's button (refused: not classified yet) or one HTMX has not wired up (nothing)."""
    case_id = case_of(database, ACCOUNT)
    first = page.locator(f"#item-{item_ids(database, case_id)[0]}")
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("3")
    expect(first.get_by_role("button", name="B1")).to_have_attribute("aria-pressed", "true")
    settled(page)
    # As HTMX marks a request in flight; then "c" must wait.
    page.evaluate("document.body.classList.add('htmx-request')")
    page.keyboard.press("c")
    page.wait_for_timeout(500)
    assert statuses(database, case_id)[0] == ("pending", "B1")
    # The request ends: the waiting key acts on the page as it now is.
    page.evaluate(
        "document.body.classList.remove('htmx-request');"
        "document.body.dispatchEvent(new CustomEvent('htmx:afterRequest', {bubbles: true}))"
    )
    expect(first).to_contain_text("Confirmed")
    expect(page.locator("#alerts")).to_be_empty()
    assert statuses(database, case_id)[0] == ("confirmed", "B1")


def test_confirm_all_known_items_then_next_case(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    known_case = case_of(database, "acct-1001")  # the demo's two listed pictures
    open_case(page, console, reviewer_password, known_case)
    page.keyboard.press("Shift+C")
    confirm = page.get_by_role("button", name="Yes, confirm 2 known items")
    expect(confirm).to_be_focused()  # one confirmation: Enter
    page.keyboard.press("Enter")
    expect(page.locator("#notices")).to_contain_text("Confirmed 2 known items.")
    assert [status for status, _ in statuses(database, known_case)] == ["confirmed"] * 2
    expect(page.locator("#case-progress")).to_contain_text("status confirmed")

    page.keyboard.press("Shift+N")  # the next case the reviewer may take
    page.wait_for_url(lambda url: "/review/cases/" in url and known_case not in url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("acct-3001")  # most urgent


def test_the_shortcut_reference_and_turning_single_key_shortcuts_off(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    first = item_ids(database, case_id)[0]
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("?")
    reference = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(reference).to_be_visible()
    expect(reference).to_contain_text("false positive: opens the form with the reason focused")
    page.keyboard.press("Escape")
    expect(reference).to_be_hidden()

    switch = page.get_by_role("button", name="Single-key shortcuts: on").first
    switch.click()
    expect(page.get_by_role("button", name="Single-key shortcuts: off").first).to_be_visible()
    page.reload()
    settled(page)
    expect(page.get_by_role("button", name="Single-key shortcuts: off").first).to_be_visible()
    page.keyboard.press("2")
    page.keyboard.press("c")
    page.wait_for_timeout(500)
    assert statuses(database, case_id)[0] == ("pending", None)  # nothing happened
    page.keyboard.press("ArrowDown")  # not a character key: still works
    expect(page.locator(f"#item-{first}")).to_have_attribute("aria-current", "false")


def test_escalation_needs_a_reason_and_a_confirmation_and_can_be_undone(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("u")
    reason = page.get_by_label("Reason (required: it goes into the CyberTipline report)")
    expect(reason).to_be_focused()
    page.get_by_label("I confirm: make this case urgent").check()
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.locator("#alerts")).to_contain_text("give a reason")
    reason.fill("The account wrote that it meets the child alone on Friday.")
    page.get_by_label("I confirm: make this case urgent").uncheck()
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.locator("#alerts")).to_contain_text("tick 'I confirm'")
    assert not _case(database, case_id).escalated

    page.get_by_label("I confirm: make this case urgent").check()
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.locator("#notices")).to_contain_text("Case escalated as urgent")
    expect(page.locator(".escalated")).to_contain_text("meets the child alone on Friday")
    _confirm_all_by_api(page, console, database, case_id)
    xml = _report_xml(database, case_id)
    assert (
        "<escalateToHighPriority>A child may be in imminent danger. The account wrote that it "
        "meets the child alone on Friday.</escalateToHighPriority>" in xml
    )


def test_de_escalation_clears_the_reason_and_is_audited(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("u")
    page.keyboard.type("looked like a live stream")
    page.get_by_label("I confirm: make this case urgent").check()
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.locator(".escalated")).to_contain_text("looked like a live stream")
    settled(page)
    page.locator("body").focus()
    page.keyboard.press("u")
    expect(page.get_by_label("Why (kept in the audit log)")).to_be_focused()
    page.keyboard.type("an old recording, known")
    page.get_by_role("button", name="De-escalate", exact=True).click()
    expect(page.locator("#notices")).to_contain_text("Escalation undone")
    expect(page.locator(".escalated")).to_have_count(0)
    case = _case(database, case_id)
    assert (case.escalated, case.imminent_danger, case.escalation_reason) == (False, False, None)
    with database.transaction() as session:
        record = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.DECISION)
            .order_by(AuditRecord.seq.desc())
        ).first()
        assert record is not None and record.details["kind"] == "de_escalate"
        assert record.actor == f"user:{DEMO_REVIEWER}"
        assert record.details["feedback"]["undone_reason"] == "looked like a live stream"
    _confirm_all_by_api(page, console, database, case_id)
    assert "escalateToHighPriority" not in _report_xml(database, case_id)


def _case(database: Database, case_id: str) -> Case:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.public_id == case_id)).one()
        session.expunge(case)
        return case


def _confirm_all_by_api(page: Page, console: str, database: Database, case_id: str) -> None:
    """Classify and confirm every item with the console's own requests (signed in)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    headers = {"X-CSRF-Token": csrf}
    for item_id in item_ids(database, case_id):
        answer = page.request.post(
            f"{console}/review/items/{item_id}/classify",
            form={"classification": "A2"},
            headers=headers,
        )
        assert answer.ok, answer.status
        answer = page.request.post(
            f"{console}/review/cases/{case_id}/decide",
            form={"kind": "confirm", "item_id": str(item_id)},
            headers=headers,
            max_redirects=0,
        )
        assert answer.status in (200, 204, 303), answer.status


def _report_xml(database: Database, case_id: str) -> str:
    reporter = ReporterDetails(
        company_name="Example Social",
        contact_name="Sam Safety",
        contact_email="safety@example.org",
        platform="Example Social",
    )
    with database.transaction() as session:
        document = build_case_report(
            session, case_id, reporter=reporter, incident_type=INCIDENT_TYPES[0]
        )
        return document.report_xml.decode()


def test_malformed_and_refused_case_actions_change_nothing(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)  # user reports only: nothing known
    open_case(page, console, reviewer_password, case_id)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    headers = {"X-CSRF-Token": csrf}
    decide = f"{console}/review/cases/{case_id}/decide"
    refused = [
        (decide, {"kind": "de_escalate"}, "not escalated"),
        (decide, {"kind": "escalate", "reason": "   ", "confirmed": "true"}, "give a reason"),
        (decide, {"kind": "escalate", "reason": "x" * 2001, "confirmed": "true"}, ""),
        (decide, {"kind": "escalate", "reason": "urgent"}, "I confirm"),
        (f"{console}/review/cases/{case_id}/confirm-known", {}, "no pending item"),
    ]
    for url, form, message in refused:
        answer = page.request.post(url, form=form, headers=headers, max_redirects=0)
        assert answer.status == 422, (form, answer.status)
        assert message in answer.text()
    unknown = page.request.post(
        f"{console}/review/cases/{'0' * 32}/confirm-known", headers=headers, max_redirects=0
    )
    assert unknown.status == 404
    case = _case(database, case_id)
    assert (case.escalated, case.escalation_reason) == (False, None)
    assert {status for status, _ in statuses(database, case_id)} == {"pending"}
    for odd in ("x" * 500, "%00", "0" * 32):
        answer = page.request.get(f"{console}/review/cases/{odd}/next", max_redirects=0)
        assert answer.status == 404, (odd, answer.status)
    answer = page.request.get(f"{console}/review/cases/{case_id}/next", max_redirects=0)
    assert answer.status == 303
    assert answer.headers["location"].startswith("/review/cases/")
    assert case_id not in answer.headers["location"]  # the next case is another one
