"""The clearinghouse analyst screens in a real browser, on reports filed through the real
intake API by two reporting companies (benign corpus and generated pictures only): the queue
with new material first, protected files and one audited reveal, labelling that makes the
next copy known, reports linked across companies with their cluster and their hand-over to
the analyst who took the first, no screens for those without the reviewer role, and hostile
input refused without a trace page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import APIResponse, ConsoleMessage, Page, Response, expect
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, service_settings
from tests.clearinghouse.intake_rows import report_xml
from tests.web.intake_filing import Reporter, enrol, generated_picture
from vigil.clearinghouse.labelling import LABELS_LIST, label_file
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    FileVerdict,
    HashList,
    IntakeFile,
    ListEntry,
    Role,
)

pytestmark = pytest.mark.browser
ANALYST = "analyst-ada"
AUDITOR = "auditor-ann"


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    """The console of a clearinghouse (overrides tests/web/conftest.py's plain console)."""
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": 8 << 20},
    )


@pytest.fixture
def reporters(console: str, database: Database) -> tuple[Reporter, Reporter]:
    add_user(database, ANALYST, [Role.REVIEWER])
    return (
        enrol(database, console, "Example Platform", "example-platform"),
        enrol(database, console, "Other Platform", "other-platform"),
    )


@dataclass
class ConsoleWatch:
    """What the page's console and scripts complained about."""

    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error":
            self.errors.append(f"{message.text} ({url})")


@pytest.fixture
def watch(page: Page) -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    page.on("console", watch.on_message)
    page.on("pageerror", lambda error: watch.exceptions.append(str(error)))
    yield watch


# --- the queue -----------------------------------------------------------------------------


def test_queue_shows_new_material_first_and_the_known_share(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    first, second = reporters
    fresh = first.file([corpus_images[1].read_bytes()])  # the oldest report, but new material
    labelled = first.file([corpus_images[2].read_bytes()])
    _label(database, labelled, "A1")
    copy = second.file([corpus_images[2].read_bytes()])
    again = second.file([corpus_images[1].read_bytes()])
    verdicts = {
        report: [f.verdict for f in _files(database, report)]
        for report in (fresh, labelled, copy, again)
    }
    assert verdicts == {
        fresh: [FileVerdict.NEW],
        labelled: [FileVerdict.KNOWN],
        copy: [FileVerdict.KNOWN],
        again: [FileVerdict.SEEN],
    }

    _sign_in(page, console, ANALYST, "/review")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clearinghouse").click()
    page.wait_for_url(f"{console}/clearinghouse")
    # new, then seen, then known; newest first within each
    assert _queue_order(page) == [fresh, again, copy, labelled]
    expect(page.locator("tbody tr").first).to_have_class("verdict-new")
    every = [verdict for files in verdicts.values() for verdict in files]
    share = sum(v in (FileVerdict.KNOWN, FileVerdict.SEEN) for v in every) / len(every)
    expect(page.locator("#known-seen-share")).to_have_text(f"{share * 100:.1f}%")
    expect(page.locator("#files-received")).to_have_text(str(len(every)))
    expect(page.locator("#new-files")).to_have_text(str(every.count(FileVerdict.NEW)))

    page.get_by_label("Reports with").select_option("known")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"verdict=known"))
    assert _queue_order(page) == [copy, labelled]
    _assert_quiet(watch)


# --- one report: protection, reveal, labelling ----------------------------------------------
def test_the_reveal_key_works_on_a_received_report(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    """`r` reveals the current file here as on the case screen (the first file is current)."""
    report = reporters[0].file([corpus_images[4].read_bytes(), corpus_images[5].read_bytes()])
    first, second = _files(database, report)
    _sign_in(page, console, ANALYST, "/clearinghouse")
    page.goto(f"{console}/clearinghouse/reports/{report}")
    expect(page.locator(f"#file-{first.id}")).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")
    expect(page.locator(f"#file-{first.id} .reveal-count")).to_have_text("1")
    assert _media_views(database) == [(f"user:{ANALYST}", str(first.id), report)]
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page.locator(f"#file-{second.id}")).to_have_attribute("aria-current", "true")
    _assert_quiet(watch)


