"""The administrator's scan-jobs page (issue 17): each backlog job's source, status (a job
whose process died says so), progress with rate and ETA, errors and matches queued against
released; the table refreshes itself; cancelling asks first, in the page, and the person sees
the new status; refusals are visible; a reviewer is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.api.scan_job_rows import RUNNING_SOURCE, Jobs, make_jobs
from tests.api.service import PASSWORD, add_user, console_sign_in, running
from vigil.core.settings import Settings
from vigil.screening.backlog.job_overview import PROCESS_GONE
from vigil.screening.backlog.scan_session import lock_name
from vigil.store import Database
from vigil.store.job_locks import held_alone
from vigil.store.models import Role, ScanJobStatus
from vigil.store.scan_jobs.jobs import ChunkTally, commit_chunk, get_job, start_job

PAGE = "/admin/scan-jobs"
REFRESH_WAIT = 12_000  # ms: the table refreshes every 5 s


@pytest.fixture
def jobs(database: Database, console_settings: Settings) -> Jobs:
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])
    return make_jobs(database)


def _sign_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login?next={PAGE}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{console}{PAGE}")


@pytest.mark.browser
def test_an_administrator_follows_a_job_and_cancels_it(
    page: Page, console: str, database: Database, jobs: Jobs
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with held_alone(database, lock_name(jobs.running)):  # its process is alive
        _sign_in(page, console, "root")
        row = page.locator(f'tr.scan-job-row[data-job="{jobs.running}"]')
        expect(row.locator("td.source")).to_have_text(RUNNING_SOURCE)
        expect(row.locator("td.status")).to_have_text("running")
        expect(row.locator("td.progress")).to_contain_text("250 of 1,000 objects (25.0%)")
        expect(row.locator("progress")).to_have_attribute("value", "25.0")
        expect(row.locator("td.rate")).to_have_text("2.5 objects/s")
        expect(row.locator("td.eta")).to_have_text("5 min 0 s")
        done = page.locator(f'tr.scan-job-row[data-job="{jobs.completed}"]')
        expect(done.locator("td.matches")).to_contain_text("1 queued, 2 released to review")
        expect(done.get_by_role("button", name="Cancel")).to_have_count(0)

        # the table follows the job without a reload (hx-trigger="every 5s")
        with database.transaction(write=True) as session:
            commit_chunk(session, jobs.running, ChunkTally(2, "k500", 250, 1, 3), [])
        expect(row.locator("td.progress")).to_contain_text(
            "500 of 1,000 objects (50.0%)", timeout=REFRESH_WAIT
        )
        expect(row.locator("td.errors")).to_have_text("3")
        page.wait_for_load_state("networkidle")  # HTMX wires the swapped-in form

        row.get_by_role("button", name="Cancel").click()
        question = page.get_by_role("alertdialog")
        expect(question).to_contain_text(f"This cancels scan job {jobs.running} for good")
        question.get_by_role("button", name="Cancel the job").click()
        expect(page.get_by_role("status")).to_contain_text(f"Scan job {jobs.running} is cancelled")
        expect(row.locator("td.status")).to_have_text("cancelled")
        expect(row.locator("td.eta")).to_have_text("-")
        expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert dialogs == []  # asked in the page, never in the browser's confirm() dialog
    with database.transaction() as session:
        assert get_job(session, jobs.running).status is ScanJobStatus.CANCELLED


@pytest.mark.browser
def test_keeping_the_job_cancels_nothing(
    page: Page, console: str, database: Database, jobs: Jobs
) -> None:
    """Escape or "Keep the job" close the question and give the focus back; while it is open
    the table holds its refresh (which would wipe the question), and takes it up after."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, console, "root")
    row = page.locator(f'tr.scan-job-row[data-job="{jobs.interrupted}"]')
    expect(row.locator("td.status")).to_have_text("interrupted")
    expect(row.locator("td.progress")).to_contain_text("40 objects (total not known)")
    page.wait_for_load_state("networkidle")
    cancel = row.get_by_role("button", name="Cancel")
    question = page.get_by_role("alertdialog")
    cancel.click()
    expect(question.get_by_role("button", name="Keep the job")).to_be_focused()
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(cancel).to_be_focused()

    cancel.click()
    running = page.locator(f'tr.scan-job-row[data-job="{jobs.running}"] td.progress')
    with database.transaction(write=True) as session:
        commit_chunk(session, jobs.running, ChunkTally(2, "k500", 250, 1, 3), [])
    page.wait_for_timeout(REFRESH_WAIT)  # a refresh or two would have come in this time
    expect(question).to_be_visible()
    expect(running).to_contain_text("250 of 1,000 objects")  # held
    question.get_by_role("button", name="Keep the job").click()
    expect(question).to_have_count(0)
    expect(running).to_contain_text("500 of 1,000 objects", timeout=REFRESH_WAIT)  # taken up
    expect(row.locator("td.status")).to_have_text("interrupted")
    assert dialogs == []
    with database.transaction() as session:
        assert get_job(session, jobs.interrupted).status is ScanJobStatus.INTERRUPTED


