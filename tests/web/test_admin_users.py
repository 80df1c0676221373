"""The administrator's users page (issue 18, item 3): accounts with roles and state; create one
(its made-up password shown once), change roles, disable, enable, reset a password, each
audited under the administrator and confirmed on the page; a refusal is said where the
person acted; a reviewer is refused with a page; hostile input changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.accounts import find_user
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.models import Role


@pytest.fixture
def people(database: Database) -> None:
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])
    add_user(database, "curator", [Role.LIST_CURATOR])


def _sign_in(page: Page, console: str, username: str, where: str = "/admin/users") -> None:
    page.goto(f"{console}/login?next={where}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{where}")


def _row(page: Page, username: str) -> Locator:
    return page.locator(f'tr.user-row[data-user="{username}"]')


def _changes(database: Database, username: str) -> list[tuple[str, str, object]]:
    with database.transaction() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
        return [
            (record.action.value, record.actor, record.details.get("change"))
            for record in records
            if record.subject_type == "user" and record.details.get("username") == username
        ]


@pytest.mark.browser
def test_an_administrator_creates_a_user_and_sees_the_password_once(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "root")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(_row(page, "reviewer").locator("td.roles")).to_have_text("reviewer")
    form = page.locator("form.new-user")
    form.get_by_label("Username").fill("Night.Shift")
    form.get_by_label("Display name").fill("Night shift <b>lead</b>")
    form.get_by_role("group", name="Roles of the new user").get_by_label("auditor").check()
    form.get_by_role("button", name="Create user").click()

    expect(page.locator("#notices")).to_contain_text("User night.shift created")
    shown = page.get_by_label("One-time password", exact=True)
    expect(shown).to_be_visible()
    password = shown.inner_text()
    row = _row(page, "night.shift")
    expect(row).to_contain_text("Night shift <b>lead</b>")  # text, not markup
    expect(row.locator("td.roles")).to_have_text("auditor")
    expect(row.locator("td.state")).to_contain_text("must change password")
    assert _changes(database, "night.shift") == [("user_created", "user:root", None)]

    page.goto(f"{console}/admin/users")  # shown once: not on the next visit
    expect(page.get_by_label("One-time password", exact=True)).to_have_count(0)
    assert password not in page.content()


@pytest.mark.browser
def test_an_administrator_changes_roles_disables_enables_and_resets(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "root")
    row = _row(page, "curator")
    roles = row.get_by_role("group", name="Roles of curator")
    roles.get_by_label("auditor").check()
    row.get_by_role("button", name="Save roles").click()
    expect(page.locator("#notices")).to_have_text("Roles of curator saved.")
    expect(row.locator("td.roles")).to_have_text("auditor, list_curator")

    row.get_by_role("button", name="Disable").click()
    expect(page.locator("#notices")).to_contain_text("User curator is disabled")
    expect(row.locator("td.state")).to_have_text("disabled")
    expect(row.get_by_role("button", name="Reset password")).to_have_count(0)

    row.get_by_role("button", name="Enable").click()
    expect(page.locator("#notices")).to_have_text("User curator can sign in again.")
    expect(row.locator("td.state")).to_have_text("active")

    row.get_by_role("button", name="Reset password").click()
    expect(page.locator("#notices")).to_contain_text("User curator has a new one-time password")
    expect(page.get_by_label("One-time password", exact=True)).to_be_visible()
    expect(row.locator("td.state")).to_contain_text("must change password")
    with database.transaction() as session:
        user = find_user(session, "curator")
        assert user is not None and user.disabled_at is None and user.must_change_password
        assert user.role_set == {Role.AUDITOR, Role.LIST_CURATOR}
    assert _changes(database, "curator")[1:] == [  # [0]: created by the fixture
        ("user_changed", "user:root", "roles"),
        ("user_changed", "user:root", "disabled"),
        ("user_changed", "user:root", "enabled"),
        ("user_changed", "user:root", "password reset"),
    ]


@pytest.mark.browser
def test_a_refusal_is_said_where_the_administrator_acted(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "root")
    own = _row(page, "root")
    expect(own).to_contain_text("(you)")
    expect(own.get_by_role("button", name="Disable")).to_have_count(0)  # never oneself
    form = page.locator("form.new-user")
    form.get_by_label("Username").fill("reviewer")
    form.get_by_role("group", name="Roles of the new user").get_by_label("auditor").check()
    form.get_by_role("button", name="Create user").click()
    expect(page.locator("#alerts")).to_contain_text(
        "Not done: a user named 'reviewer' exists already"
    )
    row = _row(page, "reviewer")
    row.get_by_role("group", name="Roles of reviewer").get_by_label("reviewer").uncheck()
    row.get_by_role("button", name="Save roles").click()
    expect(page.locator("#alerts")).to_contain_text("a user needs at least one role")
    expect(row.locator("td.roles")).to_have_text("reviewer")


@pytest.mark.browser
def test_a_reviewer_is_refused_the_page(
    page: Page, console: str, database: Database, people: None
) -> None:
    _sign_in(page, console, "reviewer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("tr.user-row")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)


@pytest.fixture
def client(console_settings: Settings, database: Database, people: None) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_hostile_or_mistaken_requests_change_nothing(
    client: TestClient, database: Database
) -> None:
    csrf = console_sign_in(client, "root")
    cases = [
        ("/admin/users", {"username": "x" * 101, "roles": ["auditor"]}, 422),
        ("/admin/users", {"username": "bad name/..", "roles": ["auditor"]}, 422),
        ("/admin/users", {"username": "someone", "roles": ["emperor"]}, 422),
        ("/admin/users", {"username": "someone", "roles": ["auditor"], "password": "short"}, 422),
        ("/admin/users/nobody/disable", {}, 404),
        (f"/admin/users/{'x' * 500}/disable", {}, 422),
        ("/admin/users/root/disable", {}, 409),  # oneself: through another administrator
        ("/admin/users/root/roles", {"roles": ["auditor"]}, 409),
        ("/admin/users/reviewer/roles", {"roles": ["x" * 5000]}, 422),
        ("/admin/users/grants/999/approve", {}, 404),
        ("/admin/users/grants/999/refuse", {}, 404),
        ("/admin/users/grants/0/approve", {}, 422),
        (f"/admin/users/grants/{2**40}/approve", {}, 422),
        ("/admin/users/grants/1/delete", {}, 422),
    ]
    for path, form, status in cases:
        answer = client.post(path, headers=csrf, data=form)
        assert answer.status_code == status, (path, answer.text)
    assert client.post("/admin/users/reviewer/disable").status_code == 403  # no CSRF token
    with database.transaction() as session:
        assert find_user(session, "someone") is None
        root, reviewer = find_user(session, "root"), find_user(session, "reviewer")
        assert root is not None and root.disabled_at is None and root.role_set == {Role.ADMIN}
        assert reviewer is not None and reviewer.disabled_at is None
        actions = {record.action for record in session.scalars(select(AuditRecord))}
    assert AuditAction.USER_CHANGED not in actions

    reviewer_csrf = console_sign_in(client, "reviewer")
    as_page = {**reviewer_csrf, "Accept": "text/html"}
    refused = client.post("/admin/users/curator/disable", headers=as_page)
    assert refused.status_code == 403 and "Not for your account" in refused.text


@pytest.mark.browser
def test_media_access_for_an_administrator_waits_for_a_second_one(
    page: Page, console: str, database: Database, people: None
) -> None:
    add_user(database, "second", [Role.ADMIN])
    _sign_in(page, console, "root")
    row = _row(page, "curator")
    roles = row.get_by_role("group", name="Roles of curator")
    roles.get_by_label("admin").check()
    roles.get_by_label("reviewer").check()
    row.get_by_role("button", name="Save roles").click()
    expect(page.locator("#notices")).to_contain_text("wait for a second administrator")
    expect(row.locator("td.roles")).to_contain_text("waiting for approval: admin")
    grant = page.locator("li.grant", has_text="User curator")
    grant.get_by_role("button", name="Approve").click()  # not by the one who asked
    expect(page.locator("#alerts")).to_contain_text("Not done:")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, console, "second")
    page.locator("li.grant", has_text="User curator").get_by_role("button", name="Approve").click()
    expect(page.locator("#notices")).to_have_text(
        "Approved: curator has the media access asked for."
    )
    expect(_row(page, "curator").locator("td.roles")).to_have_text("admin, list_curator, reviewer")
    expect(page.locator("li.grant")).to_have_count(0)
    with database.transaction() as session:
        user = find_user(session, "curator")
        assert user is not None
        assert user.role_set == {Role.ADMIN, Role.LIST_CURATOR, Role.REVIEWER}
