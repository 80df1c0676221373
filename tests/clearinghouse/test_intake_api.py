"""The documentation's example transactions (section 5) and curl example (section 6) replayed
against the intake, with the documented request bodies, compared with the documented
response documents; what is stored; expiry of unfinished reports."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from importlib import resources
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from tests.clearinghouse.conftest import OTHER_USERNAME, PASSWORD, USERNAME, Intake, basic
from tests.clearinghouse.documented import canonical, file_details_xml, report_xml, response
from vigil.clearinghouse import intake as domain
from vigil.clearinghouse.companies import authenticate_company
from vigil.cli.app import app as cli_app
from vigil.store import Database
from vigil.store.evidence import EvidenceVault, HoldPolicy, active_holds
from vigil.store.models import utcnow
from vigil.store.models.intake import IntakeFile, IntakeReport, IntakeState

VIRAL_REPORT = (
    b'<?xml version="1.0" encoding="UTF-8"?><report>'
    b'<batchedReport reason="VIRAL_POTENTIAL_MEME"/><incidentSummary><incidentType>'
    b"Child Pornography (possession, manufacture, and distribution)</incidentType>"
    b"<incidentDateTime>2024-05-01T12:00:00Z</incidentDateTime></incidentSummary>"
    b"<reporter><reportingPerson><email>t@example.com</email></reportingPerson>"
    b"</reporter></report>"
)


def _file(n: int) -> bytes:
    return f"benign test file {n}\n".encode() * 40


def _submit(intake: Intake) -> str:
    answer = intake.post_xml("submit", report_xml())
    assert answer.status_code == 200, answer.text
    report_id = etree.fromstring(answer.content).findtext("reportId")
    assert report_id and report_id.isdigit()
    assert canonical(answer.content) == response("Submit Response", report_id=report_id)
    return report_id


def _upload(intake: Intake, report_id: str, content: bytes, name: str = "file.jpg") -> str:
    answer = intake.post_form("upload", {"id": report_id}, {"file": (name, content)})
    assert answer.status_code == 200, answer.text
    file_id = etree.fromstring(answer.content).findtext("fileId")
    assert file_id
    assert canonical(answer.content) == response(
        "File Upload Response",
        report_id=report_id,
        file_id=file_id,
        hash=hashlib.md5(content, usedforsecurity=False).hexdigest(),
    )
    return file_id


def _finish(intake: Intake, report_id: str, file_ids: list[str]) -> None:
    answer = intake.post_form("finish", {"id": report_id})
    assert answer.status_code == 200, answer.text
    files = "".join(f"<fileId>{f}</fileId>" for f in file_ids)
    expected = (
        f"<reportDoneResponse><responseCode>0</responseCode><reportId>{report_id}"
        f"</reportId><files>{files}</files></reportDoneResponse>"
    )
    assert canonical(answer.content) == canonical(expected.encode())
    if len(file_ids) == 1:
        assert canonical(answer.content) == response(
            "Finish Response", "reportDoneResponse", report_id=report_id, file_id=file_ids[0]
        )


def _report(intake: Intake, report_id: str) -> IntakeReport:
    with intake.database.session() as session:
        report = session.get(IntakeReport, int(report_id))
        assert report is not None
        session.expunge_all()
        return report


def test_status_names_the_user_and_address(intake: Intake) -> None:
    answer = intake.client.get("/ispws/status", headers=basic())
    assert answer.status_code == 200
    assert canonical(answer.content) == response(
        "Status Response", username=USERNAME, ip="testclient"
    )
    assert answer.headers["Request-ID"]


def test_xsd_serves_the_packaged_schema(intake: Intake) -> None:
    answer = intake.client.get("/ispws/xsd", headers=basic())
    packaged = resources.files("vigil.reporting.cybertipline").joinpath("report.xsd")
    assert answer.status_code == 200
    assert answer.content == packaged.read_bytes()


def test_curl_example_end_to_end(intake: Intake) -> None:
    """Section 6: open, upload, file details, finish, with the documented documents."""
    content = _file(1)
    report_id = _submit(intake)
    file_id = _upload(intake, report_id, content, "file.jpg")
    answer = intake.post_xml("fileinfo", file_details_xml(report_id, file_id))
    assert answer.status_code == 200, answer.text
    assert canonical(answer.content) == response("File Details Response", report_id=report_id)
    _finish(intake, report_id, [file_id])

    report = _report(intake, report_id)
    assert report.state == IntakeState.FINISHED and report.finished_at is not None
    assert report.raw_xml == report_xml()  # byte for byte
    assert report.parsed["report"]["reporter"]["reportingPerson"]["email"] == ("jsmith@example.com")
    vault = EvidenceVault.from_settings(intake.settings)
    with intake.database.session() as session:
        record = session.scalar(select(IntakeFile).where(IntakeFile.public_id == file_id))
        assert record is not None and record.evidence_item_id is not None
        assert record.details_xml == file_details_xml(report_id, file_id)
        assert record.sha256 == hashlib.sha256(content).hexdigest()
        assert record.file_name == "file.jpg"
        assert vault.get(session, record.evidence_item_id) == content
        holds = active_holds(session, record.evidence_item_id, utcnow())
        assert [h.kind.value for h in holds] == ["report"]


def test_report_without_files(intake: Intake) -> None:
    report_id = _submit(intake)
    _finish(intake, report_id, [])


def test_one_file_with_details_and_one_without(intake: Intake) -> None:
    report_id = _submit(intake)
    first = _upload(intake, report_id, _file(1))
    assert intake.post_xml("fileinfo", file_details_xml(report_id, first)).status_code == 200
    second = _upload(intake, report_id, _file(2))
    _finish(intake, report_id, [first, second])


def test_retract_after_upload(intake: Intake) -> None:
    report_id = _submit(intake)
    _upload(intake, report_id, _file(1))
    answer = intake.post_form("retract", {"id": report_id})
    assert answer.status_code == 200
    assert canonical(answer.content) == response("Cancel Response", report_id=report_id)
    assert _report(intake, report_id).state == IntakeState.RETRACTED
    again = intake.post_form("finish", {"id": report_id})
    assert again.status_code == 400
    assert etree.fromstring(again.content).findtext("responseCode") == "5101"


def test_request_ids_differ_per_answer(intake: Intake) -> None:
    ids = {
        intake.client.get("/ispws/status", headers=basic()).headers["Request-ID"] for _ in range(3)
    }
    assert len(ids) == 3


def test_another_company_cannot_see_the_report(intake: Intake) -> None:
    report_id = _submit(intake)
    answer = intake.post_form("finish", {"id": report_id}, auth=basic(OTHER_USERNAME))
    assert answer.status_code == 400
    assert etree.fromstring(answer.content).findtext("responseCode") == "5001"
    assert _report(intake, report_id).state == IntakeState.OPEN


def test_viral_batched_report_takes_one_file(intake: Intake) -> None:
    answer = intake.post_xml("submit", VIRAL_REPORT)
    assert answer.status_code == 200, answer.text
    report_id = etree.fromstring(answer.content).findtext("reportId") or ""
    assert _report(intake, report_id).batched
    _upload(intake, report_id, _file(1))
    _upload(intake, report_id, _file(2))
    refused = intake.post_form("finish", {"id": report_id})
    assert refused.status_code == 400  # Appendix E: HTTP 400 and application status 4100
    assert etree.fromstring(refused.content).findtext("responseCode") == "4100"
    assert _report(intake, report_id).state == IntakeState.OPEN


def test_viral_batched_report_refuses_forbidden_sections(intake: Intake) -> None:
    body = VIRAL_REPORT.replace(
        b"</incidentSummary>",
        b"</incidentSummary><internetDetails>"
        b"<webPageIncident><url>http://example.com/</url>"
        b"</webPageIncident></internetDetails>",
    )
    answer = intake.post_xml("submit", body)
    assert answer.status_code == 400
    assert etree.fromstring(answer.content).findtext("responseCode") == "4100"


def test_a_past_deadline_answers_report_does_not_exist(intake: Intake) -> None:
    report_id = _submit(intake)
    past = utcnow() - timedelta(hours=25)
    with intake.database.transaction(write=True) as session:
        session.execute(
            update(IntakeReport)
            .where(IntakeReport.id == int(report_id))
            .values(opened_at=past, last_activity_at=past)
        )
    answer = intake.post_form("upload", {"id": report_id}, {"file": ("a.jpg", _file(1))})
    assert answer.status_code == 400
    assert etree.fromstring(answer.content).findtext("responseCode") == "5001"


def test_expiry_is_the_later_of_24h_after_opening_and_1h_after_the_last_change(
    intake: Intake,
) -> None:
    vault = EvidenceVault.from_settings(intake.settings)
    policy = HoldPolicy.from_settings(intake.settings)
    opened = utcnow() - timedelta(days=3)
    with intake.database.session(write=True) as session:
        company = authenticate_company(session, USERNAME, PASSWORD)
        assert company is not None
        quiet = domain.open_report(session, company, report_xml(), "r1", now=opened)
        busy = domain.open_report(session, company, report_xml(), "r2", now=opened)
        quiet_id, busy_id = quiet.id, busy.id
        session.commit()
        # a file 23.5 h after opening moves busy's deadline to 24.5 h
        domain.add_file(
            session,
            vault,
            busy_id,
            company,
            _file(1),
            "a.jpg",
            hold_policy=policy,
            now=opened + timedelta(hours=23, minutes=30),
        )
        assert domain.expire_stale(session, opened + timedelta(hours=23, minutes=59)) == 0
        assert domain.expire_stale(session, opened + timedelta(hours=24)) == 1
        session.commit()
        assert session.get(IntakeReport, quiet_id).state == IntakeState.EXPIRED
        assert session.get(IntakeReport, busy_id).state == IntakeState.OPEN
        assert domain.expire_stale(session, opened + timedelta(hours=24, minutes=29)) == 0
        assert domain.expire_stale(session, opened + timedelta(hours=24, minutes=30)) == 1
        session.commit()
        assert session.get(IntakeReport, busy_id).state == IntakeState.EXPIRED


def test_finish_runs_the_hook_in_the_transaction(intake: Intake) -> None:
    seen: list[int] = []
    with intake.database.transaction(write=True) as session:
        company = authenticate_company(session, USERNAME, PASSWORD)
        assert company is not None
        report = domain.open_report(session, company, report_xml(), "r")
        receipt = domain.finish(
            session, report.id, company, on_finished=lambda _s, r: seen.append(r.id)
        )
    assert seen == [receipt.report_id] and receipt.file_ids == []


def test_failing_hook_leaves_the_report_open(intake: Intake) -> None:
    def broken(_session: object, _report: IntakeReport) -> None:
        raise RuntimeError("matching failed")

    intake.client.app.state.intake_on_finished = broken
    report_id = _submit(intake)
    answer = intake.post_form("finish", {"id": report_id})
    assert answer.status_code == 500
    assert etree.fromstring(answer.content).findtext("responseCode") == "1000"
    assert _report(intake, report_id).state == IntakeState.OPEN


def test_wrong_credentials_store_nothing(intake: Intake) -> None:
    for auth in (basic(password=PASSWORD + "x"), basic(password=""), basic("nobody"), {}):
        answer = intake.client.post(
            "/ispws/submit", content=report_xml(), headers={**auth, "Content-Type": "text/xml"}
        )
        assert answer.status_code == 401
        assert etree.fromstring(answer.content).findtext("responseCode") == "2000"
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    with intake.database.session() as session:
        assert session.scalar(select(func.count()).select_from(IntakeReport)) == 0


def test_cli_adds_a_company_that_can_then_authenticate(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "cli"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }

    def run(*args: str, stdin: str) -> Result:
        result = CliRunner().invoke(
            cli_app,
            ["clearinghouse", "add-company", *args],
            input=stdin,
            env=env,
            catch_exceptions=False,
        )
        assert "Traceback" not in result.output + result.stderr
        return result

    added = run(
        "Platform B",
        "--username",
        "platform-b",
        "--password-stdin",
        stdin="b-long-enough-password\n",
    )
    assert added.exit_code == 0, added.output
    assert "b-long-enough-password" not in added.output
    taken = run(
        "Platform B2",
        "--username",
        "platform-b",
        "--password-stdin",
        stdin="another-long-password\n",
    )
    assert taken.exit_code == 2 and "already uses" in taken.stderr
    weak = run("Platform C", "--username", "platform-c", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 2 and "short" not in weak.stderr
    with database.session() as session:
        assert authenticate_company(session, "platform-b", "b-long-enough-password")
        assert authenticate_company(session, "platform-b", "another-long-password") is None
        assert authenticate_company(session, "platform-c", "short") is None