@pytest.mark.browser
def test_a_reviewer_is_refused_the_page(page: Page, console: str, jobs: Jobs) -> None:
    _sign_in(page, console, "reviewer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for your account")
    expect(page.locator("tr.scan-job-row")).to_have_count(0)
    expect(page.get_by_role("link", name="Scan jobs")).to_have_count(0)


@pytest.fixture
def client(console_settings: Settings, database: Database) -> Iterator[TestClient]:
    yield from running(console_settings)


def test_a_dead_process_and_the_navigation(client: TestClient, jobs: Jobs) -> None:
    console_sign_in(client, "root")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert PROCESS_GONE in page.text  # nobody holds the running job's lock
    assert '<a href="/admin/scan-jobs" aria-current="page">Scan jobs</a>' in page.text
    table = client.get(f"{PAGE}/table")
    assert table.status_code == 200
    assert 'id="scan-jobs"' in table.text and "<h1>" not in table.text
    assert 'hx-trigger="every 5s"' in table.text


def test_cancelling_what_cannot_be_cancelled_says_why(
    client: TestClient, database: Database, jobs: Jobs
) -> None:
    csrf = console_sign_in(client, "root")
    ended = client.post(f"{PAGE}/cancel", headers=csrf, data={"job_id": str(jobs.completed)})
    assert ended.status_code == 409 and 'role="alert"' in ended.text
    assert f"Nothing changed: scan job {jobs.completed} is already completed." in ended.text
    missing = client.post(f"{PAGE}/cancel", headers=csrf, data={"job_id": "424242"})
    assert missing.status_code == 404 and "Nothing changed: no scan job 424242." in missing.text
    for form in ({}, {"job_id": "x"}, {"job_id": "0"}, {"job_id": str(2**31)}, {"job_id": "1;"}):
        assert client.post(f"{PAGE}/cancel", headers=csrf, data=form).status_code == 422, form
    forged = client.post(f"{PAGE}/cancel", data={"job_id": str(jobs.interrupted)})
    assert forged.status_code == 403
    reviewer = console_sign_in(client, "reviewer")
    refused = client.post(f"{PAGE}/cancel", headers=reviewer, data={"job_id": str(jobs.running)})
    assert refused.status_code == 403
    assert client.get(f"{PAGE}/table").status_code == 403
    with database.transaction() as session:
        assert get_job(session, jobs.interrupted).status is ScanJobStatus.INTERRUPTED
        assert get_job(session, jobs.running).status is ScanJobStatus.RUNNING


def test_a_hostile_source_is_shown_as_text(client: TestClient, database: Database) -> None:
    add_user(database, "root", [Role.ADMIN])
    with database.transaction(write=True) as session:
        start_job(
            session,
            source='s3://b/<script>alert("x")</script>',
            engine="local",
            options={},
            store_dir="/d",
        )
    console_sign_in(client, "root")
    page = client.get(PAGE)
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text


def test_without_jobs_the_page_says_how_to_start_one(
    client: TestClient, database: Database
) -> None:
    add_user(database, "root", [Role.ADMIN])
    console_sign_in(client, "root")
    page = client.get(PAGE)
    assert page.status_code == 200 and "No scan job yet" in page.text
    assert "vigil scan SOURCE" in page.text
