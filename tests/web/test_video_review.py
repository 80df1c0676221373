"""Issue 18, item 2: a video is reviewed by its protected contact sheet, then played on
request (protected first: test_video_protected_playback.py); a reveal is recorded (counted,
MEDIA_VIEWED, fileViewedByEsp) only once the browser showed the media clearly. A file the
browser cannot show is handed out (audited as such) but never recorded as seen, and the
person is told. Benign media only: a slideshow of corpus pictures made with PyAV, and
random bytes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests.api.service import PASSWORD, add_user, live_service, service_settings
from tests.fingerprint.video_media import slideshow, write_clip
from tests.web.intake_filing import Reporter, enrol
from tests.web.review_cases import case_of, item_ids
from vigil.cli.demo_data import DEMO_REVIEWER, seed_demo
from vigil.core.settings import ReviewSettings, Settings
from vigil.core.xml import safe_parse
from vigil.reporting.cybertipline.from_case import build_case_report
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.review.decisions import ReviewerRef, classify_item, decide, set_incident_type
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import Submission
from vigil.store import Database, open_database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    CaseItem,
    IntakeFile,
    MatchRecord,
    RecordSource,
    Role,
    User,
)
from vigil.store.shared.vocabulary import INCIDENT_TYPES

pytestmark = pytest.mark.browser
ACCOUNT = "acct-video"
REPORTER = ReporterDetails(
    company_name="Example Social",
    contact_name="Sam Safety",
    contact_email="safety@example.org",
    platform="Example Social",
)
ANALYST = "analyst-vic"


def benign_video(pictures: list[Path], directory: Path) -> bytes:
    """Three corpus pictures, a second each, as H.264 in MP4."""
    images = [Image.open(path) for path in pictures[:3]]
    return write_clip(directory / "slideshow.mp4", slideshow(images, 1.0)).read_bytes()


def undecodable() -> bytes:
    return os.urandom(40_000)


# --- the case screen -----------------------------------------------------------------------


@pytest.fixture
def reviewer_password(console_settings: Settings, corpus_images: list[Path], tmp_path: Path) -> str:
    """The demo data plus one case of two user-reported files: a benign video and random
    bytes said to be a video. Seeded before the console starts (listed first)."""
    seeded = seed_demo(console_settings, corpus_images[0].parent)
    assert seeded.reviewer_password
    contents = [benign_video(corpus_images, tmp_path), undecodable()]
    with (
        open_database(console_settings) as database,
        LiveIndex.open(database, index_root(console_settings.data_dir)) as live,
    ):
        service = ScreeningService(
            database,
            Matcher(live),
            settings=console_settings,
            vault=EvidenceVault.from_settings(console_settings),
        )
        outcomes = [
            service.flag(
                Submission.from_mapping(
                    {"content_id": f"{ACCOUNT}-{number}", "account_id": ACCOUNT}
                ),
                source=RecordSource.USER_REPORT,
                submitted_by="test:platform",
                content=content,
            )
            for number, content in enumerate(contents)
        ]
        with database.transaction(write=True) as session:
            session.execute(  # what a platform's declared type would say of the bytes
                update(MatchRecord)
                .where(MatchRecord.public_id == str(outcomes[1].record_id))
                .values(media_type="video")
            )
    return seeded.reviewer_password


def _sign_in(page: Page, console: str, username: str, password: str, landing: str) -> None:
    page.goto(f"{console}/login?next={landing}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{landing}")


def _csrf(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")
    return {"X-CSRF-Token": token}


def _audit(database: Database, action: AuditAction, subject_type: str) -> list[str]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(AuditRecord.subject_id)
                .where(AuditRecord.action == action, AuditRecord.subject_type == subject_type)
                .order_by(AuditRecord.seq)
            )
        )


def _confirm_and_report(database: Database, case_id: str, items: list[int]) -> dict[int, str]:
    """Confirm every item as a reviewer would and build the CyberTipline report; returns
    each file's fileViewedByEsp as written in its fileDetails ("" when absent), by item."""
    confirm_items(database, case_id, items)
    return viewed_by_esp(database, case_id)


