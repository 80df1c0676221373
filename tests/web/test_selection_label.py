"""A label for a selection on the case screen (issue 18), in a real browser on benign corpus
pictures: several items selected by keyboard and mouse get one classification at once, the
current item staying current; refusals shown on the page; hostile requests refused; and the
incident type set without losing the current item."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user
from tests.web.review_cases import case_of, item_ids, seed_reported_case, statuses
from tests.web.test_keyboard_flow import open_case, settled
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, Case, Role
from vigil.store.shared.vocabulary import INCIDENT_TYPE_KEYS, INCIDENT_TYPES

pytestmark = pytest.mark.browser
ACCOUNT = "acct-5005"
ITEMS = 8


@pytest.fixture
def reviewer_password(console_settings: Settings, corpus_images: list[Path]) -> str:
    """Seeded before the console starts (listed before ``page`` in each test)."""
    return seed_reported_case(console_settings, corpus_images, ACCOUNT, ITEMS)


def _csrf(page: Page) -> dict[str, str]:
    return {
        "X-CSRF-Token": next(
            c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf"
        )
    }


def _classification_audits(database: Database) -> list[int]:
    """The items whose classification changes were audited, in order."""
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.DECISION)
            .order_by(AuditRecord.seq)
        )
        return [r.details["item_id"] for r in rows if r.details.get("change") == "classification"]


def test_three_of_eight_items_selected_by_keyboard_and_mouse_are_labelled_at_once(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    ids = item_ids(database, case_id)
    open_case(page, console, reviewer_password, case_id)
    page.evaluate("window.vigilSamePage = true")  # gone if the page reloads
    count = page.locator("#selection-count")
    label = page.get_by_role("button", name="Label selected")
    expect(count).to_have_text("0 selected")
    expect(label).to_be_disabled()

    page.keyboard.press("j")
    page.keyboard.press("Space")  # item 2, by keyboard
    expect(count).to_have_text("1 selected")
    expect(label).to_be_enabled()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Space")  # item 4, by keyboard
    current = page.locator(f"#item-{ids[3]}")
    expect(current).to_have_attribute("aria-current", "true")
    page.get_by_label(f"Select item {ids[6]}").check()  # item 7, by mouse
    expect(count).to_have_text("3 selected")
    expect(current).to_have_attribute("aria-current", "true")  # ticking does not move it
    page.get_by_label(f"Select item {ids[5]}").check()
    page.get_by_label(f"Select item {ids[5]}").uncheck()
    expect(count).to_have_text("3 selected")

    current.focus()
    page.keyboard.press("Shift+L")
    classification = page.get_by_label("Label as")
    expect(classification).to_be_focused()
    classification.select_option("B1")
    label.click()

    expect(page.locator("#notices")).to_have_text("3 items labelled B1.")
    for position in (1, 3, 6):
        expect(page.locator(f"#item-{ids[position]}")).to_contain_text("classified B1")
    expect(page.locator(".item", has_text="classified B1")).to_have_count(3)
    expect(current).to_have_attribute("aria-current", "true")
    expect(current).to_be_focused()
    expect(current.get_by_role("button", name="Confirm")).to_be_visible()
    expect(page.locator('.item[aria-current="true"]')).to_have_count(1)
    expect(count).to_have_text("0 selected")
    expect(label).to_be_disabled()
    assert page.evaluate("window.vigilSamePage") is True
    labelled = [(p, s) for p, s in enumerate(statuses(database, case_id)) if s[1]]
    assert labelled == [(1, ("pending", "B1")), (3, ("pending", "B1")), (6, ("pending", "B1"))]
    assert _classification_audits(database) == [ids[1], ids[3], ids[6]]

    # The labelled current item goes on as any classified item: c confirms it.
    settled(page)
    page.keyboard.press("c")
    expect(current).to_contain_text("Confirmed")
    assert statuses(database, case_id)[3] == ("confirmed", "B1")


def test_a_selection_with_an_item_decided_meanwhile_is_refused_on_the_page(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    ids = item_ids(database, case_id)
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("Shift+A")  # select all pending
    expect(page.locator("#selection-count")).to_have_text("8 selected")
    # Another tab (or a colleague) decides the third item while this page still shows it.
    for url, form in (
        (f"/review/items/{ids[2]}/classify", {"classification": "A2"}),
        (f"/review/cases/{case_id}/decide", {"kind": "confirm", "item_id": str(ids[2])}),
    ):
        answer = page.request.post(console + url, form=form, headers=_csrf(page))
        assert answer.ok, answer.status
    page.get_by_label("Label as").select_option("A1")
    page.get_by_role("button", name="Label selected").click()

    expect(page.locator("#alerts")).to_contain_text(
        f"Not done: item {ids[2]} (confirmed) was already decided"
    )
    expect(page.locator("#notices")).to_be_empty()
    assert [c for _, c in statuses(database, case_id)] == [None, None, "A2"] + [None] * 5
    expect(page.locator("#selection-count")).to_have_text("8 selected")  # to change, not redo
    expect(page.locator(f"#item-{ids[0]}")).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator("#selection-count")).to_have_text("0 selected")
    page.keyboard.press("Shift+A")
    page.get_by_label("Label as").select_option("")
    page.get_by_role("button", name="Label selected").click()
    expect(page.locator("#alerts")).to_contain_text("choose the classification")


def test_a_selected_item_stays_selected_when_classified_alone_and_leaves_when_decided(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    first = page.locator(f"#item-{item_ids(database, case_id)[0]}")
    count = page.locator("#selection-count")
    open_case(page, console, reviewer_password, case_id)
    page.keyboard.press("Space")
    expect(count).to_have_text("1 selected")
    page.keyboard.press("Space")  # unselects
    expect(count).to_have_text("0 selected")
    page.keyboard.press("Space")
    page.keyboard.press("3")  # B1 on this item alone: its card is swapped in anew
    expect(first.get_by_role("button", name="B1")).to_have_attribute("aria-pressed", "true")
    expect(first.get_by_role("checkbox")).to_be_checked()
    expect(count).to_have_text("1 selected")
    settled(page)
    page.keyboard.press("c")
    expect(first).to_contain_text("Confirmed")
    expect(first.get_by_role("checkbox")).to_have_count(0)
    expect(count).to_have_text("0 selected")
    page.keyboard.press("?")
    reference = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(reference).to_contain_text("select or unselect the current item")
    expect(reference).to_contain_text("select all pending items")


def test_the_incident_type_keeps_the_current_item_and_its_focus(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    third = page.locator(f"#item-{item_ids(database, case_id)[2]}")
    open_case(page, console, reviewer_password, case_id)
    page.evaluate("window.vigilSamePage = true")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(third).to_be_focused()
    key, value = next(iter(INCIDENT_TYPE_KEYS.items()))
    page.keyboard.press(key)
    expect(page.locator("#notices")).to_have_text(f"Incident type: {value}.")
    expect(page.get_by_label("Incident type")).to_have_value(value)
    expect(third).to_have_attribute("aria-current", "true")
    expect(third).to_be_focused()
    assert _incident_type(database, case_id) == value

    page.get_by_label("Incident type").select_option(INCIDENT_TYPES[6])
    expect(page.locator("#notices")).to_have_text(f"Incident type: {INCIDENT_TYPES[6]}.")
    expect(third).to_have_attribute("aria-current", "true")
    expect(third).to_be_focused()
    page.get_by_label("Incident type").select_option("")
    expect(page.locator("#notices")).to_have_text("Incident type cleared.")
    expect(third).to_be_focused()
    settled(page)
    page.keyboard.press("j")  # the keys go on from the current item
    expect(page.locator(f"#item-{item_ids(database, case_id)[3]}")).to_be_focused()
    assert page.evaluate("window.vigilSamePage") is True
    assert _incident_type(database, case_id) is None


def test_hostile_and_refused_selections_change_nothing(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    ids = item_ids(database, case_id)
    other = item_ids(database, case_of(database, "acct-1001"))[0]  # a demo case's item
    open_case(page, console, reviewer_password, case_id)
    url = f"{console}/review/cases/{case_id}/classify-selected"
    headers = {**_csrf(page), "HX-Request": "true"}

    def post(fields: list[tuple[str, str]], to: str = url) -> tuple[int, str]:
        body = "&".join(f"{name}={value}" for name, value in fields)
        answer = page.request.post(
            to,
            data=body,
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            max_redirects=0,
        )
        return answer.status, answer.text()

    one = ("item_ids", str(ids[0]))
    for fields, status, message in [
        ([("classification", "A1")], 422, "select at least one item"),
        ([one], 422, "choose the classification"),
        ([one, ("classification", "Z9")], 422, "classification must be one of"),
        ([one, ("classification", "x" * 17)], 422, "classification"),
        ([one, ("item_ids", str(other)), ("classification", "A1")], 422, "is not in case"),
        ([("item_ids", "abc"), ("classification", "A1")], 422, "item_ids"),
        ([("item_ids", "0"), ("classification", "A1")], 422, "item_ids"),
        ([("item_ids", "-3"), ("classification", "A1")], 422, "item_ids"),
        ([("item_ids", str(2**64)), ("classification", "A1")], 422, "item_ids"),
        ([("item_ids", str(2**63)), ("classification", "A1")], 422, "item_ids"),
        ([("item_ids", str(i)) for i in range(1, 502)] + [("classification", "A1")], 422, ""),
    ]:
        answer_status, text = post(fields)
        assert answer_status == status, (fields[:3], answer_status, text)
        assert message in text, (fields[:3], text)
    for odd in ("0" * 32, "x" * 500, "%00"):
        assert (
            post(
                [one, ("classification", "A1")], f"{console}/review/cases/{odd}/classify-selected"
            )[0]
            == 404
        )
    assert {c for _, c in statuses(database, case_id)} == {None}
    assert _classification_audits(database) == []
    # Without the CSRF header, or signed out, nothing is done either.
    answer = page.request.post(url, form={"item_ids": str(ids[0]), "classification": "A1"})
    assert answer.status == 403
    page.context.clear_cookies()
    answer = page.request.post(
        url, form={"item_ids": str(ids[0]), "classification": "A1"}, max_redirects=0
    )
    assert answer.status in (401, 403)
    # An auditor reads cases but does not decide: refused before anything is looked up.
    add_user(database, "audrey", [Role.AUDITOR])
    page.request.post(
        f"{console}/login", form={"username": "audrey", "password": PASSWORD}, max_redirects=0
    )
    answer = page.request.post(
        url, form={"item_ids": str(ids[0]), "classification": "A1"}, headers=_csrf(page)
    )
    assert answer.status == 403, answer.status
    assert {c for _, c in statuses(database, case_id)} == {None}


def _incident_type(database: Database, case_id: str) -> str | None:
    with database.transaction() as session:
        return session.scalars(select(Case.incident_type).where(Case.public_id == case_id)).one()
