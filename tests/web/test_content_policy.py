"""Every console page, and the API's /docs page, works under the Content-Security-Policy:
Chromium reports no violation and no script error while the pages render (issue 14,
item 14). A violation here is a page the policy broke."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.api.service import PASSWORD, add_user, service_settings
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import Role

pytestmark = pytest.mark.browser

# Each role's own screens (one person may not hold them all: duties are separated).
PAGES = {
    Role.REVIEWER: [
        "/home",
        "/review",
        "/review/requests",
        "/clearinghouse",
        "/account/password",
        "/docs",
    ],
    Role.ADMIN: ["/home", "/stats", "/legal", "/review/exposure", "/docs"],
    Role.REPORT_SUBMITTER: ["/reports"],
    Role.LIST_CURATOR: ["/lists/suspects"],
}
# Recorded in the page itself: Chromium fires this event for every blocked script, style,
# image or connection. (Playwright injects it outside the page's policy.)
WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));"""


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


def test_no_page_breaks_under_the_policy(page: Page, console: str, database: Database) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(WATCH)
    for role, paths in PAGES.items():
        add_user(database, role.value.replace("_", "-"), [role])
        page.context.clear_cookies()
        _sign_in(page, console, role.value.replace("_", "-"))
        for path in paths:
            answer = page.goto(f"{console}{path}")
            assert answer is not None and answer.status == 200, (role, path)
            if path == "/docs":  # Swagger UI renders the document by script
                page.wait_for_selector(".opblock", timeout=15_000)
            page.wait_for_load_state("networkidle")
            problems += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
    assert not problems


def _sign_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