def confirm_items(database: Database, case_id: str, items: list[int]) -> None:
    with database.transaction(write=True) as session:
        user = session.scalars(select(User).where(User.username == DEMO_REVIEWER)).one()
        reviewer = ReviewerRef(user.id, f"user:{DEMO_REVIEWER}")
        for item in items:
            classify_item(session, item, "A2", actor=reviewer.actor)
            decide(
                session,
                case_id,
                "confirm",
                item_id=item,
                reviewer=reviewer,
                settings=ReviewSettings(),
            )
        set_incident_type(session, case_id, INCIDENT_TYPES[0], actor=reviewer.actor)


def viewed_by_esp(database: Database, case_id: str) -> dict[int, str]:
    """Each file's fileViewedByEsp in the case's CyberTipline report ("" when absent)."""
    with database.transaction() as session:
        document = build_case_report(session, case_id, reporter=REPORTER)
    return {
        file.item_id: safe_parse(file.details_xml(1, "f1")).findtext("fileViewedByEsp") or ""
        for file in document.files
    }


def test_a_video_plays_on_request_and_only_a_shown_file_counts_as_viewed(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    video_item, broken_item = item_ids(database, case_id)
    _sign_in(page, console, DEMO_REVIEWER, reviewer_password, f"/review/cases/{case_id}")

    video_card = page.locator(f"#item-{video_item}")
    sheet = video_card.get_by_role("img", name=f"Protected contact sheet of item {video_item}")
    expect(sheet).to_have_attribute("src", re.compile(r"/preview\?view=grayscale_blur$"))
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=sheet.element_handle()
    )
    expect(video_card.locator("video")).to_have_count(0)  # nothing plays before the request

    video_card.get_by_role("button", name="Reveal this video").click()
    video = video_card.locator("video")
    expect(video).to_be_visible()
    expect(video).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(
        "video => video.readyState >= 2 && video.currentTime > 0 && video.videoWidth === 320",
        arg=video.element_handle(),
    )
    expect(sheet).to_be_hidden()
    video_card.get_by_role("button", name="Show clearly").click()  # protected until then
    expect(video_card.locator(".reveal-count")).to_have_text("1")
    expect(page.locator("#case-reveals")).to_have_text("1")  # the counters agree
    expect(page.locator("#exposure-reveals")).to_have_text("1")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]
    assert _audit(database, AuditAction.EXPORT, "review_item") == [str(video_item)]

    page.keyboard.press("Escape")  # the contact sheet again
    expect(video).to_have_count(0)
    expect(sheet).to_be_visible()

    broken_card = page.locator(f"#item-{broken_item}")
    page.keyboard.press("j")  # the next item becomes current, with its reveal button
    expect(broken_card).to_have_attribute("aria-current", "true")
    broken_card.get_by_role("button", name="Reveal this video").click()
    expect(page.locator("#alerts")).to_contain_text("This file could not be shown")
    expect(broken_card.locator("video")).to_have_count(0)
    expect(broken_card.locator(".reveal-count")).to_have_text("0")
    expect(page.locator("#case-reveals")).to_have_text("1")
    # handed out (audited as such), never viewed
    assert _audit(database, AuditAction.EXPORT, "review_item") == [
        str(video_item),
        str(broken_item),
    ]
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]
    with database.transaction() as session:
        reveals = {
            row.id: row.reveals for row in session.execute(select(CaseItem.id, CaseItem.reveals))
        }
    assert (reveals[video_item], reveals[broken_item]) == (1, 0)

    viewed = _confirm_and_report(database, case_id, [video_item, broken_item])
    assert viewed[video_item] == "true"
    assert viewed[broken_item] in ("", "false")  # nobody saw it: not claimed


