"""The reporting settings page (issue 18, item 3): an administrator sees who files and where
reports go (test or production, credentials set or missing) without any secret, and that the
page is read-only; an installation with nothing configured says reports would be refused
and go to files for a manual upload; a reviewer is refused with a page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.api.service import PASSWORD, add_user, console_sign_in, running, service_settings
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import Role

SECRET = "cybertip-Passw0rd-never-shown"
HTML = {"Accept": "text/html"}


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(
        database_url,
        tmp_path / "data",
        reporting={
            "reporter_company": "Example <Platform>",
            "reporter_contact_name": "Trust and Safety",
            "reporter_contact_email": "safety@example.org",
            "destinations": [
                {
                    "name": "ncmec-test",
                    "kind": "cybertipline",
                    "environment": "test",
                    "username": "esp-user-42",
                    "password": SECRET,
                },
                {"name": "ncmec-live", "kind": "cybertipline", "environment": "production"},
            ],
        },
    )


@pytest.fixture
def people(database: Database) -> None:
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])


def _sign_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login?next=/admin/reporting")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/admin/reporting")


@pytest.mark.browser
def test_an_administrator_sees_where_reports_go_without_secrets(
    page: Page, console: str, people: None
) -> None:
    _sign_in(page, console, "root")
    expect(page.locator("p.read-only")).to_contain_text("cannot be changed here")
    expect(page.locator("dd.company")).to_have_text("Example <Platform>")
    expect(page.locator("dd.email")).to_have_text("safety@example.org")
    expect(page.get_by_role("alert")).to_have_count(0)
    test = page.locator('tr.destination-row[data-destination="ncmec-test"]')
    expect(test.locator("td.environment")).to_have_text("test")
    expect(test.locator("td.where")).to_have_text("https://exttest.cybertip.org/ispws")
    expect(test.locator("td.credentials")).to_have_text("set")
    live = page.locator('tr.destination-row[data-destination="ncmec-live"]')
    expect(live.locator("td.environment")).to_have_text("production")
    expect(live.locator("td.credentials")).to_have_text("missing")
    body = page.content()
    assert SECRET not in body and "esp-user-42" not in body
    expect(page.get_by_role("button")).to_have_count(1)  # signing out: nothing to change


@pytest.mark.browser
def test_a_reviewer_is_refused_the_page(page: Page, console: str, people: None) -> None:
    _sign_in(page, console, "reviewer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("link", name="Reporting settings")).to_have_count(0)


def test_nothing_configured_says_reports_would_be_refused(
    database_url: str, tmp_path: Path, database: Database, people: None
) -> None:
    settings = service_settings(database_url, tmp_path / "bare")
    client: TestClient
    for client in running(settings):
        csrf = console_sign_in(client, "root")
        answer = client.get("/admin/reporting", headers=HTML)
        assert answer.status_code == 200
        assert "Not configured: reports are refused until it is." in answer.text
        assert "reporter_company" in answer.text
        assert 'class="manual-only"' in answer.text and "manual-xml" in answer.text
        assert client.post("/admin/reporting", headers={**csrf, **HTML}).status_code == 405


@pytest.fixture
def client(console_settings: Settings, database: Database, people: None) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_an_unknown_address_under_the_page_is_not_found(client: TestClient) -> None:
    console_sign_in(client, "root")
    assert client.get(f"/admin/reporting/{'x' * 5000}", headers=HTML).status_code == 404
