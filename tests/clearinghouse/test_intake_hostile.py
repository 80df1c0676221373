"""Malformed, hostile and oversized input: every one answered with the documented error
document (and a Request-ID), none crashing the service or leaving a half-stored report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from tests import decode_bombs
from tests.api.service import running, service_settings
from tests.clearinghouse.conftest import MAX_BYTES, PASSWORD, USERNAME, Intake, basic
from tests.clearinghouse.documented import DOCUMENTATION, file_details_xml, report_xml
from vigil.api.intake.documents import report_done_response
from vigil.clearinghouse.codes import ResponseCode
from vigil.clearinghouse.companies import add_company
from vigil.fingerprint import limits
from vigil.store import Database
from vigil.store.evidence import LocalEvidenceBackend
from vigil.store.models.intake import IntakeFile, IntakeReport, IntakeState

SCHEMA = DOCUMENTATION.parent / "report.xsd"
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<report><incidentSummary><incidentType>&xxe;</incidentType></incidentSummary>"
    b"</report>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10)).replace(
        b"&lol0;", b"&lol;"
    )
    + b"]><report><additionalInfo>&lol9;</additionalInfo></report>"
)
UTF16_DOCTYPE = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e "x">]><report>&e;</report>'
).encode("utf-16")


def _code(answer: object) -> str:
    """The response code, from the document section 4 names for the endpoint: a
    <reportDoneResponse> for /finish (refusals too), a <reportResponse> otherwise."""
    assert answer.headers["Request-ID"]  # type: ignore[attr-defined]
    root = etree.fromstring(answer.content)  # type: ignore[attr-defined]
    finish = answer.request.url.path.endswith("/finish")  # type: ignore[attr-defined]
    assert root.tag == ("reportDoneResponse" if finish else "reportResponse")
    if not finish:  # <reportDoneResponse> has no description element
        assert root.findtext("responseDescription")
    return root.findtext("responseCode") or ""


def _count(intake: Intake, table: type) -> int:
    with intake.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _open(intake: Intake) -> str:
    answer = intake.post_xml("submit", report_xml())
    assert answer.status_code == 200
    return etree.fromstring(answer.content).findtext("reportId") or ""


def test_entity_attacks_are_refused(intake: Intake) -> None:
    for body in (XXE, LAUGHS, UTF16_DOCTYPE):
        answer = intake.post_xml("submit", body)
        assert answer.status_code == 400
        assert _code(answer) == "4110"
        assert b"root:" not in answer.content  # nothing of /etc/passwd
    assert _count(intake, IntakeReport) == 0


def test_entity_attack_in_file_details(intake: Intake) -> None:
    answer = intake.post_xml("fileinfo", XXE.replace(b"report", b"fileDetails"))
    assert (answer.status_code, _code(answer)) == (400, "4110")


def test_deep_nesting_is_refused(intake: Intake) -> None:
    depth = 5000
    body = b"<report>" + b"<a>" * depth + b"</a>" * depth + b"</report>"
    answer = intake.post_xml("submit", body)
    assert answer.status_code == 400
    assert _code(answer) in {"4110", "4100"}
    assert _count(intake, IntakeReport) == 0


def test_malformed_xml(intake: Intake) -> None:
    for body in (b"", b"not xml", b"<report>", b"\xff\xfe\x00<"):
        answer = intake.post_xml("submit", body)
        assert (answer.status_code, _code(answer)) == (400, "4110"), body


def test_invalid_report_and_wrong_root(intake: Intake) -> None:
    invalid = intake.post_xml("submit", b"<report><incidentSummary/></report>")
    assert (invalid.status_code, _code(invalid)) == (400, "4100")
    details = file_details_xml("1", "abc")
    wrong_root = intake.post_xml("submit", details)
    assert (wrong_root.status_code, _code(wrong_root)) == (400, "4100")
    assert _count(intake, IntakeReport) == 0


def test_wrong_content_types(intake: Intake) -> None:
    as_json = intake.post_xml("submit", report_xml(), **{"Content-Type": "application/json"})
    assert (as_json.status_code, _code(as_json)) == (415, "4000")
    report_id = _open(intake)
    upload_as_xml = intake.client.post(
        "/ispws/upload", content=b"<x/>", headers={**basic(), "Content-Type": "text/xml"}
    )
    assert (upload_as_xml.status_code, _code(upload_as_xml)) == (415, "4000")
    finish_as_xml = intake.client.post(
        "/ispws/finish",
        content=report_id.encode(),
        headers={**basic(), "Content-Type": "text/plain"},
    )
    assert (finish_as_xml.status_code, _code(finish_as_xml)) == (415, "4000")
    assert _count(intake, IntakeReport) == 1


def test_oversized_bodies_get_413_with_the_error_document(intake: Intake) -> None:
    report_id = _open(intake)
    too_big = b"x" * (MAX_BYTES + 1)
    answer = intake.post_form("upload", {"id": report_id}, {"file": ("big.bin", too_big)})
    assert answer.status_code == 413
    assert _code(answer) == "4000"

    def chunks() -> object:  # no Content-Length: cut off while streaming
        for _ in range(MAX_BYTES // 4096 + 2):
            yield b"<report>" + b" " * 4088

    streamed = intake.client.post(
        "/ispws/submit", content=chunks(), headers={**basic(), "Content-Type": "text/xml"}
    )
    assert streamed.status_code == 413
    assert _code(streamed) == "4000"
    assert _count(intake, IntakeFile) == 0
    finish = intake.post_form("finish", {"id": report_id, "padding": "x" * MAX_BYTES})
    assert (finish.status_code, _code(finish)) == (413, "4000")  # a <reportDoneResponse>


def test_every_finish_answer_is_a_report_done_response(intake: Intake) -> None:
    """Section 4: wrong method, no credentials and a refusal of /finish all answer with
    <reportDoneResponse>, valid against the schema (reportId 0 when none could be read)."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    answers = [
        intake.client.get("/ispws/finish", headers=basic()),
        intake.client.post("/ispws/finish", data={"id": "1"}),
        intake.post_form("finish", {"id": "abc"}),
    ]
    assert [(a.status_code, _code(a)) for a in answers] == [
        (404, "1210"),
        (401, "2000"),
        (400, "4000"),
    ]
    for answer in answers:
        root = etree.fromstring(answer.content)
        assert schema.validate(root.getroottree()), answer.content
        assert root.findtext("reportId") == "0"


