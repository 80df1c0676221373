"""Browser tests: the real application served by uvicorn on a free port, driven through
Debian's Chromium by Playwright (scripts/web_assets.sh installs both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.api.service import live_service, service_settings
from tests.db import in_ci
from vigil.core.settings import Settings

# Waits, not measurements: a full parallel run on two shared cores once needed more than
# Playwright's 5 s for Swagger UI to draw and more than 10 s for a page to load. A
# broken feature still fails, only later.
expect.set_options(timeout=15_000)
PAGE_TIMEOUT_MS = 30_000

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_argon2: None) -> None:
    """Sign-ins in every test: argon2 at minimal cost (see tests/conftest.py)."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if in_ci():
            pytest.fail("Debian's chromium is missing: ./test.sh installs it")
        pytest.skip("Debian's chromium is not installed (./test.sh installs it)")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data")


@pytest.fixture
def console(console_settings: Settings) -> Iterator[str]:
    """The base URL of a running service with the console."""
    with live_service(console_settings) as base_url:
        yield base_url


@pytest.fixture
def page(browser: Browser, console: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()
