"""The administrator's API keys page (issue 18, item 3): the keys and their state; a new key's
token shown once and working at once; revoking stops it; both audited under the
administrator; a reviewer is refused with a page; hostile input changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_key, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.accounts import list_api_keys
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.models import Role


@pytest.fixture
def people(database: Database) -> None:
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])


def _sign_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login?next=/admin/keys")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/admin/keys")


def _row(page: Page, name: str) -> Locator:
    return page.locator("tr.key-row", has=page.get_by_role("rowheader", name=name, exact=True))


def _key_actions(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
        return [
            (record.action.value, record.actor)
            for record in records
            if record.action in {AuditAction.KEY_CREATED, AuditAction.KEY_REVOKED}
        ]


@pytest.mark.browser
def test_an_administrator_creates_a_key_that_works_then_revokes_it(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "root")
    expect(page.locator("p.empty")).to_have_text("No API key yet.")
    form = page.locator("form.new-key")
    form.get_by_label("Name").fill("upload <service>")
    form.get_by_role("group", name="Scopes of the new key").get_by_label("records:read").check()
    form.get_by_label("Expires after (days)").fill("30")
    form.get_by_role("button", name="Create key").click()

    expect(page.locator("#notices")).to_contain_text("API key upload <service> (")
    token = page.get_by_label("API key token").inner_text()
    row = _row(page, "upload <service>")
    expect(row.locator("td.scopes")).to_have_text("records:read")
    expect(row.locator("td.state")).to_have_text("active")
    with httpx.Client(base_url=console) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/records", headers=headers).status_code == 200

        row.get_by_role("button", name="Revoke").click()
        expect(page.locator("#notices")).to_contain_text("is revoked: it no longer works.")
        expect(row.locator("td.state")).to_have_text("revoked")
        expect(page.get_by_label("API key token")).to_have_count(0)  # shown once
        assert client.get("/v1/records", headers=headers).status_code == 401
    assert _key_actions(database) == [("key_created", "user:root"), ("key_revoked", "user:root")]


@pytest.mark.browser
def test_a_key_without_scopes_is_refused_where_the_administrator_acted(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "root")
    form = page.locator("form.new-key")
    form.get_by_label("Name").fill("nothing allowed")
    form.get_by_role("button", name="Create key").click()
    expect(page.locator("#alerts")).to_contain_text("Not done:")
    expect(page.locator("tr.key-row")).to_have_count(0)
    assert _key_actions(database) == []


@pytest.mark.browser
def test_a_reviewer_is_refused_the_page(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "reviewer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)


@pytest.fixture
def client(console_settings: Settings, database: Database, people: None) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_hostile_or_mistaken_requests_change_nothing(
    client: TestClient, database: Database
) -> None:
    add_key(database, "kept", ["screen"])
    csrf = console_sign_in(client, "root")
    cases = [
        ("/admin/keys", {"name": "x" * 201, "scopes": ["screen"]}, 422),
        ("/admin/keys", {"name": "   ", "scopes": ["screen"]}, 422),
        ("/admin/keys", {"name": "k", "scopes": ["users:manage"]}, 422),  # never for a machine
        ("/admin/keys", {"name": "k", "scopes": ["screen"], "expires_days": "0"}, 422),
        ("/admin/keys", {"name": "k", "scopes": ["screen"], "expires_days": "many"}, 422),
        ("/admin/keys/abcdefabcdef/revoke", {}, 404),
        (f"/admin/keys/{'a' * 300}/revoke", {}, 422),
        ("/admin/keys/..%2F..%2Fetc/revoke", {}, 404),
    ]
    for path, form, status in cases:
        answer = client.post(path, headers=csrf, data=form)
        assert answer.status_code == status, (path, form, answer.text)
    with database.transaction() as session:
        keys = list_api_keys(session)
    assert [(key.name, key.revoked_at) for key in keys] == [("kept", None)]
    prefix = keys[0].prefix
    assert client.post(f"/admin/keys/{prefix}/revoke").status_code == 403  # no CSRF token
    reviewer = {**console_sign_in(client, "reviewer"), "Accept": "text/html"}
    refused = client.post(f"/admin/keys/{prefix}/revoke", headers=reviewer)
    assert refused.status_code == 403 and "Not for your account" in refused.text
    assert _key_actions(database) == [("key_created", "test")]