def test_a_reason_never_breaks_the_comment_it_travels_in() -> None:
    body = report_done_response(7, [], ResponseCode.VALIDATION_FAILED, "a -- b --- c -")
    comments = etree.fromstring(body).xpath("//comment()")
    assert [c.text for c in comments] == [" a - - b - - - c  "]


def test_missing_report_id(intake: Intake) -> None:
    for endpoint in ("upload", "finish", "retract"):
        files = {"file": ("a.jpg", b"content")} if endpoint == "upload" else None
        answer = intake.post_form(endpoint, {"other": "1"}, files)
        assert (answer.status_code, _code(answer)) == (400, "4000"), endpoint


def test_bad_report_ids(intake: Intake) -> None:
    for report_id in ("", "abc", "-1", "1e3", "99999999999999999999", "\u0663", " "):
        answer = intake.post_form("finish", {"id": report_id})
        assert (answer.status_code, _code(answer)) == (400, "4000"), report_id


def test_unknown_report(intake: Intake) -> None:
    answer = intake.post_form("finish", {"id": "123456"})
    assert (answer.status_code, _code(answer)) == (400, "5001")


def test_upload_after_finish_and_finish_twice(intake: Intake) -> None:
    report_id = _open(intake)
    assert intake.post_form("finish", {"id": report_id}).status_code == 200
    upload = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", b"late")})
    assert (upload.status_code, _code(upload)) == (400, "5102")
    again = intake.post_form("finish", {"id": report_id})
    assert (again.status_code, _code(again)) == (400, "5102")
    retract = intake.post_form("retract", {"id": report_id})
    assert (retract.status_code, _code(retract)) == (400, "5102")
    assert _count(intake, IntakeFile) == 0


def test_upload_without_file_or_empty(intake: Intake) -> None:
    report_id = _open(intake)
    missing = intake.post_form("upload", {"id": report_id})
    assert (missing.status_code, _code(missing)) == (400, "4200")
    empty = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", b"")})
    assert (empty.status_code, _code(empty)) == (400, "4200")
    assert _count(intake, IntakeFile) == 0


