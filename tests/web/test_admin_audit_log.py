"""The audit log in the console (issue 18, item 3): an auditor starts on a page with the latest
records and a way to the whole log, which filters by actor, action, subject and dates and
pages back through older records; a reviewer is refused with a page; hostile filters are
refused or matched literally."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models import Role

HTML = {"Accept": "text/html"}


@pytest.fixture
def history(database: Database) -> None:
    """An auditor, a reviewer, and 60 setting changes by one administrator in 2025 beside one
    export on 1 March 2026."""
    add_user(database, "audrey", [Role.AUDITOR])
    add_user(database, "reviewer", [Role.REVIEWER])
    with database.transaction(write=True) as session:
        log = AuditLog(session)
        for number in range(60):
            log.append(
                AuditAction.SETTING_CHANGED,
                actor="user:root",
                subject_type="exchange",
                subject_id=f"feed-{number}",
                details={"change": "disabled"},
                at=datetime(2025, 6, 1, 12, number, tzinfo=UTC),
            )
        log.append(
            AuditAction.EXPORT,
            actor="user:carol",
            subject_type="list",
            subject_id="known <b>",
            details={"rows": 3},
            at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        )


def _sign_in(page: Page, console: str, username: str, where: str) -> None:
    page.goto(f"{console}/login?next={where}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{where}")


@pytest.mark.browser
def test_an_auditor_starts_with_the_latest_records_and_filters_the_log(
    page: Page, console: str, history: None
) -> None:
    _sign_in(page, console, "audrey", "/home")
    recent = page.locator("section.recent-audit")
    expect(recent.get_by_role("heading")).to_have_text("Latest in the audit log")
    expect(recent.locator("tr.audit-row").first).to_contain_text("user:audrey")  # signing in
    expect(recent.locator("tr.audit-row")).to_have_count(10)
    recent.get_by_role("link", name="The whole audit log").click()
    page.wait_for_url(f"{console}/audit")
    expect(page.locator("tr.audit-row")).to_have_count(50)

    page.get_by_label("Actor").fill("carol")
    page.get_by_role("button", name="Show records").click()
    rows = page.locator("tr.audit-row")
    expect(rows).to_have_count(1)
    expect(rows.locator("td.action")).to_have_text("export")
    expect(rows.locator("td.subject")).to_have_text("list:known <b>")  # text, not markup

    page.get_by_label("Actor").fill("")
    page.get_by_label("Action").select_option("setting_changed")
    page.get_by_label("Subject").fill("feed-1")
    page.get_by_label("From").fill("2025-06-01")
    page.get_by_label("To (inclusive)").fill("2025-06-01")
    page.get_by_role("button", name="Show records").click()
    expect(rows).to_have_count(11)  # feed-1 and feed-10 ... feed-19
    expect(page.get_by_label("Action")).to_have_value("setting_changed")  # filters kept

    page.get_by_label("Subject").fill("")
    page.get_by_role("button", name="Show records").click()
    expect(rows).to_have_count(50)
    expect(rows.first.locator("td.subject")).to_have_text("exchange:feed-59")
    page.get_by_role("link", name="Older records").click()
    expect(rows).to_have_count(10)  # the 10 oldest, with the same filters
    expect(rows.last.locator("td.subject")).to_have_text("exchange:feed-0")
    expect(page.get_by_role("link", name="Older records")).to_have_count(0)
    page.get_by_role("link", name="Newest records").click()
    expect(rows.first.locator("td.subject")).to_have_text("exchange:feed-59")

    page.get_by_label("To (inclusive)").fill("2024-12-31")
    page.get_by_role("button", name="Show records").click()
    expect(page.locator("p.empty")).to_have_text("No record matches these filters.")


@pytest.mark.browser
def test_a_reviewer_is_refused_the_log(page: Page, console: str, history: None) -> None:
    _sign_in(page, console, "reviewer", "/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("tr.audit-row")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)


@pytest.fixture
def client(console_settings: Settings, database: Database, history: None) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_hostile_filters_are_refused_or_taken_literally(client: TestClient) -> None:
    console_sign_in(client, "audrey")
    for query in [
        "action=drop_table",
        "since=yesterday",
        "until=2025-13-01",
        "before=0",
        f"before={2**64}",
        f"actor={'x' * 201}",
    ]:
        answer = client.get(f"/audit?{query}", headers=HTML)
        assert answer.status_code == 422, query
        assert answer.headers["content-type"].startswith("text/html"), query
    wildcard = client.get("/audit?actor=%25&subject=_", headers=HTML)  # no LIKE wildcards
    assert wildcard.status_code == 200 and 'class="audit-row"' not in wildcard.text
    last_day = client.get("/audit?since=0001-01-01&until=9999-12-31&actor=carol", headers=HTML)
    assert last_day.status_code == 200 and last_day.text.count('class="audit-row"') == 1
    console_sign_in(client, "reviewer")
    assert client.get("/audit", headers=HTML).status_code == 403
