"""The administrator's exchanges page (issue 16): each exchange's state, last fetch, counts,
last error and feedback queue, and a switch whose result the person sees; a reviewer is
refused; an empty installation says how to add one. Never a credential on the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.evidence.keys import load_master_key
from vigil.store.exchanges.catalogue import create_exchange, get_exchange
from vigil.store.exchanges.feedback_queue import enqueue_feedback
from vigil.store.exchanges.fetch_state import begin_fetch, fail_fetch, store_page
from vigil.store.lists.catalogue import create_list
from vigil.store.models import FeedbackVerdict, Role, SignalType

EXCHANGE_PASSWORD = "s3cret-Exchange-Passw0rd-9f2c"
ERROR = "<b>503</b> from the service after 3 tries"


@pytest.fixture
def exchange(database: Database, console_settings: Settings) -> str:
    """An NCMEC exchange whose last fetch stored a page then failed, with one verdict queued."""
    started = datetime.now(UTC) - timedelta(minutes=5)
    with database.transaction(write=True) as session:
        create_list(session, "known", actor="admin")
        created = create_exchange(
            session,
            "ncmec",
            kind="ncmec",
            base_url="https://report.cybertip.org/hashsharing/",
            environment="exploitative",
            credentials={"username": "platform-user", "password": EXCHANGE_PASSWORD},
            list_names=["known"],
            master_key=load_master_key(console_settings),
            actor="admin",
        )
        begin_fetch(session, created.id, now=started)
        store_page(session, created.id, "paging-token-xyz", fetched=12, deleted=3, errors=1)
        fail_fetch(session, created.id, kind="unavailable", message=ERROR)
        enqueue_feedback(
            session,
            "ncmec",
            external_id="entry-1",
            signal_type=SignalType.MD5,
            signal="0" * 31 + "1",
            verdict=FeedbackVerdict.NEGATIVE,
            reason="not the content described",
            actor="reviewer",
        )
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])
    return "ncmec"


def _sign_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login?next=/admin/exchanges")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/admin/exchanges")


@pytest.mark.browser
def test_an_administrator_sees_the_exchange_and_disables_it(
    page: Page, console: str, database: Database, exchange: str
) -> None:
    _sign_in(page, console, "root")
    row = page.locator("tr.exchange-row", has_text="ncmec")
    expect(row).to_contain_text("known")
    expect(row.locator("td.enabled")).to_have_text("yes")
    expect(row.locator("td.state")).to_have_text("failed")
    expect(row).to_contain_text("12 fetched, 3 deleted, 1 errors")
    expect(row).to_contain_text("1 pending, 0 failed")
    expect(row.locator("td.last-error")).to_contain_text(ERROR)  # shown as text, not markup
    expect(row.locator("td.last-error")).to_contain_text("(unavailable)")
    body = page.content()
    assert EXCHANGE_PASSWORD not in body and "paging-token-xyz" not in body

    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_have_text(
        "Exchange ncmec is now disabled: it neither fetches nor sends feedback."
    )
    expect(row.locator("td.enabled")).to_have_text("no")
    expect(row.get_by_role("button", name="Enable")).to_be_visible()
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").enabled is False
        actors = [
            record.actor
            for record in session.scalars(select(AuditRecord))
            if record.details.get("change") == "disabled"
        ]
    assert actors == ["user:root"]


@pytest.mark.browser
def test_an_administrator_turns_feedback_off_and_on_and_sees_it(
    page: Page, console: str, database: Database, exchange: str
) -> None:
    _sign_in(page, console, "root")
    row = page.locator("tr.exchange-row", has_text="ncmec")
    expect(row.locator("td.feedback-enabled")).to_have_text("on")

    row.get_by_role("button", name="Turn feedback off").click()
    expect(page.get_by_role("status")).to_contain_text("Feedback to ncmec is now off")
    expect(row.locator("td.feedback-enabled")).to_have_text("off")
    expect(row.locator("td.enabled")).to_have_text("yes")  # fetching is its own switch
    page.wait_for_load_state("networkidle")  # HTMX wires the swapped-in forms
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").feedback_enabled is False

    row.get_by_role("button", name="Turn feedback on").click()
    expect(page.get_by_role("status")).to_contain_text("Feedback to ncmec is now on")
    expect(row.locator("td.feedback-enabled")).to_have_text("on")
    expect(row.get_by_role("button", name="Turn feedback off")).to_be_visible()
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").feedback_enabled is True
        changes = [
            (record.details.get("change"), record.actor)
            for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if record.details.get("change") in {"feedback_disabled", "feedback_enabled"}
        ]
    assert changes == [("feedback_disabled", "user:root"), ("feedback_enabled", "user:root")]


@pytest.mark.browser
def test_an_administrator_turns_retro_after_fetch_on_and_off_and_sees_it(
    page: Page, console: str, database: Database, exchange: str
) -> None:
    _sign_in(page, console, "root")
    row = page.locator("tr.exchange-row", has_text="ncmec")
    expect(row.locator("td.retro-after-fetch")).to_have_text("off")  # off by default

    row.get_by_role("button", name="Turn retro on").click()
    expect(page.get_by_role("status")).to_contain_text("Retro after fetching ncmec is now on")
    expect(row.locator("td.retro-after-fetch")).to_have_text("on")
    expect(row.locator("td.feedback-enabled")).to_have_text("on")  # its own switch
    expect(row.locator("td.enabled")).to_have_text("yes")
    page.wait_for_load_state("networkidle")  # HTMX wires the swapped-in forms
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").retro_after_fetch is True

    row.get_by_role("button", name="Turn retro off").click()
    expect(page.get_by_role("status")).to_contain_text("Retro after fetching ncmec is now off")
    expect(row.locator("td.retro-after-fetch")).to_have_text("off")
    expect(row.get_by_role("button", name="Turn retro on")).to_be_visible()
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").retro_after_fetch is False
        actors = [
            record.actor
            for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if "retro" in str(record.details.get("change"))
        ]
    assert actors == ["user:root", "user:root"]


@pytest.mark.browser
def test_a_reviewer_is_refused_the_page(
    page: Page, console: str, database: Database, exchange: str
) -> None:
    page.goto(f"{console}/login?next=/admin/exchanges")
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/admin/exchanges")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("tr.exchange-row")).to_have_count(0)
    expect(page.get_by_role("link", name="Exchanges")).to_have_count(0)


@pytest.fixture
def client(console_settings: Settings, database: Database) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_a_switch_that_changes_nothing_says_so(
    client: TestClient, database: Database, exchange: str
) -> None:
    csrf = console_sign_in(client, "root")
    answer = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": "ncmec", "enabled": "on"}
    )
    assert answer.status_code == 200 and "Exchange ncmec was already enabled." in answer.text
    missing = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": "gone", "enabled": "off"}
    )
    assert missing.status_code == 404
    assert "Nothing changed: no exchange named" in missing.text and "ncmec" in missing.text
    disabled = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": "ncmec", "enabled": "off"}
    )
    assert "is now disabled" in disabled.text
    answer = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": "ncmec", "enabled": "on"}
    )
    assert "Exchange ncmec is now enabled" in answer.text
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").enabled is True


def test_a_feedback_switch_says_what_happened_or_why_nothing_did(
    client: TestClient, database: Database, exchange: str
) -> None:
    csrf = console_sign_in(client, "root")
    already = client.post(
        "/admin/exchanges/feedback", headers=csrf, data={"name": "ncmec", "feedback": "on"}
    )
    assert already.status_code == 200 and "Feedback to ncmec was already on." in already.text
    missing = client.post(
        "/admin/exchanges/feedback", headers=csrf, data={"name": "gone", "feedback": "off"}
    )
    assert missing.status_code == 404 and 'role="alert"' in missing.text
    assert "Nothing changed: no exchange named" in missing.text
    for form in ({"name": "ncmec", "feedback": "maybe"}, {"name": "ncmec"}, {"feedback": "off"}):
        refused = client.post("/admin/exchanges/feedback", headers=csrf, data=form)
        assert refused.status_code == 422, form
    forged = client.post("/admin/exchanges/feedback", data={"name": "ncmec", "feedback": "off"})
    assert forged.status_code == 403
    reviewer = console_sign_in(client, "reviewer")
    refused = client.post(
        "/admin/exchanges/feedback", headers=reviewer, data={"name": "ncmec", "feedback": "off"}
    )
    assert refused.status_code == 403
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").feedback_enabled is True
    csrf = console_sign_in(client, "root")
    off = client.post(
        "/admin/exchanges/feedback", headers=csrf, data={"name": "ncmec", "feedback": "off"}
    )
    assert off.status_code == 200 and "Feedback to ncmec is now off" in off.text
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").feedback_enabled is False


def test_a_retro_switch_says_what_happened_or_why_nothing_did(
    client: TestClient, database: Database, exchange: str
) -> None:
    csrf = console_sign_in(client, "root")
    already = client.post(
        "/admin/exchanges/retro", headers=csrf, data={"name": "ncmec", "retro": "off"}
    )
    assert already.status_code == 200
    assert "Retro after fetching ncmec was already off." in already.text
    missing = client.post(
        "/admin/exchanges/retro", headers=csrf, data={"name": "gone", "retro": "on"}
    )
    assert missing.status_code == 404 and 'role="alert"' in missing.text
    assert "Nothing changed: no exchange named" in missing.text
    for form in ({"name": "ncmec", "retro": "maybe"}, {"name": "ncmec"}, {"retro": "on"}):
        refused = client.post("/admin/exchanges/retro", headers=csrf, data=form)
        assert refused.status_code == 422, form
    forged = client.post("/admin/exchanges/retro", data={"name": "ncmec", "retro": "on"})
    assert forged.status_code == 403
    reviewer = console_sign_in(client, "reviewer")
    refused = client.post(
        "/admin/exchanges/retro", headers=reviewer, data={"name": "ncmec", "retro": "on"}
    )
    assert refused.status_code == 403
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").retro_after_fetch is False
    csrf = console_sign_in(client, "root")
    on = client.post("/admin/exchanges/retro", headers=csrf, data={"name": "ncmec", "retro": "on"})
    assert on.status_code == 200 and "Retro after fetching ncmec is now on" in on.text
    assert '<td class="retro-after-fetch">on</td>' in on.text
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").retro_after_fetch is True


@pytest.mark.parametrize(
    "form",
    [
        {"name": "ncmec", "enabled": "maybe"},
        {"name": "ncmec", "enabled": ""},
        {"name": "ncmec"},
        {"enabled": "off"},
        {"name": "n" * 201, "enabled": "off"},
    ],
)
def test_a_malformed_switch_is_refused(
    client: TestClient, database: Database, exchange: str, form: dict[str, str]
) -> None:
    csrf = console_sign_in(client, "root")
    answer = client.post("/admin/exchanges/switch", headers=csrf, data=form)
    assert answer.status_code == 422
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").enabled is True


def test_a_switch_without_csrf_or_by_a_reviewer_changes_nothing(
    client: TestClient, database: Database, exchange: str
) -> None:
    console_sign_in(client, "root")
    forged = client.post("/admin/exchanges/switch", data={"name": "ncmec", "enabled": "off"})
    assert forged.status_code == 403
    csrf = console_sign_in(client, "reviewer")
    refused = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": "ncmec", "enabled": "off"}
    )
    assert refused.status_code == 403 and "Exchanges" not in refused.text.split("<main")[0]
    with database.transaction() as session:
        assert get_exchange(session, "ncmec").enabled is True


def test_without_exchanges_the_page_says_how_to_add_one(
    client: TestClient, database: Database
) -> None:
    add_user(database, "root", [Role.ADMIN])
    console_sign_in(client, "root")
    page = client.get("/admin/exchanges")
    assert page.status_code == 200
    assert "No exchange is configured yet" in page.text and "vigil exchanges add" in page.text
    assert '<a href="/admin/exchanges" aria-current="page">Exchanges</a>' in page.text


def test_an_awkward_name_is_shown_as_text_and_switched_by_its_form(
    client: TestClient, database: Database, console_settings: Settings
) -> None:
    name = 'partner/eu "<i>x</i>"'
    with database.transaction(write=True) as session:
        create_list(session, "shared", actor="admin")
        create_exchange(
            session,
            name,
            kind="tat",
            base_url="https://tat.example.org/api",
            credentials={"username": "u", "password": EXCHANGE_PASSWORD},
            list_names=["shared"],
            master_key=load_master_key(console_settings),
            actor="admin",
        )
    add_user(database, "root", [Role.ADMIN])
    csrf = console_sign_in(client, "root")
    page = client.get("/admin/exchanges")
    assert "<i>x</i>" not in page.text and "&lt;i&gt;x&lt;/i&gt;" in page.text
    assert "never" in page.text and "0 pending, 0 failed" in page.text
    answer = client.post(
        "/admin/exchanges/switch", headers=csrf, data={"name": name, "enabled": "off"}
    )
    assert answer.status_code == 200 and "is now disabled" in answer.text
    with database.transaction() as session:
        assert get_exchange(session, name).enabled is False
