"""Issue 18, item 8: exposure is the time revealed media was on screen in a visible tab, not
time on a page; a reveal (by key or by click) is blurred again after [review]
reveal_idle_seconds without activity; the counters of one page agree after a reveal; and
administrators see each reviewer's days. Benign demo pictures only."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, service_settings
from vigil.cli.demo_data import DEMO_REVIEWER, seed_demo
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import Case, CaseItem, ExposureEvent, ExposureKind, Role

pytestmark = pytest.mark.browser
IDLE = 2  # seconds: a short [review] reveal_idle_seconds for the test
ACCOUNT = "acct-2001"  # a demo case of pictures


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data", review={"reveal_idle_seconds": IDLE})


@pytest.fixture
def password(console_settings: Settings, corpus_images: list[Path]) -> str:
    """The demo data, seeded before the console starts (listed first)."""
    seeded = seed_demo(console_settings, corpus_images[0].parent)
    assert seeded.reviewer_password
    return seeded.reviewer_password


def _sign_in(page: Page, console: str, username: str, password: str, landing: str) -> None:
    page.goto(f"{console}/login?next={landing}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{landing}")


def _case(database: Database) -> tuple[str, int]:
    with database.transaction() as session:
        case_id = session.scalars(
            select(Case.public_id).where(Case.platform_account_id == ACCOUNT)
        ).one()
        first = session.scalars(
            select(CaseItem.id).join(Case).where(Case.public_id == case_id).order_by(CaseItem.id)
        ).first()
    assert first is not None
    return case_id, first


def _media_seconds(database: Database) -> list[float]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(ExposureEvent.seconds)
                .where(ExposureEvent.kind == ExposureKind.MEDIA_TIME)
                .order_by(ExposureEvent.id)
            )
        )


def _wait_for_media_time(database: Database, count: int, within: float = 8.0) -> list[float]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        seconds = _media_seconds(database)
        if len(seconds) >= count:
            return seconds
        time.sleep(0.2)
    raise AssertionError(f"no exposure time recorded: {_media_seconds(database)}")


def _csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    return {"X-CSRF-Token": token}


def test_a_keyboard_reveal_is_blurred_again_when_idle_and_its_visible_time_counts(
    password: str, page: Page, console: str, database: Database
) -> None:
    case_id, first = _case(database)
    _sign_in(page, console, DEMO_REVIEWER, password, f"/review/cases/{case_id}")
    item = page.locator(f"#item-{first}")
    image = item.locator("img")
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
    )
    page.mouse.move(1, 1)  # the pointer away from the cards: only the idle time re-blurs
    item.focus()
    time.sleep(1.5)  # time on the page before the reveal is not exposure
    assert _media_seconds(database) == []

    page.keyboard.press("r")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    revealed_at = time.monotonic()
    # one reveal, the same number everywhere on the page
    expect(item.locator(".reveal-count")).to_have_text("1")
    expect(page.locator("#case-reveals")).to_have_text("1")
    expect(page.locator("#exposure-reveals")).to_have_text("1")

    expect(image).to_have_attribute(
        "src", re.compile(r"/preview\?view="), timeout=IDLE * 1000 + 3000
    )
    blurred_after = time.monotonic() - revealed_at
    assert IDLE - 0.5 <= blurred_after <= IDLE + 2.5
    expect(page.locator("#notices")).to_contain_text(f"Blurred again after {IDLE} seconds")
    [seconds] = _wait_for_media_time(database, 1)
    assert IDLE - 0.5 <= seconds <= IDLE + 1.5  # the visible time, not the page's


def test_visible_time_is_sent_when_the_page_is_left_and_reports_are_bounded(
    password: str, page: Page, console: str, database: Database
) -> None:
    case_id, first = _case(database)
    _sign_in(page, console, DEMO_REVIEWER, password, f"/review/cases/{case_id}")
    item = page.locator(f"#item-{first}")
    item.get_by_role("button", name="Reveal this item").click()
    expect(item.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(item.locator(".reveal-count")).to_have_text("1")
    page.goto(f"{console}/review")  # pagehide: the open reveal's time goes with keepalive
    [seconds] = _wait_for_media_time(database, 1)
    assert 0 < seconds < IDLE + 1.5

    csrf = {**_csrf(page), "Content-Type": "application/json"}
    url = f"{console}/review/exposure/time"
    statuses = [
        page.request.post(url, headers=csrf, data='{"seconds": 100000}').status,
        page.request.post(url, headers=csrf, data='{"seconds": -5}').status,
        page.request.post(url, headers=csrf, data='{"seconds": "many"}').status,
        page.request.post(url, headers=csrf, data="not json").status,
        page.request.post(url, data='{"seconds": 10}').status,  # no CSRF token
    ]
    assert statuses == [422, 422, 422, 422, 403]
    assert len(_media_seconds(database)) == 1


def test_administrators_see_reveals_and_visible_minutes_per_reviewer_and_day(
    password: str, page: Page, console: str, database: Database
) -> None:
    case_id, first = _case(database)
    _sign_in(page, console, DEMO_REVIEWER, password, f"/review/cases/{case_id}")
    item = page.locator(f"#item-{first}")
    item.get_by_role("button", name="Reveal this item").click()
    expect(item.locator(".reveal-count")).to_have_text("1")
    page.keyboard.press("Escape")  # hidden again: its visible time is sent
    _wait_for_media_time(database, 1)
    headers = {**_csrf(page), "Content-Type": "application/json"}
    answer = page.request.post(
        f"{console}/review/exposure/time", headers=headers, data='{"seconds": 90}'
    )
    assert answer.status == 204
    minutes = round(sum(_media_seconds(database)) / 60, 1)

    add_user(database, "boss", [Role.ADMIN])
    admin = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        boss = admin.new_page()
        _sign_in(boss, console, "boss", PASSWORD, "/home")
        boss.goto(f"{console}/review/exposure")
        today = datetime.now(UTC).date().isoformat()
        row = boss.locator("#exposure-days tbody tr").filter(has_text=DEMO_REVIEWER)
        expect(row).to_have_count(1)
        expect(row.locator("td")).to_have_text([today, DEMO_REVIEWER, "1", f"{minutes:.1f}"])
        expect(boss.locator("img")).to_have_count(0)  # counts only, never content
    finally:
        admin.close()
