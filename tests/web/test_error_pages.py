"""What a person's browser shows when a page is refused (403, 404, 405, 422): a page with
a plain sentence and a way onward, never the API's JSON; scripts still get JSON. Also the
navigation's mark of the current screen, and the warning when HTMX was not installed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import Role
from vigil.web import console as console_module
from vigil.web.pages import queue as queue_page

pytestmark = pytest.mark.browser


@pytest.fixture
def people(database: Database) -> None:
    add_user(database, "rev", [Role.REVIEWER])


def _sign_in(page: Page, console: str, username: str, then: str) -> None:
    page.goto(f"{console}/login?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{then}")


def _shows_a_refusal_page(page: Page, title: str, sentence: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("alert")).to_contain_text(sentence)
    expect(page.get_by_role("link", name="Your start page")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # still in the console
    assert '"error"' not in page.content()  # not the API's JSON


def test_refused_pages_are_pages(people: None, page: Page, console: str) -> None:
    _sign_in(page, console, "rev", "/review")

    answer = page.goto(f"{console}/no/such/screen")
    assert answer is not None and answer.status == 404
    _shows_a_refusal_page(page, "Not found", "There is no page at this address.")

    answer = page.goto(f"{console}/admin/exchanges")  # administrators only
    assert answer is not None and answer.status == 403
    _shows_a_refusal_page(page, "Not for your account", "")
    expect(page.get_by_text("ask an administrator for the role")).to_be_visible()

    answer = page.goto(f"{console}/review?priority=9&account=")  # a value no page takes
    assert answer is not None and answer.status == 422
    _shows_a_refusal_page(page, "Not valid", "cannot take the value given for priority")

    answer = page.goto(f"{console}/review/requests/1")  # an address only for a form's POST
    assert answer is not None and answer.status == 405
    _shows_a_refusal_page(page, "Not possible here", "does not take that kind of request")


def test_a_server_failure_is_a_page_saying_nothing_was_done(
    people: None, monkeypatch: pytest.MonkeyPatch, page: Page, console: str
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the queue")

    _sign_in(page, console, "rev", "/review")
    monkeypatch.setattr(queue_page, "queue", broken)  # the served app runs in this process
    answer = page.goto(f"{console}/review")
    assert answer is not None and answer.status == 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Not done: the server failed")
    expect(page.get_by_role("alert")).to_contain_text("what you asked was not done")
    assert "a bug in the queue" not in page.content()  # no internals shown
    assert '"error"' not in page.content()


def test_a_refusal_page_does_not_echo_what_was_sent(people: None, page: Page, console: str) -> None:
    _sign_in(page, console, "rev", "/review")
    page.goto(f"{console}/review?priority=%3Cscript%3Ealert(1)%3C/script%3E")
    expect(page.get_by_role("alert")).to_contain_text("priority")
    assert "<script>alert(1)" not in page.content()
    assert "alert(1)" not in page.get_by_role("alert").inner_text()


def test_scripts_still_get_json(console_settings: Settings, database: Database) -> None:
    add_user(database, "rev", [Role.REVIEWER])
    for client in running(console_settings):
        console_sign_in(client, "rev")
        invalid = client.get("/review?priority=9", headers={"Accept": "application/json"})
        assert invalid.status_code == 422
        assert invalid.json()["error"]["code"] == "invalid_request"
        # HTMX asks with Accept: */*: notices.js turns the JSON's message into a line.
        assert client.get("/review?priority=9", headers={"HX-Request": "true"}).json()
        assert client.get("/v1/nothing-here", headers={"Accept": "text/html"}).json()


def test_the_navigation_marks_the_current_screen(people: None, page: Page, console: str) -> None:
    _sign_in(page, console, "rev", "/review/requests")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    # /review/requests starts with /review too: the longer link is the current screen.
    expect(nav.get_by_role("link", name="Entries to disable")).to_have_attribute(
        "aria-current", "page"
    )
    page.goto(f"{console}/review?show=mine")
    expect(nav.locator('[aria-current="page"]')).to_have_text("Queue")
    page.goto(f"{console}/home")
    expect(nav.locator('[aria-current="page"]')).to_have_text("Start")
    page.goto(f"{console}/account/password")  # not in the navigation: nothing marked
    expect(nav.locator("[aria-current]")).to_have_count(0)
    # Marked by more than colour: a person who cannot tell colours apart still sees it.
    current = nav.locator('[aria-current="page"]')
    page.goto(f"{console}/review")
    assert current.evaluate("e => getComputedStyle(e).borderBottomStyle") == "solid"


def test_the_focus_ring_is_visible_against_the_page(people: None, page: Page, console: str) -> None:
    """At least 3:1 against the light page and the dark bar (WCAG 1.4.11)."""
    _sign_in(page, console, "rev", "/review")
    filter_button = page.locator("main button").first
    filter_button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focused by keyboard: :focus-visible applies
    ring = _outline_color(page, "main button")
    assert _contrast(ring, (245, 246, 247)) >= 3, ring
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link").first
    nav_link.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert _contrast(_outline_color(page, ".bar nav a"), (0x24, 0x30, 0x3B)) >= 3


def _outline_color(page: Page, selector: str) -> tuple[int, int, int]:
    value = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [s.outlineStyle, s.outlineColor]; }"
    )
    assert value[0] == "solid", (selector, value)
    red, green, blue = (int(part) for part in value[1][4:-1].split(",")[:3])
    return red, green, blue


def _contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    def luminance(rgb: tuple[int, int, int]) -> float:
        linear = [
            c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
            for c in rgb
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture
def without_htmx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """As after `pip install`: the vendor file was never fetched (the real one is left)."""
    monkeypatch.setattr(console_module, "HTMX_FILE", tmp_path / "vendor" / "htmx.min.js")
    yield


def test_a_console_without_htmx_warns_in_the_log_and_on_every_page(
    without_htmx: None,
    console_settings: Settings,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_user(database, "rev", [Role.REVIEWER])
    with caplog.at_level(logging.WARNING, logger="vigil.web.console"):
        for client in running(console_settings):
            assert "HTMX script is missing" in caplog.text
            assert "web_assets.sh" in caplog.text
            sign_in_page = client.get("/login")
            assert "This console is incomplete" in sign_in_page.text
            console_sign_in(client, "rev")
            assert "This console is incomplete" in client.get("/review").text


def test_a_console_with_htmx_shows_no_warning(
    console_settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vigil.web.console"):
        for client in running(console_settings):
            assert "HTMX" not in caplog.text
            assert "incomplete" not in client.get("/login").text


def test_the_banner_is_seen_in_the_browser(without_htmx: None, page: Page, console: str) -> None:
    page.goto(f"{console}/login")
    expect(page.get_by_role("alert")).to_contain_text("This console is incomplete")
    expect(page.get_by_role("alert")).to_be_visible()
