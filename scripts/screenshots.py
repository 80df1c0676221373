"""Regenerates the console's screenshots (docs/screenshots/, shown in the README).

    python scripts/screenshots.py [--out docs/screenshots]

A throwaway data directory and SQLite database are seeded with the demo data of `vigil serve
--demo` (benign corpus pictures only), a person per console role and a configured reporter;
the console is served on a free loopback port and Debian's Chromium, driven by Playwright,
takes viewport screenshots at 1280x800. Media are never revealed: every picture shown is the
server's protected (blurred, grayscale, reduced) rendering.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from vigil.cli.demo_data import DEMO_REVIEWER, seed_demo
from vigil.core.settings import Settings, load_settings
from vigil.server.app import create_app
from vigil.server.loopback import serving
from vigil.store import open_database
from vigil.store.accounts import create_user
from vigil.store.evidence import MasterKey
from vigil.store.models import Case, Role
from vigil.store.shared.vocabulary import INCIDENT_TYPES

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "images"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "screenshots only, a throwaway database"  # never leaves the temporary directory
ACTOR = "screenshots"
# Who is shown, by role (the agency role needs an agency as well: not shown).
PEOPLE = {
    "ada": ("Ada Admin", [Role.ADMIN]),
    "filer-fay": ("Fay Filer", [Role.REVIEWER, Role.REPORT_SUBMITTER]),
    "curator-cy": ("Cy Curator", [Role.LIST_CURATOR]),
    "auditor-al": ("Al Auditor", [Role.AUDITOR]),
}
REPORTED = "acct-2001"  # the demo's user reports: each item needs a classification
KNOWN = "acct-1001"  # the demo's known pictures: confirmed on inheritance, then reported
INCIDENT = INCIDENT_TYPES[6]
PROTECTED = re.compile(r"/preview\?view=")  # the server's protected rendering


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    reviewer_password: str


def seed(data_dir: Path, corpus: Path = CORPUS) -> Seeded:
    """The demo data plus the people and settings the screens need, in ``data_dir``."""
    key = base64.b64encode(MasterKey.generate().material).decode()
    settings = load_settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'vigil.db'}",
        evidence={"master_key": key},
        api={"secure_cookies": False},  # served over plain loopback HTTP
        reporting={
            "reporter_company": "Example Platform",
            "reporter_contact_name": "Trust Team",
            "reporter_contact_email": "trust@example.org",
        },
    )
    seeded = seed_demo(settings, corpus)
    if seeded.reviewer_password is None:
        raise RuntimeError(f"{data_dir} was seeded before: use an empty directory")
    with open_database(settings) as database, database.transaction(write=True) as session:
        for username, (name, roles) in PEOPLE.items():
            create_user(session, username, PASSWORD, roles, actor=ACTOR, display_name=name)
    return Seeded(settings, seeded.reviewer_password)


def case_id(settings: Settings, account: str) -> tuple[str, list[int]]:
    """The public id of the account's case and its item ids."""
    with open_database(settings) as database, database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == account)).one()
        return case.public_id, sorted(item.id for item in case.items)


class Camera:
    """One browser; a fresh context (cookie jar) per person signed in."""

    def __init__(self, browser: Browser, base_url: str, out: Path) -> None:
        self.browser, self.base_url, self.out = browser, base_url, out

    @contextmanager
    def signed_in(self, username: str, password: str, landing: str) -> Iterator[Page]:
        context = self.browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{self.base_url}/login?next={landing}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.base_url}{landing}")
        try:
            yield page
        finally:
            context.close()

    def shoot(self, page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        never_revealed(page)
        page.screenshot(path=str(self.out / name), full_page=False)
        print(f"wrote {self.out / name}")


def never_revealed(page: Page) -> None:
    """A revealed picture is a blob: URL (protected_media.js); protected ones come from
    /preview with a protection view. Refuse to take a picture of anything else."""
    for source in page.locator("img").evaluate_all("images => images.map(i => i.src)"):
        if source.startswith("blob:"):
            raise RuntimeError("a picture is revealed: no screenshot taken")


def settled(page: Page) -> None:
    """HTMX has finished swapping and wired up the new content (its buttons work)."""
    swapping = page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")
    expect(swapping).to_have_count(0)


def csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    return {"X-CSRF-Token": token}


def review_screens(camera: Camera, seeded: Seeded) -> None:
    base = camera.base_url
    with camera.signed_in(DEMO_REVIEWER, seeded.reviewer_password, "/review") as page:
        expect(page.locator("tbody tr").first).to_contain_text("acct-3001")
        camera.shoot(page, "queue.png")

        reported, _ = case_id(seeded.settings, REPORTED)
        page.goto(f"{base}/review/cases/{reported}")
        first = page.locator(".item").first
        expect(first.locator("img")).to_have_attribute("src", PROTECTED)
        camera.shoot(page, "case.png")

        first.focus()
        page.keyboard.press("2")  # classification A2, never a reveal ("r")
        expect(first.get_by_role("button", name="A2")).to_have_attribute("aria-pressed", "true")
        settled(page)
        first.get_by_role("button", name=re.compile("^Confirm")).click()
        expect(page.locator("#notices")).to_contain_text("confirmed")
        camera.shoot(page, "case-decided.png")
        confirm_case(page, base, case_id(seeded.settings, KNOWN))


def confirm_case(page: Page, base: str, case: tuple[str, list[int]]) -> None:
    """Every item confirmed (known material: inherited classification, no viewing), so the
    case waits on /reports; by requests, as the report-filing test does."""
    public_id, items = case
    for item in items:
        answer = page.request.post(
            f"{base}/review/cases/{public_id}/decide",
            headers=csrf(page),
            form={"kind": "confirm", "item_id": str(item)},
        )
        if not answer.ok:
            raise RuntimeError(f"confirming item {item} failed: {answer.text()}")


def report_screens(camera: Camera, seeded: Seeded) -> None:
    with camera.signed_in("filer-fay", PASSWORD, "/reports") as page:
        known, _ = case_id(seeded.settings, KNOWN)
        row = page.locator(f"tr[data-case='{known}']")
        row.get_by_label("Incident type").select_option(INCIDENT)
        camera.shoot(page, "reports.png")
        row.get_by_role("button", name="Check the report").click()
        expect(
            page.get_by_role("heading", name="Check the report before it is sent")
        ).to_be_visible()
        camera.shoot(page, "report-preview.png")


def admin_screens(camera: Camera) -> None:
    with camera.signed_in("ada", PASSWORD, "/home") as page:
        for path, name in (
            ("/stats", "stats.png"),
            ("/admin/users", "users.png"),
            ("/audit", "audit-log.png"),
        ):
            page.goto(f"{camera.base_url}{path}")
            camera.shoot(page, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="benign pictures")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: ./test.sh installs Debian's chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=20_000)  # a loaded machine (CI beside it) answers slowly
    with tempfile.TemporaryDirectory(prefix="vigil-screenshots-") as folder:
        seeded = seed(Path(folder) / "data", args.corpus)
        console = create_app(seeded.settings, background_jobs=False)
        with serving(console) as base_url, sync_playwright() as playwright:
            # --no-sandbox: as root (CI, containers) Chromium's sandbox refuses to start.
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"]
            )
            camera = Camera(browser, base_url, args.out)
            review_screens(camera, seeded)
            report_screens(camera, seeded)
            admin_screens(camera)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
