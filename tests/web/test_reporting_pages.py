"""Reporting and law-enforcement requests through the console, end to end over HTTP on the
demo data (benign pictures only), with the default destination: an XML file for manual
upload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import (
    add_key,
    add_user,
    console_sign_in,
    running,
    service_settings,
)
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import Settings
from vigil.reporting.filing import file_case_report
from vigil.reporting.response_package import verify_response_package
from vigil.store import Database
from vigil.store.evidence import active_holds
from vigil.store.models import (
    Case,
    CustodyEvent,
    HoldKind,
    LegalRequest,
    Report,
    ReportCase,
    ReportKind,
    ReportState,
    Role,
    utcnow,
)
from vigil.store.shared.vocabulary import INCIDENT_TYPES

REPORTER = {
    "reporter_company": "Example Platform",
    "reporter_contact_name": "Trust Team",
    "reporter_contact_email": "trust@example.org",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data", reporting=REPORTER)


@pytest.fixture
def console(
    settings: Settings, corpus_images: list[Path], database: Database
) -> Iterator[TestClient]:
    seed_demo(settings, corpus_images[0].parent)
    add_user(database, "rev", [Role.REVIEWER])
    add_user(database, "filer", [Role.REPORT_SUBMITTER])
    yield from running(settings)


def _confirmed_case(client: TestClient, database: Database) -> Case:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == "acct-1001")).one()
    csrf = console_sign_in(client, "rev")
    client.post(
        f"/review/cases/{case.public_id}/incident-type",
        headers=csrf,
        data={"value": INCIDENT_TYPES[0]},
    )
    for item in case.items:  # known material: confirmed on its inherited classification
        answer = client.post(
            f"/review/cases/{case.public_id}/decide",
            headers=csrf,
            data={"kind": "confirm", "item_id": item.id},
        )
        assert answer.status_code == 200, answer.text
    return case


def _filing(case: Case) -> dict[str, str]:
    """The filing form: the incident type is always the person's explicit choice."""
    return {"case_id": case.public_id, "incident_type": INCIDENT_TYPES[0]}


def test_a_confirmed_case_is_filed_preserved_and_not_filed_twice(
    console: TestClient, database: Database, settings: Settings
) -> None:
    case = _confirmed_case(console, database)
    csrf = console_sign_in(console, "filer")
    assert case.public_id[:8] in console.get("/reports").text
    console.post("/reports/file", headers=csrf, data=_filing(case))
    with database.transaction() as session:
        [report] = session.scalars(select(Report)).all()
        assert report.state is ReportState.FINISHED and report.package_sha256
        files = [(f.evidence_item_id, f.viewed_by_esp) for f in report.files]
        holds = [active_holds(session, item_id, utcnow()) for item_id, _ in files]
    written = settings.data_dir / "reports" / f"{report.public_id}.xml"
    assert written.is_file() and b"<report" in written.read_bytes()
    assert files and not any(viewed for _, viewed in files)  # nobody revealed them
    assert all(any(h.kind is HoldKind.REPORT for h in item_holds) for item_holds in holds)
    again = console.post("/reports/file", headers=csrf, data=_filing(case))
    assert again.status_code == 422 and "already reported" in again.text


def test_an_unconfirmed_case_cannot_be_filed(console: TestClient, database: Database) -> None:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == "acct-2001")).one()
    csrf = console_sign_in(console, "filer")
    answer = console.post("/reports/file", headers=csrf, data=_filing(case))
    assert answer.status_code == 422 and "cannot be filed" in answer.json()["error"]["message"]
    with database.transaction() as session:
        assert session.scalars(select(Report)).all() == []


def test_an_emergency_request_gets_its_package(console: TestClient, database: Database) -> None:
    case = _confirmed_case(console, database)
    csrf = console_sign_in(console, "filer")
    console.post("/reports/file", headers=csrf, data=_filing(case))
    console.post(
        "/legal",
        headers=csrf,
        data={"agency": "Example Police", "agency_case_number": "EP-1", "kind": "subpoena"},
    )
    console.post(
        "/legal",
        headers=csrf,
        data={
            "agency": "Example Police",
            "agency_case_number": "EP-2",
            "kind": "emergency",
            "account_id": "acct-1001",
        },
    )
    board = console.get("/legal").text
    assert board.index("EP-2") < board.index("EP-1")  # the emergency first
    with database.transaction() as session:
        emergency = session.scalars(
            select(LegalRequest).where(LegalRequest.agency_case_number == "EP-2")
        ).one()
    built = console.post(f"/legal/{emergency.public_id}/package", headers=csrf)
    assert built.status_code == 200 and built.headers["content-type"] == "application/zip"
    assert verify_response_package(built.content).ok
    with database.transaction() as session:
        custody = session.scalars(select(CustodyEvent)).all()
    assert [event.sha256 for event in custody] == [built.headers["x-vigil-package-sha256"]]


def test_filing_needs_the_reporter_configured(
    database_url: str, tmp_path: Path, corpus_images: list[Path], database: Database
) -> None:
    settings = service_settings(database_url, tmp_path / "data")
    seed_demo(settings, corpus_images[0].parent)
    add_user(database, "rev", [Role.REVIEWER])
    add_user(database, "filer", [Role.REPORT_SUBMITTER])
    for client in running(settings):
        case = _confirmed_case(client, database)
        csrf = console_sign_in(client, "filer")
        answer = client.post("/reports/file", headers=csrf, data=_filing(case))
        assert answer.status_code == 422 and "reporter_company" in answer.text


