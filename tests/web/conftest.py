"""Browser tests: the real application served by uvicorn on a free port, driven through
Debian's Chromium by Playwright (scripts/web_assets.sh installs both)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.service import service_settings
from tests.db import in_ci
from vigil.api.app import create_app
from vigil.store import Settings

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
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data")


@pytest.fixture
def console(console_settings: Settings) -> Iterator[str]:
    """The base URL of a running service with the console."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(console_settings, background_jobs=False),
                            host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the console did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser, console: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
