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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.clearinghouse.companies import add_company, list_companies
from vigil.cli.demo_data import DEMO_REVIEWER, seed_demo
from vigil.core.settings import Settings, load_settings
from vigil.reporting.cybertipline.client import CyberTiplineClient
from vigil.reporting.cybertipline.model import (
    Email,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    IpCaptureEvent,
    Person,
    PersonOrUserReported,
    Reporter,
    ReportModel,
    Victim,
)
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml
from vigil.server.app import create_app
from vigil.server.loopback import serving
from vigil.store import open_database
from vigil.store.accounts import create_user
from vigil.store.evidence import MasterKey
from vigil.store.migrate import prepare_schema
from vigil.store.models import AgencyKind, Case, Role, utcnow
from vigil.store.shared.vocabulary import INCIDENT_TYPES
from vigil.triage.agencies import add_agency, add_member, add_rule
from vigil.triage.job import TriageJob
from vigil.triage.levels import level_label

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "images"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "screenshots only, a throwaway database"  # never leaves the temporary directory
ACTOR = "screenshots"
People = Mapping[str, tuple[str, list[Role]]]  # username: (display name, roles)
# Who is shown on the platform, by role (an agency's investigator is on the clearinghouse).
PEOPLE: People = {
    "ada": ("Ada Admin", [Role.ADMIN]),
    "filer-fay": ("Fay Filer", [Role.REVIEWER, Role.REPORT_SUBMITTER]),
    "curator-cy": ("Cy Curator", [Role.LIST_CURATOR]),
    "auditor-al": ("Al Auditor", [Role.AUDITOR]),
}
REPORTED = "acct-2001"  # the demo's user reports: each item needs a classification
KNOWN = "acct-1001"  # the demo's known pictures: confirmed on inheritance, then reported
INCIDENT = INCIDENT_TYPES[6]
PROTECTED = re.compile(r"/preview\?view=")  # the server's protected rendering
# The clearinghouse: who signs in there, who reports to it, and where reports go.
ANALYST = "analyst-ida"
INVESTIGATOR = "investigator-ian"
CLEARINGHOUSE_PEOPLE: People = {
    ANALYST: ("Ida Analyst", [Role.REVIEWER]),
    INVESTIGATOR: ("Ian Investigator", [Role.AGENCY]),
}
AGENCY = "ICAC-EX"
ROUTED_COMPANY = ("Example Platform", "example-platform")  # a rule sends these to AGENCY
WAITING_COMPANY = ("Example Chat", "example-chat")  # no rule fits: the routing queue


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    reviewer_password: str


def installation(data_dir: Path, **sections: Any) -> Settings:
    """A throwaway installation's settings: SQLite and a fresh master key in ``data_dir``."""
    key = base64.b64encode(MasterKey.generate().material).decode()
    return load_settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'vigil.db'}",
        evidence={"master_key": key},
        api={"secure_cookies": False},  # served over plain loopback HTTP
        **sections,
    )


def seed(data_dir: Path, corpus: Path = CORPUS) -> Seeded:
    """The demo data plus the people and settings the screens need, in ``data_dir``."""
    settings = installation(
        data_dir,
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
        add_people(session, PEOPLE)
    return Seeded(settings, seeded.reviewer_password)


def add_people(session: Session, people: People) -> None:
    for username, (name, roles) in people.items():
        create_user(session, username, PASSWORD, roles, actor=ACTOR, display_name=name)


def case_id(settings: Settings, account: str) -> tuple[str, list[int]]:
    """The public id of the account's case and its item ids."""
    with open_database(settings) as database, database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == account)).one()
        return case.public_id, sorted(item.id for item in case.items)


# --- the clearinghouse ------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A report a company files: its document and how many corpus pictures go with it."""

    company: tuple[str, str]  # (name, username)
    document: ReportModel
    pictures: int
    annotations: FileAnnotations | None = None


def seed_clearinghouse(data_dir: Path) -> Settings:
    """A clearinghouse in ``data_dir``: its analyst, two reporting companies, an agency with
    its investigator, and a routing rule sending one company's reports to the agency."""
    settings = installation(data_dir, clearinghouse={"enabled": True})
    with open_database(settings) as database:
        prepare_schema(settings, database)
        with database.transaction(write=True) as session:
            if list_companies(session):
                raise RuntimeError(f"{data_dir} was seeded before: use an empty directory")
            add_people(session, CLEARINGHOUSE_PEOPLE)
            for name, username in (ROUTED_COMPANY, WAITING_COMPANY):
                add_company(session, name, username, PASSWORD)
            add_agency(
                session,
                code=AGENCY,
                name="Example County Task Force",
                kind=AgencyKind.TASK_FORCE,
                country="US",
                region="US-CA",
                media_allowed=False,
                actor=ACTOR,
            )
            add_member(session, INVESTIGATOR, AGENCY, ACTOR)
            add_rule(
                session,
                agency_code=AGENCY,
                country=None,
                region=None,
                conditions={"companies": [ROUTED_COMPANY[0]]},
                position=None,
                description=f"Reports from {ROUTED_COMPANY[0]}",
                actor=ACTOR,
            )
    return settings


