"""The hash lists in the console (issue 18, item 3): each list's state and counts; a list's
entries a page at a time; a list curator disables an entry with a reason and enables it
again, audited and in the entry's history; an administrator reads but cannot switch; an
agency is refused with a page; hostile ids and names change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.manual_entries import NewSignal, add_entries
from vigil.store.models import EntryStatus, ListEntry, Role, SignalType

HTML = {"Accept": "text/html"}


@pytest.fixture
def entries(database: Database) -> list[int]:
    """A list "known" of 55 MD5 entries, an empty list "other", three people."""
    ids: list[int] = []
    with database.transaction(write=True) as session:
        known = create_list(session, "known", actor="test", description="from the hotline")
        create_list(session, "other", actor="test")
        for first in range(0, 55, 11):
            signals = [
                NewSignal(SignalType.MD5, f"{number:032x}") for number in range(first, first + 11)
            ]
            ids += add_entries(session, known, signals, actor="test", reason="seed").added
    add_user(database, "curator", [Role.LIST_CURATOR])
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "agent", [Role.AGENCY])
    return ids


def _sign_in(page: Page, console: str, username: str, where: str) -> None:
    page.goto(f"{console}/login?next={where}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{where}")


def _entry(page: Page, entry_id: int) -> Locator:
    return page.locator(f'tr.entry-row[data-entry="{entry_id}"]')


@pytest.mark.browser
def test_a_curator_disables_an_entry_with_a_reason_and_enables_it(
    page: Page, console: str, database: Database, entries: list[int]
) -> None:
    _sign_in(page, console, "curator", "/admin/lists")
    row = page.locator('tr.list-row[data-list="known"]')
    expect(row.locator("td.state")).to_have_text("enabled")
    expect(row.locator("td.count-active")).to_have_text("55")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="suspect entries", exact=True)).to_have_attribute(
        "href", "/lists/suspects"
    )
    row.get_by_role("link", name="Entries of known").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entries of known")
    expect(page.locator("tr.entry-row")).to_have_count(50)
    page.get_by_role("link", name="Next entries").click()
    expect(page.locator("tr.entry-row")).to_have_count(5)
    page.get_by_role("link", name="First entries").click()

    first = entries[0]
    target = _entry(page, first)
    target.get_by_role("button", name="Disable").click()  # no reason: the browser asks
    expect(target.locator("td.status")).to_have_text("active")
    target.get_by_label(f"Reason for disabling entry {first}").fill("false positives <i>")
    target.get_by_role("button", name="Disable").click()
    expect(page.locator("#notices")).to_have_text(f"Entry {first} of known is now disabled.")
    expect(target.locator("td.status")).to_contain_text("disabled: false positives <i>")

    page.get_by_label("Status").select_option("disabled")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator("tr.entry-row")).to_have_count(1)
    _entry(page, first).get_by_role("button", name=f"Enable entry {first}").click()
    expect(page.locator("#notices")).to_have_text(f"Entry {first} of known is now active.")
    expect(page.locator("p.empty")).to_have_text("No entry with status disabled here.")
    with database.transaction() as session:
        entry = session.get(ListEntry, first)
        assert entry is not None and entry.status is EntryStatus.ACTIVE
        changes = [
            (record.actor, record.details.get("new_status"))
            for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if record.subject_type == "list_entry"
        ]
    assert changes == [("user:curator", "disabled"), ("user:curator", "active")]


@pytest.mark.browser
def test_an_administrator_reads_without_switching_and_an_agency_is_refused(
    page: Page, console: str, entries: list[int]
) -> None:
    _sign_in(page, console, "root", "/admin/lists/entries?list=known")
    expect(page.locator("tr.entry-row")).to_have_count(50)
    expect(page.get_by_role("button", name="Disable")).to_have_count(0)
    expect(page.get_by_text("List curators can disable and enable entries.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, console, "agent", "/admin/lists")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("link", name="Hash lists")).to_have_count(0)


@pytest.fixture
def client(
    console_settings: Settings, database: Database, entries: list[int]
) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_hostile_or_mistaken_requests_change_nothing(
    client: TestClient, database: Database, entries: list[int]
) -> None:
    console_sign_in(client, "curator")
    for query, status in [
        ("list=nowhere", 404),
        (f"list={'x' * 201}", 422),
        ("list=known&status=gone", 422),
        ("list=known&after=-1", 422),
        (f"list=known&after={2**64}", 422),
        ("", 422),
    ]:
        answer = client.get(f"/admin/lists/entries?{query}", headers=HTML)
        assert answer.status_code == status, query
        assert answer.headers["content-type"].startswith("text/html"), query
    csrf = {**console_sign_in(client, "curator"), **HTML}
    first = entries[0]
    for path, form, status in [
        (f"/admin/lists/entries/{first}/status", {"list": "other", "change": "disable"}, 404),
        ("/admin/lists/entries/999999/status", {"list": "known", "change": "enable"}, 404),
        ("/admin/lists/entries/0/status", {"list": "known", "change": "enable"}, 422),
        (f"/admin/lists/entries/{first}/status", {"list": "known", "change": "delete"}, 422),
        (f"/admin/lists/entries/{first}/status", {"list": "known", "change": "disable"}, 422),
        (
            f"/admin/lists/entries/{first}/status",
            {"list": "known", "change": "disable", "reason": "x" * 2001},
            422,
        ),
    ]:
        answer = client.post(path, headers=csrf, data=form)
        assert answer.status_code == status, (path, form, answer.text)
    form = {"list": "known", "change": "disable", "reason": "forged"}
    assert client.post(f"/admin/lists/entries/{first}/status", data=form).status_code == 403
    admin = {**console_sign_in(client, "root"), **HTML}
    refused = client.post(f"/admin/lists/entries/{first}/status", headers=admin, data=form)
    assert refused.status_code == 403 and "Not for your account" in refused.text
    with database.transaction() as session:
        statuses = {entry.status for entry in session.scalars(select(ListEntry))}
    assert statuses == {EntryStatus.ACTIVE}
