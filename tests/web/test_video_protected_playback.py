"""Issue 18: a revealed video plays protected (blurred and grayscale, as strongly as the still
renderings) until the reviewer asks to see it clearly. Only the clear view, once displayed,
is a view: MEDIA_VIEWED, the reveal count and fileViewedByEsp; the protected playback is
exposure, not a view. Idle time protects a clear video again and pauses it, then hides it.
Benign media only: a slideshow of corpus pictures made with PyAV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.api.service import PASSWORD, add_user, service_settings
from tests.web.intake_filing import Reporter, enrol
from tests.web.review_cases import case_of, item_ids
from tests.web.test_accessibility import axe_source, violations
from tests.web.test_exposure_time import _media_seconds, _wait_for_media_time
from tests.web.test_video_review import (
    ACCOUNT,
    ANALYST,
    _audit,
    _files,
    _sign_in,
    benign_video,
    clearinghouse,
    clearinghouse_settings,
    confirm_items,
    reviewer_password,
    viewed_by_esp,
)
from vigil.cli.demo_data import DEMO_REVIEWER
from vigil.core.settings import ReviewSettings, Settings
from vigil.store import Database
from vigil.store.models import AuditAction, Role
from vigil.web.media_hand_out import handed_out_headers, protected_playback_blur

pytestmark = pytest.mark.browser
__all__ = ["axe_source", "clearinghouse", "clearinghouse_settings", "reviewer_password"]

PROTECTED = re.compile(r"^blur\((\d+(?:\.\d+)?)px\) grayscale\(1\)$")
CLIP_SECONDS = 3  # benign_video: three pictures, a second each
PLAYBACK = 15_000  # ms: the three-second clip played to its end, and an idle time after it


@pytest.fixture
def idle_seconds() -> int:
    return ReviewSettings().reveal_idle_seconds  # the default, unless a test sets its own


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path, idle_seconds: int) -> Settings:
    return service_settings(
        database_url, tmp_path / "data", review={"reveal_idle_seconds": idle_seconds}
    )


def _protected_blur(video: Locator) -> float:
    """The blur in pixels the person sees on the video (its computed filter)."""
    expect(video).to_have_css("filter", PROTECTED)
    found = PROTECTED.match(video.evaluate("v => getComputedStyle(v).filter"))
    assert found
    return float(found.group(1))


def _case_video(page: Page, console: str, database: Database, password: str) -> tuple[str, int]:
    case_id = case_of(database, ACCOUNT)
    video_item = item_ids(database, case_id)[0]
    _sign_in(page, console, DEMO_REVIEWER, password, f"/review/cases/{case_id}")
    return case_id, video_item


def test_a_revealed_video_plays_protected_and_only_its_clear_view_is_a_view(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    case_id, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    sheet = card.get_by_role("img", name=f"Protected contact sheet of item {video_item}")
    expect(sheet).to_be_visible()  # the contact sheet first
    clearly = card.get_by_role("button", name="Show clearly")
    again = card.get_by_role("button", name="Protect again")
    expect(clearly).to_be_hidden()  # nothing to show clearly before a reveal

    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    expect(video).to_be_visible()
    expect(sheet).to_be_hidden()
    box = video.bounding_box()
    assert box
    # As strong as a still's protection, at the size the video is shown.
    expected = protected_playback_blur(ReviewSettings()) * max(box["width"], box["height"])
    assert _protected_blur(video) == pytest.approx(expected, abs=0.1)
    expect(video).to_have_attribute("aria-label", re.compile(r"protected \(blurred, grayscale\)"))
    expect(video).to_have_css("clip-path", "inset(0px)")  # the blur does not spill over
    expect(video).to_have_js_property("controls", False)  # they would be blurred past reading
    expect(clearly).to_be_visible()
    expect(again).to_be_hidden()
    expect(video).to_have_js_property("ended", True, timeout=PLAYBACK)  # it played, protected

    # A protected playback is not a view: not counted, not audited, not claimed to NCMEC.
    expect(card.locator(".reveal-count")).to_have_text("0")
    assert _audit(database, AuditAction.EXPORT, "review_item") == [str(video_item)]
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == []
    confirm_items(database, case_id, item_ids(database, case_id))  # reportable
    assert viewed_by_esp(database, case_id)[video_item] in ("", "false")

    clearly.click()
    expect(video).to_have_css("filter", "none")
    expect(video).to_have_js_property("controls", True)
    expect(video).to_have_attribute("aria-label", re.compile(r"shown clearly$"))
    expect(card.locator(".reveal-count")).to_have_text("1")
    expect(page.locator("#case-reveals")).to_have_text("1")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]
    assert viewed_by_esp(database, case_id)[video_item] == "true"

    again.click()
    expect(video).to_have_css("filter", PROTECTED)
    expect(clearly).to_be_visible()
    clearly.click()  # one hand-out, one view: showing it clearly again records nothing new
    expect(video).to_have_css("filter", "none")
    again.click()
    expect(video).to_have_css("filter", PROTECTED)
    expect(card.locator(".reveal-count")).to_have_text("1")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == [str(video_item)]


def test_the_reveal_key_steps_a_video_from_protected_to_clear_and_back(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    _, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    card.focus()
    page.keyboard.press("r")  # reveal: protected
    video = card.locator("video")
    _protected_blur(video)
    expect(card.get_by_role("button", name="Show clearly")).to_have_attribute("data-shortcut", "r")
    expect(card.get_by_role("button", name="Reveal this video").locator("kbd")).to_be_hidden()
    page.keyboard.press("r")  # show clearly
    expect(video).to_have_css("filter", "none")
    expect(card.locator(".reveal-count")).to_have_text("1")
    page.keyboard.press("r")  # protect again
    expect(video).to_have_css("filter", PROTECTED)
    page.keyboard.press("Escape")  # back to the contact sheet; r reveals again
    expect(video).to_have_count(0)
    expect(card.get_by_role("button", name="Reveal this video")).to_have_attribute(
        "data-shortcut", "r"
    )
    expect(card.get_by_role("button", name="Show clearly")).to_be_hidden()
    assert _audit(database, AuditAction.EXPORT, "review_item") == [str(video_item)]


@pytest.mark.parametrize("idle_seconds", [3])
def test_idle_time_protects_a_clear_video_again_paused_then_hides_it(
    reviewer_password: str, page: Page, console: str, database: Database, idle_seconds: int
) -> None:
    _, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    sheet = card.get_by_role("img", name=f"Protected contact sheet of item {video_item}")
    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    _protected_blur(video)
    card.get_by_role("button", name="Show clearly").click()  # the pointer stays on it
    expect(video).to_have_css("filter", "none")
    expect(card.locator(".reveal-count")).to_have_text("1")

    # Playback is activity: the clip plays to its end clearly, then the idle time runs.
    expect(video).to_have_css("filter", PROTECTED, timeout=PLAYBACK)
    expect(video).to_have_js_property("paused", True)
    expect(card.get_by_role("button", name="Show clearly")).to_be_visible()
    expect(page.locator("#notices")).to_contain_text(
        f"Protected again after {idle_seconds} seconds"
    )
    # Another idle time: hidden, the contact sheet again.
    expect(video).to_have_count(0, timeout=PLAYBACK)
    expect(sheet).to_be_visible()
    expect(page.locator("#notices")).to_contain_text(f"Blurred again after {idle_seconds} seconds")


def test_a_protected_playback_screen_meets_wcag_21_aa(
    reviewer_password: str, page: Page, console: str, database: Database, axe_source: str
) -> None:
    _, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    card.get_by_role("button", name="Reveal this video").click()
    _protected_blur(card.locator("video"))
    assert violations(page, axe_source) == []
    card.get_by_role("button", name="Show clearly").click()
    expect(card.get_by_role("button", name="Protect again")).to_be_visible()
    assert violations(page, axe_source) == []


def test_protected_playback_is_exposure_time_though_not_a_view(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    _, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    _protected_blur(video)
    expect(video).to_have_js_property("ended", True, timeout=PLAYBACK)
    assert _media_seconds(database) == []  # sent when hidden
    page.keyboard.press("Escape")
    expect(video).to_have_count(0)
    [seconds] = _wait_for_media_time(database, 1)
    assert seconds >= CLIP_SECONDS - 0.5  # the whole protected playback was on screen
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == []
    expect(card.locator(".reveal-count")).to_have_text("0")


def test_a_clear_view_the_server_refuses_to_record_does_not_stay_on_screen(
    reviewer_password: str, page: Page, console: str, database: Database
) -> None:
    """A hand-out whose check the server does not know (forged here; expired in life): the
    clear view is taken away as soon as the server refuses it, and nothing is recorded."""

    def forged_check(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, headers={**answer.headers, "x-vigil-view-check": "forged"})

    page.route(re.compile(r"/review/items/\d+/reveal$"), forged_check)
    _, video_item = _case_video(page, console, database, reviewer_password)
    card = page.locator(f"#item-{video_item}")
    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    _protected_blur(video)
    card.get_by_role("button", name="Show clearly").click()
    expect(page.locator("#alerts")).to_contain_text("View not recorded")
    expect(video).to_have_count(0)
    expect(card.get_by_role("img", name=re.compile("Protected contact sheet"))).to_be_visible()
    expect(card.locator(".reveal-count")).to_have_text("0")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "review_item") == []


def test_the_intake_screen_plays_a_received_video_protected_until_shown_clearly(
    clearinghouse: str, page: Page, database: Database, corpus_images: list[Path], tmp_path: Path
) -> None:
    add_user(database, ANALYST, [Role.REVIEWER])
    reporter: Reporter = enrol(database, clearinghouse, "Example Platform", "example-platform")
    report = reporter.file([benign_video(corpus_images, tmp_path)])
    [video_file] = _files(database, report)
    _sign_in(page, clearinghouse, ANALYST, PASSWORD, f"/clearinghouse/reports/{report}")

    card = page.locator(f"#file-{video_file.id}")
    card.get_by_role("button", name="Reveal this video").click()
    video = card.locator("video")
    _protected_blur(video)
    expect(video).to_have_js_property("ended", True, timeout=PLAYBACK)
    expect(card.locator(".reveal-count")).to_have_text("0")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "intake_file") == []

    card.get_by_role("button", name="Show clearly").click()
    expect(video).to_have_css("filter", "none")
    expect(card.locator(".reveal-count")).to_have_text("1")
    assert _audit(database, AuditAction.MEDIA_VIEWED, "intake_file") == [str(video_file.id)]
    card.get_by_role("button", name="Protect again").click()
    expect(video).to_have_css("filter", PROTECTED)


@pytest.mark.parametrize(("radius", "fraction"), [(24, 0.15), (4, 0.025), (200, 1.25)])
def test_the_protected_playback_blur_follows_the_still_protection(
    radius: int, fraction: float
) -> None:
    """The default (strong, grayscale) blur of a still, as a fraction of the longer side:
    twice [review] blur_radius on a 320-pixel picture; sent with every hand-out."""
    settings = ReviewSettings(blur_radius=radius)
    assert protected_playback_blur(settings) == pytest.approx(fraction)
    headers = handed_out_headers("video", "check", settings)
    assert float(headers["X-Vigil-Protected-Blur"]) == pytest.approx(fraction)
