"""What a reviewer sees of a match's provenance in a real browser: for each matched entry the
exchange that shared it (name and kind), its entry id, member, classification and tags, or
the file it came from; and, once the item is confirmed, the feedback queued for the
exchange. On SQLite and PostgreSQL, benign corpus pictures only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.api.service import PASSWORD, add_user
from tests.exchanges.shared_entries import feed_list
from tests.review.review_env import review_env
from vigil.store import Database
from vigil.store.models import Role

pytestmark = pytest.mark.browser
SHARED = 2  # shared by the exchange; images 0 and 1 are on a file's list


@pytest.fixture
def cases(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[list[str]]:
    """Two open cases, seeded before the console starts: one matching an exchange's entry,
    one matching a file's entry (as the test's first argument, so it is set up first)."""
    add_user(database, "rita", [Role.REVIEWER])
    with review_env(database, tmp_path, corpus_images) as env:
        sha256 = env.fingerprint(SHARED).sha256
        assert sha256 is not None
        feed_list(database, "hub", "shared", [("sha256", sha256, "hub-entry-2")])
        shared = env.upload(SHARED, account="acct-ex", content="c-ex")
        filed = env.upload(0, account="acct-file", content="c-file")
        yield [env.case_of(shared.record_id)[0], env.case_of(filed.record_id)[0]]


def _sign_in(page: Page, console: str) -> None:
    page.goto(f"{console}/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}/review")


def test_a_reviewer_sees_where_each_match_came_from_and_the_feedback_sent(
    cases: list[str], page: Page, console: str
) -> None:
    shared_case, file_case = cases
    _sign_in(page, console)

    page.goto(f"{console}/review/cases/{shared_case}")
    item = page.locator(".item").first
    provenance = item.locator(".provenance")
    expect(provenance).to_have_text(
        "From exchange hub (ncmec), entry hub-entry-2, member member-7"
        " · classification A1 · tags csam, verified"
    )
    expect(item.locator(".feedback")).to_have_count(0)
    item.focus()
    page.keyboard.press("c")  # confirm: known material, no need to view it
    expect(page.locator(".item").first).to_contain_text("Confirmed")
    page.reload()
    expect(page.locator(".item").first.locator(".feedback")).to_have_text(
        "affirmative feedback: pending"
    )

    page.goto(f"{console}/review/cases/{file_case}")
    expect(page.locator(".item").first.locator(".provenance")).to_have_text(
        "From ncmec.csv · classification A1"
    )
