"""The first hour in a real browser: the first administrator signs in with the one-time
password, is asked for a new one, and lands on a page of what they can do; the API
documentation renders with nothing loaded from beyond the machine."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.api.service import PASSWORD, add_user
from vigil.store import Database
from vigil.store.accounts import bootstrap_admin
from vigil.store.models import Role

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a quiet meadow at dawn"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _bootstrap(database: Database) -> str:
    with database.transaction(write=True) as session:
        password = bootstrap_admin(session)
    assert password is not None
    return password


def _sign_in(page: Page, console: str, username: str, password: str) -> None:
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _change(page: Page, current: str, new: str, repeat: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=False).first.fill(new)
    page.get_by_label("New password again").fill(repeat)
    page.get_by_role("button", name="Change password").click()


def test_the_first_administrator_chooses_a_password(
    page: Page, console: str, database: Database
) -> None:
    one_time = _bootstrap(database)
    _sign_in(page, console, "admin", one_time)
    page.wait_for_url(f"{console}/account/password")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()

    _change(page, "not the password", NEW_PASSWORD, NEW_PASSWORD)  # a refusal is shown
    expect(page.get_by_role("alert")).to_have_text("The current password is wrong.")
    _change(page, one_time, NEW_PASSWORD, "something else entirely")
    expect(page.get_by_role("alert")).to_have_text("The two new passwords are not the same.")

    _change(page, one_time, NEW_PASSWORD, NEW_PASSWORD)
    page.wait_for_url(f"{console}/home")
    expect(page.get_by_role("heading", name="What you can do")).to_be_visible()
    page.get_by_role("link", name="Reviewer exposure").click()
    page.wait_for_url(f"{console}/review/exposure")
    expect(page.locator("body")).not_to_contain_text("permission")


def test_a_page_the_role_may_not_open_says_so(page: Page, console: str, database: Database) -> None:
    add_user(database, "rita", [Role.REVIEWER])
    _sign_in(page, console, "rita", PASSWORD)
    page.wait_for_url(f"{console}/review")
    answer = page.goto(f"{console}/review/exposure")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="Not for your account")).to_be_visible()
    page.get_by_role("link", name="Your start page").click()
    page.wait_for_url(f"{console}/review")


def test_the_api_documentation_renders_offline(
    page: Page, console: str, database: Database
) -> None:
    add_user(database, "otto", [Role.AUDITOR])
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:  # as on a machine that reaches no CDN
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    _sign_in(page, console, "otto", PASSWORD)
    page.wait_for_url(f"{console}/home")
    page.get_by_role("link", name="API documentation").click()
    page.wait_for_url(f"{console}/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/screen").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    assert elsewhere == []