def test_a_reported_account_always_has_records(console: TestClient, database: Database) -> None:
    case = _confirmed_case(console, database)
    csrf = console_sign_in(console, "filer")
    console.post("/reports/file", headers=csrf, data=_filing(case))
    found = console.get("/legal/lookup", params={"account_id": "acct-1001"})
    assert found.status_code == 200 and "preserved" in found.text
    unknown = console.get("/legal/lookup", params={"account_id": "never-seen"})
    assert unknown.status_code == 200 and 'role="alert"' not in unknown.text
    assert console.get("/legal/lookup", params={"report_id": "x" * 500}).status_code == 200


def test_a_viral_file_gets_one_batched_report(
    console: TestClient, database: Database, corpus_images: list[Path]
) -> None:
    screen = {"Authorization": f"Bearer {add_key(database, 'platform', ['screen'])}"}
    listed = corpus_images[0].read_bytes()  # on the demo list
    for account in ("viral-a", "viral-b"):
        answer = console.post(
            "/v1/screen",
            headers=screen,
            files={"file": listed},
            data={"content_id": f"post-{account}", "account_id": account},
        )
        assert answer.json()["verdict"] == "match", answer.text
    csrf = console_sign_in(console, "rev")
    with database.transaction() as session:
        cases = session.scalars(
            select(Case).where(Case.platform_account_id.in_(["viral-a", "viral-b"]))
        ).all()
        work = [(case.public_id, case.items[0].id) for case in cases]
    for case_id, item_id in work:
        console.post(
            f"/review/items/{item_id}/classify",
            headers=csrf,
            data={"classification": "", "annotations": ["viral"]},
        )
        console.post(
            f"/review/cases/{case_id}/decide",
            headers=csrf,
            data={"kind": "confirm", "item_id": item_id},
        )
    csrf = console_sign_in(console, "filer")
    sha256 = hashlib.sha256(listed).hexdigest()
    assert sha256[:16] in console.get("/reports").text
    console.post(
        "/reports/viral", headers=csrf, data={"sha256": sha256, "incident_type": INCIDENT_TYPES[0]}
    )
    with database.transaction() as session:
        [report] = session.scalars(select(Report).where(Report.kind == ReportKind.BATCHED)).all()
        assert report.state is ReportState.FINISHED
        covered = session.scalars(
            select(ReportCase.case_id).where(ReportCase.report_id == report.id)
        ).all()
    assert len(covered) == 2 and "viral-a" in report.xml and "viral-b" in report.xml
    again = console.post(
        "/reports/viral", headers=csrf, data={"sha256": sha256, "incident_type": INCIDENT_TYPES[0]}
    )
    assert again.status_code == 422


def test_a_report_page_shows_its_files_and_can_be_retracted(
    console: TestClient, database: Database
) -> None:
    case = _confirmed_case(console, database)
    csrf = console_sign_in(console, "filer")
    with database.transaction(write=True) as session:  # queued, not yet sent
        [report] = file_case_report(
            session, case.public_id, settings=_settings(console), actor="user:filer"
        )
        report_id = report.public_id
    page = console.get(f"/reports/{report_id}")
    assert page.status_code == 200 and "draft" in page.text and "Retract" in page.text
    assert (
        console.post(f"/reports/{report_id}/retract", headers=csrf, data={"reason": ""}).status_code
        == 422
    )
    console.post(f"/reports/{report_id}/retract", headers=csrf, data={"reason": "filed by mistake"})
    with database.transaction() as session:
        retracted = session.scalars(select(Report).where(Report.public_id == report_id)).one()
    assert retracted.state is ReportState.RETRACTED
    assert console.get("/reports/" + "0" * 32).status_code == 404


def _settings(client: TestClient) -> Settings:
    return client.app.state.vigil.settings  # type: ignore[attr-defined]


def test_each_xml_download_is_in_the_audit_log(console: TestClient, database: Database) -> None:
    """A submitter downloads the report's XML and a file's details; an auditor sees both
    downloads in /audit, with the report and who downloaded it."""
    add_user(database, "audrey", [Role.AUDITOR])
    case = _confirmed_case(console, database)
    csrf = console_sign_in(console, "filer")
    console.post("/reports/file", headers=csrf, data=_filing(case))
    with database.transaction() as session:
        [report] = session.scalars(select(Report)).all()
        report_id, details = report.public_id, report.files[0].file_details_xml
    document = console.get(f"/reports/{report_id}/report.xml")
    assert document.status_code == 200 and document.content.startswith(b"<")
    assert "attachment" in document.headers["content-disposition"]
    file_details = console.get(f"/reports/{report_id}/files/1/details.xml")
    assert file_details.status_code == 200 and file_details.text == details
    assert console.get(f"/reports/{report_id}/files/99/details.xml").status_code == 404
    assert console.get(f"/reports/{'0' * 32}/report.xml").status_code == 404
    console_sign_in(console, "audrey")
    log = console.get(f"/audit?action=export&subject={report_id}", headers={"Accept": "text/html"})
    assert log.status_code == 200 and log.text.count('class="audit-row"') == 2
    assert log.text.count("user:filer") == 2
    assert "manual_upload" in log.text and "file_details" in log.text