def test_files_are_blurred_until_an_audited_reveal(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    console_settings: Settings,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    original = corpus_images[3].read_bytes()
    report = reporters[0].file([original])
    [file] = _files(database, report)
    _sign_in(page, console, ANALYST, "/clearinghouse")
    served: list[Response] = []  # everything the report page makes the browser fetch
    page.on("response", lambda answer: served.append(answer))
    page.goto(f"{console}/clearinghouse/reports/{report}")

    item = page.locator(f"#file-{file.id}")
    image = item.locator("img")
    expect(image).to_have_attribute(
        "src", re.compile(rf"^/clearinghouse/files/{file.id}/preview\?view=grayscale_blur$")
    )
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
    )
    bodies = _bodies(served)
    assert not any("/reveal" in url for url in bodies)
    assert original not in bodies.values()  # no unblurred bytes before the reveal
    preview = next(body for url, body in bodies.items() if "/preview" in url)
    _assert_protected(preview, original, console_settings.review.preview_pixels)
    assert _media_views(database) == []

    item.get_by_role("button", name="Reveal this file").click()
    expect(item.locator(".reveal-count")).to_have_text("1")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    with Image.open(io.BytesIO(original)) as picture:
        width = picture.width
    page.wait_for_function(
        "([image, width]) => image.naturalWidth === width", arg=[image.element_handle(), width]
    )
    assert _media_views(database) == [(f"user:{ANALYST}", str(file.id), report)]
    page.keyboard.press("Escape")  # back to the protected rendering
    expect(image).to_have_attribute("src", re.compile(r"/preview\?view="))
    page.reload()  # the count is kept, from the audit log
    expect(page.locator(f"#file-{file.id} .reveal-count")).to_have_text("1")
    _assert_quiet(watch)