def receive_reports(settings: Settings, base_url: str, corpus: Path = CORPUS) -> None:
    """The companies file their reports through the intake with Vigil's own client (as a
    platform does), then one triage round scores and routes them (the background job's)."""
    pictures = iter(sorted(corpus.glob("*.jpg")))
    for submission in submissions():
        username = submission.company[1]
        with CyberTiplineClient(f"{base_url}/ispws", username, PASSWORD) as client:
            file_report(client, submission, [next(pictures) for _ in range(submission.pictures)])
    with open_database(settings) as database:
        job = TriageJob(database, settings.triage)
        try:
            job.run_once()
        finally:
            job.close()


def file_report(client: CyberTiplineClient, submission: Submission, pictures: list[Path]) -> None:
    """/submit, /upload and /fileinfo per picture, /finish; a refusal raises RemoteError."""
    report_id = client.submit(report_xml(submission.document)).report_id
    assert report_id is not None  # submit refuses an answer without one
    for picture in pictures:
        file_id = client.upload(report_id, picture.name, picture.read_bytes()).file_id
        details = FileDetailsModel(
            report_id=int(report_id),
            file_id=file_id,
            original_file_name=picture.name,
            file_viewed_by_esp=True,
            file_annotations=submission.annotations,
        )
        client.fileinfo(file_details_xml(details))
    client.finish(report_id)


def submissions() -> list[Submission]:
    """An escalated enticement report naming a victim and the account reported; a report of
    new pictures from the company no rule routes; a report of generated pictures."""
    now = utcnow().replace(microsecond=0)
    reporter = Reporter(reporting_person=Person(email=(Email(address="safety@example.org"),)))
    reported = PersonOrUserReported(
        person=Person(email=(Email(address="night.owl@example.net"),)),
        esp_identifier="user-4471",
        screen_name="night_owl_22",
        ip_capture_event=(IpCaptureEvent(ip_address="203.0.113.9"),),
    )
    urgent = ReportModel(
        incident_summary=IncidentSummary(
            incident_type=INCIDENT,
            incident_date_time=now - timedelta(hours=3),
            escalate_to_high_priority="He says he will meet her at the station tonight.",
        ),
        reporter=reporter,
        person_or_user_reported=(reported,),
        victim=(Victim(person=Person(age=13)),),
    )
    new_material = ReportModel(
        incident_summary=IncidentSummary(
            incident_type=INCIDENT_TYPES[0], incident_date_time=now - timedelta(days=12)
        ),
        reporter=reporter,
        person_or_user_reported=(PersonOrUserReported(screen_name="pixel_trader"),),
    )
    generated = ReportModel(
        incident_summary=IncidentSummary(
            incident_type=INCIDENT_TYPES[0], incident_date_time=now - timedelta(days=40)
        ),
        reporter=reporter,
    )
    return [
        Submission(ROUTED_COMPANY, urgent, pictures=2),
        Submission(WAITING_COMPANY, new_material, pictures=2),
        Submission(
            ROUTED_COMPANY, generated, pictures=1, annotations=FileAnnotations(generative_ai=True)
        ),
    ]


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


def clearinghouse_screens(camera: Camera) -> None:
    """The analyst's intake queue and report page, and the routing queue; then the agency
    investigator's queue and the referral it opens on."""
    with camera.signed_in(ANALYST, PASSWORD, "/clearinghouse") as page:
        urgent = page.locator("tbody tr").filter(
            has=page.locator(".level-cell", has_text=level_label(1))
        )
        expect(urgent).to_have_count(1)  # the escalated report, scored and shown first
        camera.shoot(page, "intake-queue.png")
        urgent.get_by_role("link").click()
        expect(page.locator("#lead-escalation")).to_be_visible()
        expect(page.locator(".intake-file img").first).to_have_attribute("src", PROTECTED)
        camera.shoot(page, "intake-report.png")
        page.goto(f"{camera.base_url}/clearinghouse/routing")
        expect(page.get_by_role("heading", name="Routing queue")).to_be_visible()
        camera.shoot(page, "routing-queue.png")
    with camera.signed_in(INVESTIGATOR, PASSWORD, "/agency") as page:
        referrals = page.locator("tr.referral-row")
        expect(referrals.first).to_be_visible()
        camera.shoot(page, "agency-queue.png")
        referrals.first.get_by_role("link").first.click()
        expect(page.locator("#priority")).to_be_visible()
        camera.shoot(page, "agency-referral.png")


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
    with (
        tempfile.TemporaryDirectory(prefix="vigil-screenshots-") as folder,
        sync_playwright() as playwright,
    ):
        # --no-sandbox: as root (CI, containers) Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        seeded = seed(Path(folder) / "platform", args.corpus)
        with serving(create_app(seeded.settings, background_jobs=False)) as base_url:
            camera = Camera(browser, base_url, args.out)
            review_screens(camera, seeded)
            report_screens(camera, seeded)
            admin_screens(camera)
        clearinghouse = seed_clearinghouse(Path(folder) / "clearinghouse")
        with serving(create_app(clearinghouse, background_jobs=False)) as base_url:
            receive_reports(clearinghouse, base_url, args.corpus)
            clearinghouse_screens(Camera(browser, base_url, args.out))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