def test_a_view_check_records_one_view_of_its_own_item_only(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    """Hostile confirmations: no check, a made-up one, another item's, a second use, another
    person's. Only the right one, once, records a view."""
    case_id = case_of(database, ACCOUNT)
    video_item, other_item = item_ids(database, case_id)
    _sign_in(page, console, DEMO_REVIEWER, reviewer_password, f"/review/cases/{case_id}")
    csrf = _csrf(page)
    handed = page.request.post(f"{console}/review/items/{video_item}/reveal", headers=csrf)
    assert handed.status == 200
    check = handed.headers["x-vigil-view-check"]
    assert handed.headers["x-vigil-media-type"] == "video"
    viewed = f"{console}/review/items/{video_item}/viewed"
    refused = [
        page.request.post(viewed, headers=csrf, data={}).status,
        page.request.post(viewed, headers=csrf, data={"check": "made-up"}).status,
        page.request.post(viewed, headers=csrf, data={"check": "x" * 5000}).status,
        page.request.post(viewed, data={"check": check}).status,  # no CSRF token
        page.request.post(
            f"{console}/review/items/{other_item}/viewed", headers=csrf, data={"check": check}
        ).status,
    ]
    assert refused == [422, 409, 422, 403, 409]
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == []

    first = page.request.post(viewed, headers=csrf, data={"check": check})
    assert first.status == 200 and first.json()["reveals"] == 1
    again = page.request.post(viewed, headers=csrf, data={"check": check})
    assert again.status == 409 and "already recorded" in again.text()
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]

    add_user(database, "reviewer-two", [Role.REVIEWER])  # another person, same check
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        someone = other.new_page()
        _sign_in(someone, console, "reviewer-two", PASSWORD, f"/review/cases/{case_id}")
        their_csrf = _csrf(someone)
        second = page.request.post(
            f"{console}/review/items/{video_item}/reveal", headers=csrf
        ).headers["x-vigil-view-check"]
        stolen = someone.request.post(viewed, headers=their_csrf, data={"check": second})
        assert stolen.status == 409
    finally:
        other.close()
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]


# --- the clearinghouse intake screen -------------------------------------------------------


@pytest.fixture
def clearinghouse_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": 8 << 20},
    )


@pytest.fixture
def clearinghouse(clearinghouse_settings: Settings) -> Iterator[str]:
    with live_service(clearinghouse_settings) as base_url:
        yield base_url


def _files(database: Database, report_id: int) -> list[IntakeFile]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(IntakeFile).where(IntakeFile.report_id == report_id).order_by(IntakeFile.id)
            )
        )


def test_the_intake_screen_plays_a_received_video_and_records_only_what_it_showed(
    clearinghouse: str, page: Page, database: Database, corpus_images: list[Path], tmp_path: Path
) -> None:
    add_user(database, ANALYST, [Role.REVIEWER])
    reporter: Reporter = enrol(database, clearinghouse, "Example Platform", "example-platform")
    report = reporter.file([benign_video(corpus_images, tmp_path), undecodable()])
    video_file, broken_file = _files(database, report)
    assert video_file.media_type == "video"
    _sign_in(page, clearinghouse, ANALYST, PASSWORD, f"/clearinghouse/reports/{report}")

    card = page.locator(f"#file-{video_file.id}")
    sheet = card.get_by_role("img", name=f"Protected contact sheet of file {video_file.id}")
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=sheet.element_handle()
    )
    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    expect(video).to_be_visible()
    page.wait_for_function(
        "video => video.readyState >= 2 && video.currentTime > 0", arg=video.element_handle()
    )
    card.get_by_role("button", name="Show clearly").click()  # protected until then
    expect(card.locator(".reveal-count")).to_have_text("1")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "intake_file") == [str(video_file.id)]

    broken = page.locator(f"#file-{broken_file.id}")
    broken.get_by_role("button", name=re.compile(r"^Reveal this")).click()
    expect(page.locator("#alerts")).to_contain_text("This file could not be shown")
    expect(broken.locator(".reveal-count")).to_have_text("0")
    expect(broken.locator("img")).to_have_attribute("src", re.compile(r"/preview\?view="))
    assert _audit(database, AuditAction.EXPORT, "intake_file") == [
        str(video_file.id),
        str(broken_file.id),
    ]
    assert _audit(database, AuditAction.MEDIA_VIEWED, "intake_file") == [str(video_file.id)]
    page.reload()  # the count comes from the audit log's views, not its hand-outs
    expect(page.locator(f"#file-{video_file.id} .reveal-count")).to_have_text("1")
    expect(page.locator(f"#file-{broken_file.id} .reveal-count")).to_have_text("0")


def test_fingerprint_only_shows_a_plain_tile_for_a_video_not_a_broken_picture(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id = case_of(database, ACCOUNT)
    video_item, _ = item_ids(database, case_id)
    _sign_in(page, console, DEMO_REVIEWER, reviewer_password, f"/review/cases/{case_id}")
    page.goto(f"{console}/review/cases/{case_id}?view=fingerprint_only")
    sheet = page.locator(f"#item-{video_item} img")
    expect(sheet).to_have_attribute("src", re.compile(r"view=fingerprint_only$"))
    page.wait_for_function(
        "image => image.complete && image.naturalWidth === 256", arg=sheet.element_handle()
    )
