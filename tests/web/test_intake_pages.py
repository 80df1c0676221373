"""The clearinghouse analyst screens over HTTP: new material first, linked reports across
companies, protected previews, audited reveals, labelling that makes the next copy known,
and hostile ids (benign corpus pictures only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, running, service_settings
from tests.clearinghouse.conftest import OTHER_USERNAME, USERNAME, basic
from tests.clearinghouse.documented import report_xml
from tests.clearinghouse.intake_rows import report_xml as report_naming
from tests.screening.listed import fingerprint, make_list
from vigil.clearinghouse.companies import add_company
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import AuditRecord, FileVerdict, IntakeFile, Role
from vigil.store.models.audit import AuditAction


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": 8 << 20},
    )


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with database.transaction(write=True) as session:
        add_company(session, "Example Platform", USERNAME, "pswd123-long-enough")
        add_company(session, "Other Platform", OTHER_USERNAME, "pswd123-long-enough")
    add_user(database, "analyst", [Role.REVIEWER])
    add_user(database, "auditor", [Role.AUDITOR])
    yield from running(settings)


def _file_report(
    client: TestClient, images: list[bytes], username: str = USERNAME, document: bytes | None = None
) -> int:
    auth = basic(username, "pswd123-long-enough")
    answer = client.post(
        "/ispws/submit",
        content=document or report_xml(),
        headers={**auth, "Content-Type": "text/xml"},
    )
    assert answer.status_code == 200, answer.text
    report_id = etree.fromstring(answer.content).findtext("reportId")
    for index, content in enumerate(images):
        uploaded = client.post(
            "/ispws/upload",
            data={"id": report_id},
            files={"file": (f"f{index}.jpg", content)},
            headers=auth,
        )
        assert uploaded.status_code == 200, uploaded.text
    assert client.post("/ispws/finish", data={"id": report_id}, headers=auth).status_code == 200
    return int(report_id)


def _files(database: Database, report_id: int) -> list[IntakeFile]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(IntakeFile).where(IntakeFile.report_id == report_id).order_by(IntakeFile.id)
            )
        )


def test_queue_lists_new_material_first_with_the_known_share(
    client: TestClient, database: Database, corpus_images: list[Path], tmp_path: Path
) -> None:
    known = corpus_images[0]
    make_list(database, "hotline-labels", [("pdq", fingerprint(known).pdq, "h-1")], tmp_path)
    client.app.state.vigil.screening.matcher.live.poll()
    known_only = _file_report(client, [known.read_bytes()])
    fresh = _file_report(client, [corpus_images[5].read_bytes()])
    console_sign_in(client)
    page = client.get("/clearinghouse")
    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'href="/clearinghouse/reports/(\d+)"', page.text)]
    assert order.index(fresh) < order.index(known_only)
    assert 'id="known-seen-share">50.0%' in page.text  # one known file of two
    assert 'id="files-received">2<' in page.text
    assert 'href="/clearinghouse"' in page.text  # the nav link
    only_known = client.get("/clearinghouse?verdict=known").text
    assert f"/clearinghouse/reports/{known_only}" in only_known
    assert f'/clearinghouse/reports/{fresh}"' not in only_known
    assert client.get("/clearinghouse?verdict=bogus").status_code == 422


def test_report_page_shows_reports_linked_across_companies(
    client: TestClient, corpus_images: list[Path]
) -> None:
    first = _file_report(
        client,
        [corpus_images[1].read_bytes()],
        document=report_naming(email="Suspect@Example.net", reporter_email="safety@example.com"),
    )
    second = _file_report(
        client,
        [corpus_images[2].read_bytes()],
        OTHER_USERNAME,
        report_naming(email="suspect@example.net", reporter_email="trust@other.example"),
    )
    console_sign_in(client)
    page = client.get(f"/clearinghouse/reports/{second}")
    assert page.status_code == 200
    assert "Other Platform" in page.text and "Child Sex Trafficking" in page.text
    linked = page.text.split('id="linked-title"')[1].split("</section>")[0]
    assert f"/clearinghouse/reports/{first}" in linked and "Example Platform" in linked
    assert "email: suspect@example.net" in linked  # what they share, normalised
    assert "Deconfliction" not in page.text  # nobody handles the earlier report yet
    assert "<svg" in page.text and "Links between them" in page.text
    assert "<report" not in page.text  # the reporter's XML is never markup here


def test_preview_is_protected_and_needs_media_view(
    client: TestClient, database: Database, corpus_images: list[Path]
) -> None:
    original = corpus_images[3].read_bytes()
    report_id = _file_report(client, [original])
    [file] = _files(database, report_id)
    console_sign_in(client)
    preview = client.get(f"/clearinghouse/files/{file.id}/preview")
    assert preview.status_code == 200, preview.text
    assert preview.headers["cache-control"] == "no-store"
    assert preview.headers["content-type"].startswith("image/")
    assert preview.content != original and len(preview.content) < len(original)
    console_sign_in(client, "auditor")
    assert client.get(f"/clearinghouse/files/{file.id}/preview").status_code == 403
    assert client.get(f"/clearinghouse/reports/{report_id}").status_code == 403


def test_reveal_is_audited(
    client: TestClient, database: Database, corpus_images: list[Path]
) -> None:
    original = corpus_images[4].read_bytes()
    [file] = _files(database, _file_report(client, [original]))
    csrf = console_sign_in(client)
    assert client.post(f"/clearinghouse/files/{file.id}/reveal").status_code == 403  # no CSRF
    answer = client.post(f"/clearinghouse/files/{file.id}/reveal", headers=csrf)
    assert answer.status_code == 200 and answer.content == original
    assert answer.headers["cache-control"] == "no-store"
    # the view is recorded once the browser says it showed the file (issue 18)
    check = {"check": answer.headers["x-vigil-view-check"]}
    shown = client.post(f"/clearinghouse/files/{file.id}/viewed", headers=csrf, json=check)
    assert shown.status_code == 200 and shown.json()["reveals"] == 1
    with database.transaction() as session:
        [record] = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == AuditAction.MEDIA_VIEWED,
                AuditRecord.subject_type == "intake_file",
            )
        ).all()
    assert (record.actor, record.subject_id) == ("user:analyst", str(file.id))


def test_labelling_makes_the_next_copy_known(
    client: TestClient, database: Database, corpus_images: list[Path]
) -> None:
    image = corpus_images[6].read_bytes()
    [file] = _files(database, _file_report(client, [image]))
    assert file.verdict is FileVerdict.NEW
    csrf = console_sign_in(client)
    refused = client.post(
        f"/clearinghouse/files/{file.id}/label", headers=csrf, data={"classification": "Z9"}
    )
    assert refused.status_code == 422
    answer = client.post(
        f"/clearinghouse/files/{file.id}/label", headers=csrf, data={"classification": "B1"}
    )
    assert answer.status_code == 200 and f'id="file-{file.id}"' in answer.text
    assert "B1" in answer.text and "<html" not in answer.text  # a fragment
    client.app.state.vigil.screening.matcher.live.poll()  # the index follows the feed
    [copy] = _files(database, _file_report(client, [image], OTHER_USERNAME))
    assert (copy.verdict, copy.classification) == (FileVerdict.KNOWN, "B1")


def test_a_taken_report_pulls_later_linked_reports_to_its_analyst(
    client: TestClient, database: Database, corpus_images: list[Path]
) -> None:
    first = _file_report(
        client, [corpus_images[1].read_bytes()], document=report_naming(email="suspect@example.net")
    )
    csrf = console_sign_in(client)
    taken = client.post(
        f"/clearinghouse/reports/{first}/assign", data={"action": "take"}, headers=csrf
    )
    assert taken.status_code == 200 and "Release" in taken.text and "analyst" in taken.text
    second = _file_report(
        client,
        [corpus_images[2].read_bytes()],
        OTHER_USERNAME,
        report_naming(email="Suspect@example.net"),
    )
    page = client.get(f"/clearinghouse/reports/{second}")
    handled = page.text.split('id="handler-title"')[1].split("</section>")[0]
    assert "analyst" in handled
    note = page.text.split('id="deconflict-title"')[1].split("</section>")[0]
    assert f"report {first}" in note and "Handed over on arrival" in note
    with database.transaction() as session:
        actions = [
            (r.actor, r.subject_id)
            for r in session.scalars(
                select(AuditRecord).where(AuditRecord.action == AuditAction.ASSIGNMENT)
            )
        ]
    assert actions == [("user:analyst", str(first)), ("deconfliction", str(second))]


def test_assignment_needs_triage_rights_and_a_finished_report(client: TestClient) -> None:
    first = _file_report(client, [b"not an image"])
    csrf = console_sign_in(client, "auditor")
    assert (
        client.post(
            f"/clearinghouse/reports/{first}/assign", data={"action": "take"}, headers=csrf
        ).status_code
        == 403
    )
    csrf = console_sign_in(client)
    for report_id in ("99999", "0", "9" * 30):
        assert client.post(
            f"/clearinghouse/reports/{report_id}/assign", data={"action": "take"}, headers=csrf
        ).status_code in (404, 422)
    assert (
        client.post(
            f"/clearinghouse/reports/{first}/assign", data={"action": "steal"}, headers=csrf
        ).status_code
        == 422
    )
    assert (
        client.post(f"/clearinghouse/reports/{first}/assign", data={"action": "take"}).status_code
        == 403
    )  # no CSRF token


@pytest.mark.parametrize(
    "path",
    [
        "/clearinghouse/reports/abc",
        "/clearinghouse/reports/" + "9" * 30,
        "/clearinghouse/reports/99999",
        "/clearinghouse/reports/-1",
        "/clearinghouse/files/abc/preview",
        "/clearinghouse/files/" + "9" * 30 + "/preview",
        "/clearinghouse/files/99999/preview",
    ],
)
def test_hostile_ids_are_refused(client: TestClient, path: str) -> None:
    console_sign_in(client)
    assert client.get(path).status_code in (404, 422)


def test_hostile_ids_on_unsafe_routes(client: TestClient) -> None:
    csrf = console_sign_in(client)
    for file_id in ("abc", "9" * 30, "99999", "0"):
        assert client.post(f"/clearinghouse/files/{file_id}/reveal", headers=csrf).status_code in (
            404,
            422,
        )
        assert client.post(
            f"/clearinghouse/files/{file_id}/label", headers=csrf, data={"classification": "A1"}
        ).status_code in (404, 422)