def test_labelling_makes_a_later_copy_known(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    watch: ConsoleWatch,
) -> None:
    first, second = reporters
    picture = generated_picture("labelled at the clearinghouse")
    report = first.file([picture])
    [file] = _files(database, report)
    assert file.verdict is FileVerdict.NEW
    _sign_in(page, console, ANALYST, f"/clearinghouse/reports/{report}")

    page.locator(f"#file-{file.id}").get_by_role("button", name="B1", exact=True).click()
    item = page.locator(f"#file-{file.id}")  # swapped by HTMX
    expect(item.get_by_role("status")).to_contain_text("Labelled B1")
    expect(item.get_by_role("button", name="B1", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    assert _listed(database, file.sha256) == ["B1"]
    [labelled] = _files(database, report)
    assert (labelled.verdict, labelled.classification) == (FileVerdict.KNOWN, "B1")

    later = second.file([picture])
    [copy] = _files(database, later)
    assert (copy.verdict, copy.classification) == (FileVerdict.KNOWN, "B1")
    page.goto(f"{console}/clearinghouse/reports/{later}")
    shown = page.locator(f"#file-{copy.id}")
    expect(shown.locator(".verdict")).to_have_text("Known")
    expect(shown).to_contain_text("classification B1")
    expect(shown).to_contain_text("No need to view it")
    _assert_quiet(watch)


# --- linked reports ------------------------------------------------------------------------


def test_linked_reports_across_companies_and_their_cluster(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    first, second = reporters
    earlier = first.file(
        [corpus_images[4].read_bytes()],
        report_xml(email="Suspect@Example.net", reporter_email="safety@example.com"),
    )
    later = second.file(
        [corpus_images[5].read_bytes()],
        report_xml(email="suspect@example.net", reporter_email="trust@other.example"),
    )
    unrelated = second.file(
        [corpus_images[6].read_bytes()],
        report_xml(email="someone-else@example.org", reporter_email="trust@other.example"),
    )
    _sign_in(page, console, ANALYST, f"/clearinghouse/reports/{later}")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Report {later} from Other Platform")
    linked = page.locator("section[aria-labelledby=linked-title] tbody tr")
    expect(linked).to_have_count(1)
    expect(linked.first).to_contain_text("Example Platform")
    expect(linked.first).to_contain_text("email: suspect@example.net")  # normalised
    expect(linked.first.get_by_role("link")).to_have_attribute(
        "href", f"/clearinghouse/reports/{earlier}"
    )
    expect(page.locator("section.deconfliction")).to_have_count(0)  # nobody handles either
    expect(page.locator(f'a[href="/clearinghouse/reports/{unrelated}"]')).to_have_count(0)

    graph = page.get_by_role("img", name=re.compile("Graph of 2 linked reports"))
    expect(graph).to_be_visible()
    expect(graph.locator("circle")).to_have_count(2)
    expect(graph.locator("line")).to_have_count(1)
    box = graph.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    graph.locator(f'a[href="/clearinghouse/reports/{earlier}"] circle').click()
    page.wait_for_url(f"{console}/clearinghouse/reports/{earlier}")
    expect(page.locator("section[aria-labelledby=linked-title] tbody tr")).to_contain_text(
        "Other Platform"
    )
    expect(page.locator("svg.cluster circle")).to_have_count(2)
    _assert_quiet(watch)


def test_a_taken_report_pulls_later_linked_reports_to_its_analyst(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    first, second = reporters
    naming = report_xml(email="suspect@example.net")
    earlier = first.file([corpus_images[10].read_bytes()], naming)
    _sign_in(page, console, ANALYST, f"/clearinghouse/reports/{earlier}")
    handler = page.locator("#handler")
    expect(handler).to_contain_text("Nobody yet.")
    handler.get_by_role("button", name="Take this report").click()
    expect(page.locator("#handler strong")).to_have_text(ANALYST)  # swapped by HTMX
    expect(page.locator("#handler").get_by_role("button", name="Release")).to_be_visible()

    later = second.file([corpus_images[11].read_bytes()], naming)
    page.goto(f"{console}/clearinghouse/reports/{later}")
    expect(page.locator("#handler strong")).to_have_text(ANALYST)
    notes = page.locator("section.deconfliction").get_by_role("note")
    expect(notes.filter(has_text="Handed over on arrival").get_by_role("link")).to_have_attribute(
        "href", f"/clearinghouse/reports/{earlier}"
    )
    expect(notes.filter(has_text=f"is handled by {ANALYST}").get_by_role("link")).to_have_attribute(
        "href", f"/clearinghouse/reports/{earlier}"
    )
    _assert_quiet(watch)


# --- who may not, and what is refused ------------------------------------------------------


def test_no_clearinghouse_screens_without_the_reviewer_role(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    corpus_images: list[Path],
) -> None:
    add_user(database, AUDITOR, [Role.AUDITOR])
    report = reporters[0].file([corpus_images[7].read_bytes()])
    [file] = _files(database, report)
    _sign_in(page, console, AUDITOR, "/docs")

    for path in ("/clearinghouse", f"/clearinghouse/reports/{report}"):
        answer = page.goto(f"{console}{path}")
        assert answer is not None and answer.status == 403
        expect(page.locator("body")).not_to_contain_text(f"Report {report}")
    preview = page.request.get(f"{console}/clearinghouse/files/{file.id}/preview")
    assert preview.status == 403 and not preview.headers["content-type"].startswith("image/")
    csrf = {"X-CSRF-Token": _csrf(page)}
    assert (
        page.request.post(f"{console}/clearinghouse/files/{file.id}/reveal", headers=csrf).status
        == 403
    )
    assert (
        page.request.post(
            f"{console}/clearinghouse/files/{file.id}/label",
            headers=csrf,
            form={"classification": "A1"},
        ).status
        == 403
    )
    assert _media_views(database) == []
    assert _files(database, report)[0].verdict is FileVerdict.NEW

    page.context.clear_cookies()  # and nobody signed in
    answer = page.goto(f"{console}/clearinghouse/reports/{report}")
    assert answer is not None
    assert answer.status in (401, 403) or page.url.startswith(f"{console}/login")
    expect(page.locator("body")).not_to_contain_text(f"Report {report}")


@pytest.mark.parametrize("report_id", ["0", "-1", str(2**63), "9" * 30, "abc", "99999", "1e3"])
def test_hostile_report_ids_are_refused_without_a_trace(
    reporters: tuple[Reporter, Reporter], page: Page, console: str, report_id: str
) -> None:
    _sign_in(page, console, ANALYST, "/clearinghouse")
    answer = page.goto(f"{console}/clearinghouse/reports/{report_id}")
    assert answer is not None and answer.status in (404, 422)
    _assert_no_trace(answer)


def test_hostile_label_and_reveal_requests_are_refused(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    database: Database,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    report = reporters[0].file([corpus_images[8].read_bytes()])
    [file] = _files(database, report)
    _sign_in(page, console, ANALYST, f"/clearinghouse/reports/{report}")

    chip = page.locator(f"#file-{file.id}").get_by_role("button", name="A1", exact=True)
    chip.evaluate("button => { button.value = 'Z9'; }")  # a tampered label form
    with page.expect_response(lambda r: r.url.endswith(f"/files/{file.id}/label")) as refused:
        chip.click()
    assert refused.value.status == 422
    _assert_no_trace(refused.value)
    expect(page.locator(f"#file-{file.id} .verdict")).to_have_text("New")  # nothing swapped

    base = f"{console}/clearinghouse/files"
    csrf = {"X-CSRF-Token": _csrf(page)}
    label, forged = f"{base}/{file.id}/label", {"X-CSRF-Token": "forged"}
    for answer, status in (
        (page.request.post(label, form={"classification": "A1"}), 403),  # no CSRF
        (page.request.post(label, form={"classification": "A1"}, headers=forged), 403),
        (page.request.post(f"{base}/{file.id}/reveal"), 403),
        (page.request.post(label, headers=csrf, form={"classification": "A1" * 50}), 422),
        (page.request.post(label, headers=csrf, form={"classification": "<script>"}), 422),
        (
            page.request.post(f"{base}/{2**63}/label", headers=csrf, form={"classification": "A1"}),
            422,
        ),
        (page.request.post(f"{base}/99999/reveal", headers=csrf), 404),
        (page.request.get(f"{base}/{'9' * 30}/preview"), 422),
    ):
        assert answer.status == status, (answer.url, answer.status)
        _assert_no_trace(answer)
    [unchanged] = _files(database, report)
    assert (unchanged.verdict, unchanged.classification) == (FileVerdict.NEW, None)
    assert _listed(database, file.sha256) == []
    assert _media_views(database) == []
    assert watch.exceptions == []


# --- helpers -------------------------------------------------------------------------------


def _sign_in(page: Page, console: str, username: str, landing: str) -> None:
    page.goto(f"{console}/login?next={landing}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{landing}")


def _csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "vigil_csrf")


def _queue_order(page: Page) -> list[int]:
    links = page.locator("tbody tr td:first-child a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return [int(href.rsplit("/", 1)[1]) for href in links]


def _bodies(responses: list[Response]) -> dict[str, bytes]:
    """The bodies the service sent (not redirects), by URL."""
    return {r.url: r.body() for r in responses if r.status == 200}


def _assert_protected(preview: bytes, original: bytes, max_side: int) -> None:
    with Image.open(io.BytesIO(original)) as source, Image.open(io.BytesIO(preview)) as shown:
        assert max(shown.size) <= max_side < max(source.size)
        red, green, blue = shown.convert("RGB").split()
        assert red.tobytes() == green.tobytes() == blue.tobytes()  # grayscale


def _assert_no_trace(answer: Response | APIResponse) -> None:
    """Refused as a short error (JSON, or for a page the browser opened, the console's
    refusal page), never a traceback or a debug page."""
    text = answer.text()
    assert "Traceback" not in text and 'File "' not in text
    if answer.headers["content-type"].startswith("text/html"):
        assert 'class="refused"' in text, text[:200]
    else:
        assert answer.headers["content-type"].startswith("application/json"), text[:200]


def _assert_quiet(watch: ConsoleWatch) -> None:
    assert watch.errors == [] and watch.exceptions == []


def _label(database: Database, report_id: int, classification: str) -> None:
    """As an analyst's label from another screen would: the domain function itself."""
    files = _files(database, report_id)
    with database.transaction(write=True) as session:
        for file in files:
            label_file(session, file.id, classification, actor="user:seed")


def _files(database: Database, report_id: int) -> list[IntakeFile]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(IntakeFile).where(IntakeFile.report_id == report_id).order_by(IntakeFile.id)
            )
        )


def _listed(database: Database, sha256: str) -> list[str | None]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(ListEntry.classification)
                .join(HashList, HashList.id == ListEntry.list_id)
                .where(HashList.name == LABELS_LIST, ListEntry.signal == sha256)
            )
        )


def _media_views(database: Database) -> list[tuple[str, str | None, int | None]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.action == AuditAction.MEDIA_VIEWED,
                AuditRecord.subject_type == "intake_file",
            )
            .order_by(AuditRecord.seq)
        ).all()
        return [(row.actor, row.subject_id, (row.details or {}).get("report_id")) for row in rows]


def test_markup_in_a_report_is_shown_as_text(
    reporters: tuple[Reporter, Reporter],
    page: Page,
    console: str,
    corpus_images: list[Path],
    watch: ConsoleWatch,
) -> None:
    # no spaces: Appendix B.2.1 wants a valid URL, and this one still breaks out of markup
    markup = '"><svg/onload=window.pwned=1>'
    escaped = markup.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    report = reporters[0].file(
        [corpus_images[9].read_bytes()], report_xml(url=f"https://example.net/{escaped}")
    )
    _sign_in(page, console, ANALYST, f"/clearinghouse/reports/{report}")
    page.get_by_text("All report fields").click()
    expect(page.locator("section[aria-labelledby=summary-title] table")).to_contain_text(markup)
    assert page.evaluate("window.pwned") is None  # the onerror handler never ran
    expect(page.locator("main [onload]")).to_have_count(0)
    _assert_quiet(watch)
