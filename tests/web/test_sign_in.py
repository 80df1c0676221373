"""Signing in to the console in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.api.service import PASSWORD, add_user
from vigil.store import Database
from vigil.store.models import Role

pytestmark = pytest.mark.browser


def test_a_page_sends_strangers_to_sign_in(page: Page, console: str) -> None:
    page.goto(f"{console}/review")
    assert page.url.startswith(f"{console}/login?next=/review")
    assert page.get_by_label("Username").is_visible()


def test_wrong_password_then_right(page: Page, console: str, database: Database) -> None:
    add_user(database, "rita", [Role.REVIEWER])
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/review")  # a reviewer's first screen: the queue
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["vigil_session"]["httpOnly"] is True
    assert cookies["vigil_session"]["sameSite"] == "Strict"
    assert cookies["vigil_csrf"]["httpOnly"] is False


def test_no_open_redirect(page: Page, console: str, database: Database) -> None:
    add_user(database, "otto", [Role.AUDITOR])
    page.goto(f"{console}/login?next=//evil.example/")
    page.get_by_label("Username").fill("otto")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.url.startswith(console)
