"""An agency investigator's day in a real browser: sign in, the queue in priority order with
the reasons, accept one referral and record an outcome, ask the reporting company a
question, decline another with a reason; the page's console stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import select

from tests.agency.agency_rows import add_agency, add_member, add_referral, add_report, add_triage
from tests.api.service import PASSWORD
from tests.clearinghouse.intake_rows import company_row
from vigil.store import Database
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    InfoRequest,
    Referral,
    ReferralOutcome,
    ReferralState,
)
from vigil.triage.levels import level_label

pytestmark = pytest.mark.browser


@dataclass
class ConsoleWatch:
    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):  # base.html has none
            self.errors.append(f"{message.text} ({url})")


@pytest.fixture
def watch(page: Page) -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    page.on("console", watch.on_message)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    yield watch


@pytest.fixture
def queue(database: Database) -> list[int]:
    """Three referrals to agency A, expected order: priority 1, 2, 3; one to agency B."""
    with database.transaction(write=True) as session:
        agency, other = add_agency(session, "ICAC-A"), add_agency(session, "ICAC-B")
        add_member(session, "investigator", agency)
        company = company_row(session, "Platform")
        made = {}
        for priority, score in ((3, 20.0), (1, 90.0), (2, 55.0)):
            report = add_report(session, company)
            add_triage(session, report, priority, score)
            made[priority] = add_referral(session, report, agency).id
        elsewhere = add_report(session, company)
        add_triage(session, elsewhere, 1, 99.0)
        add_referral(session, elsewhere, other)
        return [made[1], made[2], made[3]]


def test_an_investigator_works_the_queue(
    page: Page, console: str, database: Database, queue: list[int], watch: ConsoleWatch
) -> None:
    page.goto(f"{console}/login?next=/agency")
    page.get_by_label("Username").fill("investigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/agency")

    rows = page.locator("tr.referral-row")
    expect(rows).to_have_count(3)  # agency B's referral is not here
    assert [int(rows.nth(i).get_attribute("data-referral") or 0) for i in range(3)] == queue
    expect(rows.nth(0).locator("ul.reasons")).to_contain_text("synthetic reason for report")
    expect(rows.nth(0).locator("td").first).to_contain_text(level_label(1))

    urgent, second = queue[0], queue[1]
    rows.nth(0).get_by_role("link").click()
    page.wait_for_url(f"{console}/agency/referrals/{urgent}")
    expect(page.locator("#priority")).to_have_text(level_label(1))
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#referral-state")).to_have_text("accepted")

    page.get_by_label("Outcome", exact=True).select_option("arrest")
    page.get_by_label("Note", exact=True).fill("Suspect arrested")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.locator("#outcomes")).to_contain_text("Arrest")
    expect(page.locator("#outcomes")).to_contain_text("Suspect arrested")

    page.get_by_label("Ask Platform for more").fill("Which IP addresses logged in?")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#info-requests")).to_contain_text("Which IP addresses logged in?")

    page.goto(f"{console}/agency/referrals/{second}")
    page.get_by_label("Reason for declining").fill("Outside our jurisdiction")
    page.get_by_role("button", name="Decline").click()
    page.wait_for_url(f"{console}/agency")
    expect(page.locator("tr.referral-row")).to_have_count(2)
    expect(page.locator(f'tr[data-referral="{second}"]')).to_have_count(0)

    with database.transaction() as session:
        assert session.get(Referral, urgent).state is ReferralState.ACCEPTED
        declined = session.get(Referral, second)
        assert declined.state is ReferralState.DECLINED
        assert declined.decline_reason == "Outside our jurisdiction"
        assert session.scalar(select(ReferralOutcome.note)) == "Suspect arrested"
        assert session.scalar(select(InfoRequest.referral_id)) == urgent
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.actor == "user:investigator")
        ).all()
    assert {AuditAction.REFERRAL_ACTION, AuditAction.OUTCOME, AuditAction.INFO_REQUEST} <= set(
        actions
    )
    assert watch.errors == []
