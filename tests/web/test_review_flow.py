"""A reviewer's day in a real browser, on the demo data (benign pictures only): the queue,
a case shown protected, one audited reveal, classification and decisions by keyboard, a
false positive that disables the list entry, and no media for those without permission."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user
from vigil.cli.demo_data import DEMO_REVIEWER, seed_demo
from vigil.core.settings import Settings
from vigil.fingerprint.pdq import hamming
from vigil.fingerprint.pipeline import fingerprint_bytes
from vigil.store import Database
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    Case,
    CaseItem,
    EntryStatus,
    ItemStatus,
    ListEntry,
    MatchRecord,
    Role,
)
from vigil.store.shared.vocabulary import INCIDENT_TYPES

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(console_settings: Settings, corpus_images: list[Path]) -> str:
    """Seeded before the console starts, as `vigil serve --demo` does (list first listed
    as the test's first argument so that pytest sets it up first)."""
    seeded = seed_demo(console_settings, corpus_images[0].parent)
    assert seeded.reviewer_password
    return seeded.reviewer_password


def _sign_in(page: Page, console: str, username: str, password: str) -> None:
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/review")


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    """The screen renders to an image (docs/screenshots/ is made by scripts/screenshots.py)."""
    page.screenshot(path=str(tmp_path / name), full_page=False)


def _case_id(database: Database, account: str) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Case.public_id).where(Case.platform_account_id == account)
        ).one()


def test_review_a_case_end_to_end(
    demo: str, page: Page, console: str, database: Database, tmp_path: Path
) -> None:
    _sign_in(page, console, DEMO_REVIEWER, demo)
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("acct-3001")  # the escalation comes first
    _shoot(page, "queue.png", tmp_path)

    case_id = _case_id(database, "acct-2001")
    page.goto(f"{console}/review/cases/{case_id}")
    first = page.locator(".item").first
    image = first.locator("img")
    expect(image).to_have_attribute(
        "src", f"/review/items/{_first_item(database, case_id)}/preview?view=grayscale_blur"
    )
    _assert_protected(page, console, database, case_id)
    _shoot(page, "case.png", tmp_path)

    first.focus()
    page.keyboard.press("r")  # reveal: the unblurred picture, counted and audited
    expect(first.locator(".reveal-count")).to_have_text("1")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    assert _media_views(database) == [("user:reviewer", str(_first_item(database, case_id)))]
    page.keyboard.press("Escape")
    expect(image).to_have_attribute("src", re.compile(r"/preview\?"))

    page.keyboard.press("2")  # classification A2
    expect(page.locator(".item").first.get_by_role("button", name="A2")).to_have_attribute(
        "aria-pressed", "true"
    )
    _settled(page)
    page.locator(".item").first.locator(".decisions").scroll_into_view_if_needed()
    _shoot(page, "case-item.png", tmp_path)
    page.locator(".item").first.focus()
    page.keyboard.press("c")  # confirm
    expect(page.locator(".item").first).to_contain_text("Confirmed")
    with database.transaction() as session:
        item = session.get(CaseItem, _first_item(database, case_id))
        assert item is not None and item.status is ItemStatus.CONFIRMED
        assert item.classification == "A2"
    # The confirmation swapped the page: a change fired before HTMX wired up the new form
    # would send nothing (seen on a loaded machine), so wait for it as a person's eye would.
    _settled(page)
    with page.expect_response(lambda answer: "incident-type" in answer.url) as answered:
        page.get_by_label("Incident type").select_option(INCIDENT_TYPES[6])
    assert answered.value.status in (200, 303), answered.value.status
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.public_id == case_id)).one()
        assert case.incident_type == INCIDENT_TYPES[6]


def test_false_positive_disables_the_entry(
    demo: str, page: Page, console: str, database: Database
) -> None:
    _sign_in(page, console, DEMO_REVIEWER, demo)
    case_id = _case_id(database, "acct-1001")
    page.goto(f"{console}/review/cases/{case_id}")
    first = page.locator(".item").first
    expect(first).to_contain_text("No need to view it")  # known: inherited classification
    first.get_by_text("Not abuse / false positive").click()
    first.get_by_label("Reason (required)").fill("a landscape photo, not abuse")
    first.get_by_label("Disable the matched list entries").check()
    first.get_by_role("button", name="Record false positive").click()
    expect(page.locator(".item").first).to_contain_text("False positive")
    with database.transaction() as session:
        item_id = _first_item(database, case_id)
        record = session.scalars(
            select(MatchRecord)
            .join(CaseItem, CaseItem.record_id == MatchRecord.id)
            .where(CaseItem.id == item_id)
        ).one()
        entry = session.get(ListEntry, record.hits[0].entry_id)
        assert entry is not None and entry.status is EntryStatus.DISABLED


def test_no_media_without_the_permission(
    demo: str, page: Page, console: str, database: Database
) -> None:
    add_user(database, "auditor-ann", [Role.AUDITOR])
    case_id = _case_id(database, "acct-2001")
    item_id = _first_item(database, case_id)
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill("auditor-ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    preview = page.request.get(f"{console}/review/items/{item_id}/preview")
    assert preview.status == 403 and not preview.headers["content-type"].startswith("image/")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    reveal = page.request.post(
        f"{console}/review/items/{item_id}/reveal", headers={"X-CSRF-Token": csrf}
    )
    assert reveal.status == 403
    assert page.request.get(f"{console}/review/cases/{case_id}").status == 403


def _settled(page: Page) -> None:
    """HTMX has finished swapping and wired up the new content (its buttons work)."""
    # A locator, not wait_for_function: a string predicate is evaluated with eval, which the
    # console's Content-Security-Policy refuses once polling starts.
    expect(
        page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")
    ).to_have_count(0)


def _first_item(database: Database, case_id: str) -> int:
    with database.transaction() as session:
        return session.scalars(
            select(CaseItem.id).join(Case).where(Case.public_id == case_id).order_by(CaseItem.id)
        ).first()  # type: ignore[return-value]


def _media_views(database: Database) -> list[tuple[str, str | None]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.MEDIA_VIEWED)
        ).all()
        return [(row.actor, row.subject_id) for row in rows]


def _assert_protected(page: Page, console: str, database: Database, case_id: str) -> None:
    """The served picture is a small, blurred rendering, far from the original."""
    item_id = _first_item(database, case_id)
    served = page.request.get(f"{console}/review/items/{item_id}/preview").body()
    with database.transaction() as session:
        record = session.scalars(
            select(MatchRecord)
            .join(CaseItem, CaseItem.record_id == MatchRecord.id)
            .where(CaseItem.id == item_id)
        ).one()
        original_pdq = record.pdq
    with Image.open(io.BytesIO(served)) as picture:
        assert max(picture.size) <= 320
        assert picture.mode == "L" or _is_gray(picture)
    rendered = fingerprint_bytes(served)
    assert original_pdq and rendered.pdq
    assert hamming(original_pdq, rendered.pdq) > 40


def _is_gray(picture: Image.Image) -> bool:
    r, g, b = picture.convert("RGB").split()
    return r.tobytes() == g.tobytes() == b.tobytes()