def test_broken_multipart(intake: Intake) -> None:
    answer = intake.client.post(
        "/ispws/upload",
        content=b"--x\r\nnonsense",
        headers={**basic(), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert answer.status_code == 400
    assert _code(answer) in {"4200", "4000"}


def test_file_details_for_unknown_file_and_twice(intake: Intake) -> None:
    report_id = _open(intake)
    unknown = intake.post_xml("fileinfo", file_details_xml(report_id, "nope"))
    assert (unknown.status_code, _code(unknown)) == (400, "5002")
    upload = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", b"benign")})
    file_id = etree.fromstring(upload.content).findtext("fileId") or ""
    assert intake.post_xml("fileinfo", file_details_xml(report_id, file_id)).status_code == 200
    twice = intake.post_xml("fileinfo", file_details_xml(report_id, file_id))
    assert (twice.status_code, _code(twice)) == (400, "4000")


def test_failed_evidence_write_stores_no_half_file(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = _open(intake)

    def broken_write(self: LocalEvidenceBackend, blob_id: str, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(LocalEvidenceBackend, "write", broken_write)
    answer = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", b"benign")})
    assert (answer.status_code, _code(answer)) == (500, "1110")
    assert b"disk full" not in answer.content
    assert _count(intake, IntakeFile) == 0
    monkeypatch.undo()
    ok = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", b"benign")})
    assert ok.status_code == 200
    assert (
        etree.fromstring(ok.content).findtext("hash")
        == hashlib.md5(b"benign", usedforsecurity=False).hexdigest()
    )


def test_malformed_authorization(intake: Intake) -> None:
    # the last one is "usr123" without a colon
    for header in ("Bearer abc", "Basic !!!", "Basic " + "A" * 5000, "Basic dXNyMTIz"):
        answer = intake.client.get("/ispws/status", headers={"Authorization": header})
        assert (answer.status_code, _code(answer)) == (401, "2000"), header[:20]


def test_unknown_endpoint_and_method(intake: Intake) -> None:
    unknown = intake.client.post("/ispws/delete", headers=basic())
    assert (unknown.status_code, _code(unknown)) == (404, "1210")
    wrong_method = intake.client.get("/ispws/submit", headers=basic())
    assert (wrong_method.status_code, _code(wrong_method)) == (404, "1210")


def test_retract_twice(intake: Intake) -> None:
    report_id = _open(intake)
    assert intake.post_form("retract", {"id": report_id}).status_code == 200
    again = intake.post_form("retract", {"id": report_id})
    assert (again.status_code, _code(again)) == (400, "5101")
    with intake.database.session() as session:
        assert session.get(IntakeReport, int(report_id)).state == IntakeState.RETRACTED


def test_intake_is_absent_unless_enabled(database_url: str, tmp_path: Path) -> None:
    settings = service_settings(database_url, tmp_path / "data")
    for client in running(settings):
        assert isinstance(client, TestClient)
        answer = client.get("/ispws/status", headers=basic())
        assert answer.status_code == 404
        assert "Request-ID" not in answer.headers


@pytest.fixture
def busy_intake(database_url: str, tmp_path: Path, database: Database) -> Iterator[Intake]:
    """One decoder per worker, a short wait: a burst of decode bombs would hold it."""
    before = limits.process_limits()  # the app sets its process's limits: put them back
    settings = service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": MAX_BYTES},
        decoding={"concurrent": 1, "wait_seconds": 0.3},
    )
    with database.transaction(write=True) as session:
        add_company(session, "Example Platform", USERNAME, PASSWORD)
    try:
        for client in running(settings):
            yield Intake(client, database, settings)
    finally:
        limits.set_process_limits(before)


def test_upload_while_every_decoder_is_busy_is_a_plain_503(busy_intake: Intake) -> None:
    """Not a 500 with a traceback in the log: the company's client retries after the pause,
    and nothing was stored."""
    report_id = _open(busy_intake)
    picture = {"file": ("a.png", decode_bombs.png16(64, 64))}  # small, decodes at once
    with limits.slots_for(limits.process_limits()).slot():  # the one decoder is taken
        busy = busy_intake.post_form("upload", {"id": report_id}, picture)
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) >= 1
    assert _code(busy) == str(ResponseCode.UPLOAD_FAILED.value)
    assert _count(busy_intake, IntakeFile) == 0
    again = busy_intake.post_form("upload", {"id": report_id}, picture)
    assert (again.status_code, _code(again)) == (200, "0")
    assert _count(busy_intake, IntakeFile) == 1
