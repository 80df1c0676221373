"""An agency's screens use the clearinghouse's words: a level by its name, a triage reason by
its title, an entity by its kind and readable value, never the stored keys ("contact: 50.0",
"esp user: example|u-2002")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.agency.agency_rows import (
    add_agency,
    add_member,
    add_referral,
    add_report,
    add_triage,
    link_entity,
)
from tests.api.service import PASSWORD
from tests.clearinghouse.intake_rows import company_row
from vigil.clearinghouse.entity_words import ENTITY_KIND_WORDS
from vigil.store import Database
from vigil.store.models import ReportTriage
from vigil.store.models.intake import EntityKind
from vigil.triage.levels import LEVEL_NAMES
from vigil.triage.scoring import REASON_TITLES

pytestmark = pytest.mark.browser


@pytest.fixture
def referrals(database: Database) -> dict[int, int]:
    """One referral per level 1-3, the level-2 one with a contact reason and two entities."""
    with database.transaction(write=True) as session:
        agency = add_agency(session, "ICAC-W")
        add_member(session, "investigator", agency)
        company = company_row(session, "Platform")
        made = {}
        for level in (1, 2, 3):
            report = add_report(session, company)
            triage = add_triage(session, report, level, 100.0 - 20 * level)
            if level == 2:
                triage.reasons = [
                    {
                        "name": "contact",
                        "weight": 50.0,
                        "value": 1.0,
                        "points": 50.0,
                        "detail": "grooming annotation",
                    }
                ]
                link_entity(session, "esp_user", "example|u-2002", report)
                link_entity(session, "email", "someone@example.org", report)
            made[level] = add_referral(session, report, agency).id
        session.flush()
        assert session.query(ReportTriage).count() == 3
        return made


def _sign_in(page: Page, console: str) -> None:
    page.goto(f"{console}/login?next=/agency")
    page.get_by_label("Username").fill("investigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/agency")


def test_the_agency_sees_words_not_keys(
    page: Page, console: str, referrals: dict[int, int]
) -> None:
    _sign_in(page, console)
    for level, referral in referrals.items():
        row = page.locator(f'tr[data-referral="{referral}"]')
        expect(row.locator("td").first).to_contain_text(LEVEL_NAMES[level])
    soon = page.locator(f'tr[data-referral="{referrals[2]}"] ul.reasons')
    expect(soon).to_contain_text(REASON_TITLES["contact"])
    expect(soon).not_to_contain_text("contact:")

    page.goto(f"{console}/agency/referrals/{referrals[2]}")
    expect(page.locator("#priority")).to_contain_text(LEVEL_NAMES[2])
    reasons = page.get_by_role("table", name="The reasons for the priority")
    expect(reasons).to_contain_text(REASON_TITLES["contact"])
    entities = page.locator("section[aria-labelledby=entities-title] ul")
    expect(entities).to_contain_text(f"{ENTITY_KIND_WORDS[EntityKind.ESP_USER]}: u-2002 on example")
    expect(entities).to_contain_text(f"{ENTITY_KIND_WORDS[EntityKind.EMAIL]}: someone@example.org")
    expect(entities).not_to_contain_text("|")
    expect(entities).not_to_contain_text("esp user")
