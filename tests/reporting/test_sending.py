"""The resumable sending state machine against the local test double in cybertip_server.py
(written from NCMEC's documentation; NOT NCMEC's service), with a real database (SQLite and
PostgreSQL) and a real encrypted evidence vault; plus the file destinations."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from tests.reporting.cybertip_server import CyberTipServer
from tests.reporting.test_client import REPORT_XML
from vigil.core.errors import ConfigurationError
from vigil.core.settings import DestinationConfig
from vigil.reporting.cybertipline.client import CyberTiplineClient
from vigil.reporting.cybertipline.expiry import expiry_deadline
from vigil.reporting.sending import (
    ReportNotFound,
    ReportSender,
    ReportStateError,
    backoff,
    due_reports,
)
from vigil.store import Database
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey
from vigil.store.models import (
    AuditRecord,
    FileState,
    Report,
    ReportExchange,
    ReportFile,
    ReportKind,
    ReportState,
)

PASSWORD = "pswd123-secret"
DETAILS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<fileDetails xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <reportId>0</reportId>
    <fileId>to-be-assigned</fileId>
    <originalFileName>mypic-{n}.jpg</originalFileName>
    <ipCaptureEvent>
        <ipAddress>63.116.246.17</ipAddress>
        <eventName>Upload</eventName>
        <dateTime>2011-10-31T12:00:00Z</dateTime>
    </ipCaptureEvent>
    <additionalInfo>File was originally posted with 6 others</additionalInfo>
</fileDetails>"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class Env:
    database: Database
    vault: EvidenceVault
    server: CyberTipServer
    clock: Clock
    tmp_path: Path

    def config(self, **values: Any) -> DestinationConfig:
        base = {
            "name": "ncmec",
            "kind": "cybertipline",
            "environment": "test",
            "base_url": self.server.base_url,
            "username": "usr123",
            "password": PASSWORD,
            # Headroom for an ordinary request on a loaded 2-core machine (0.2 s timed out
            # uploads in a full CI run); the delay fault below waits longer than this.
            "timeout": 1.0,
            "max_attempts": 4,
        }
        return DestinationConfig.model_validate({**base, **values})

    def sender(self, **values: Any) -> ReportSender:
        return ReportSender(self.database, self.config(**values), self.vault, clock=self.clock)

    def report(
        self,
        files: int = 2,
        *,
        destination: str = "ncmec",
        details: bool = True,
        xml: bytes = REPORT_XML,
    ) -> str:
        public_id = uuid.uuid4().hex
        with self.database.transaction(write=True) as session:
            report = Report(
                public_id=public_id,
                kind=ReportKind.CASE,
                destination=destination,
                xml=xml.decode(),
                created_by="reviewer",
                next_attempt_at=self.clock(),
            )
            for n in range(1, files + 1):
                content = f"benign generated test file {n}\n".encode() + os.urandom(512)
                item = self.vault.seal(content)
                session.add(item)
                session.flush()
                report.files.append(
                    ReportFile(
                        evidence_item_id=item.id,
                        file_name=f"file-{n}.jpg",
                        sha256=item.sha256,
                        file_details_xml=DETAILS_XML.format(n=n) if details else None,
                    )
                )
            session.add(report)
        return public_id

    def load(self, public_id: str) -> Report:
        with self.database.session() as session:
            report = session.scalar(select(Report).where(Report.public_id == public_id))
            assert report is not None
            return report

    def exchanges(self, public_id: str) -> list[ReportExchange]:
        report = self.load(public_id)
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(ReportExchange)
                    .where(ReportExchange.report_id == report.id)
                    .order_by(ReportExchange.id)
                )
            )


@pytest.fixture
def env(database: Database, tmp_path: Path) -> Iterator[Env]:
    clock = Clock()
    vault = EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 20,
        retention=timedelta(days=365),
    )
    with CyberTipServer(password=PASSWORD, clock=clock) as server:
        yield Env(database, vault, server, clock, tmp_path)


def assert_delivered_once(env: Env, public_id: str) -> None:
    """One finished remote report holding every file exactly once, each with its details."""
    report = env.load(public_id)
    assert report.state is ReportState.FINISHED and report.finished_at is not None
    finished = env.server.finished()
    assert [r.report_id for r in finished] == [report.remote_report_id]
    remote = finished[0]
    assert sorted(remote.files) == sorted(str(f.remote_file_id) for f in report.files)
    assert set(remote.details) == set(remote.files)
    for report_file in report.files:
        assert report_file.state is FileState.DESCRIBED
        name, _ = remote.files[str(report_file.remote_file_id)]
        assert name == report_file.file_name
        assert env.server.upload_counts[str(report_file.sha256)] == 1


def test_happy_path_records_every_exchange(env: Env) -> None:
    public_id = env.report()
    assert env.sender().advance(public_id) is ReportState.FINISHED
    assert_delivered_once(env, public_id)
    report = env.load(public_id)
    assert report.opened_at == env.clock.now and report.attempts == 0
    assert report.receipt and "<reportDoneResponse>" in report.receipt
    exchanges = env.exchanges(public_id)
    assert [e.endpoint for e in exchanges] == [
        "submit",
        "upload",
        "fileinfo",
        "upload",
        "fileinfo",
        "finish",
    ]
    assert all(e.response_code == 0 and e.http_status == 200 and e.error is None for e in exchanges)
    assert [e.request_id for e in exchanges] == env.server.request_ids
    remote = env.server.finished()[0]
    for report_file in report.files:  # the ids NCMEC assigned were put into <fileDetails>
        sent = etree.fromstring(remote.details[str(report_file.remote_file_id)])
        assert sent.findtext("reportId") == report.remote_report_id
        assert sent.findtext("fileId") == report_file.remote_file_id


def test_file_without_details_is_uploaded_only(env: Env) -> None:
    public_id = env.report(files=1, details=False)
    assert env.sender().advance(public_id) is ReportState.FINISHED
    assert env.load(public_id).files[0].state is FileState.UPLOADED
    assert env.server.requests["fileinfo"] == 0


STEPS = [
    ("submit", 0),
    ("upload", 0),
    ("upload", 1),
    ("fileinfo", 0),
    ("fileinfo", 1),
    ("finish", 0),
]
# Every kind at every step; 503 takes 500's path and each timeout costs the client's timeout,
# so those run with the slow tests except one timeout in the middle of the files.
FAULT_CASES = [
    pytest.param(
        endpoint,
        skip,
        fault,
        id=f"{endpoint}-{skip}-{fault}",
        marks=(
            pytest.mark.slow
            if fault == "503" or (fault == "delay" and (endpoint, skip) != ("upload", 1))
            else ()
        ),
    )
    for endpoint, skip in STEPS
    for fault in ("drop", "500", "503", "malformed", "delay")
]


@pytest.mark.parametrize(("endpoint", "skip", "fault"), FAULT_CASES)
def test_failure_at_every_step_resumes(env: Env, endpoint: str, skip: int, fault: str) -> None:
    public_id = env.report()
    sender = env.sender()
    env.server.inject(endpoint, fault, skip=skip, delay=1.3)  # past the client's timeout
    state = sender.advance(public_id)
    report = env.load(public_id)
    assert state is report.state and state is not ReportState.FINISHED
    assert report.attempts == 1 and report.last_error
    assert report.next_attempt_at == env.clock.now + backoff(1)
    failed = env.exchanges(public_id)[-1]
    assert failed.endpoint == endpoint and failed.error
    assert due_reports_now(env) == []  # waits for its backoff
    env.clock.advance(backoff(1))
    assert sender.run_due(env.clock.now) == {public_id: ReportState.FINISHED}
    assert_delivered_once(env, public_id)
    assert len(env.server.reports) == 1


def due_reports_now(env: Env) -> list[str]:
    with env.database.session() as session:
        return [r.public_id for r in due_reports(session, env.clock.now)]


class CrashingVault(EvidenceVault):
    crashes = 1

    def get(self, session: Any, item_id: str) -> bytes:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("process killed")
        return super().get(session, item_id)


def test_crash_resumes_from_recorded_state(env: Env) -> None:
    public_id = env.report()
    env.vault.__class__ = CrashingVault
    sender = env.sender()
    with pytest.raises(RuntimeError):
        sender.advance(public_id)
    report = env.load(public_id)
    assert report.state is ReportState.FILES and report.remote_report_id  # OPENED was recorded
    assert sender.advance(public_id) is ReportState.FINISHED
    assert_delivered_once(env, public_id)
    assert env.server.requests["submit"] == 1


class FileinfoCrash(CyberTiplineClient):
    def fileinfo(self, file_details_xml: bytes) -> Any:
        raise RuntimeError("process killed after the upload")


def test_crash_after_upload_does_not_upload_again(env: Env) -> None:
    public_id = env.report(files=1)
    crashing = ReportSender(
        env.database,
        env.config(),
        env.vault,
        clock=env.clock,
        client=(FileinfoCrash(env.server.base_url, "usr123", PASSWORD, timeout=1)),
    )
    with pytest.raises(RuntimeError):
        crashing.advance(public_id)
    assert env.load(public_id).files[0].state is FileState.UPLOADED
    assert env.sender().advance(public_id) is ReportState.FINISHED
    assert_delivered_once(env, public_id)


def test_run_due_survives_a_crash(env: Env) -> None:
    public_id = env.report(files=1)
    env.vault.__class__ = CrashingVault
    sender = env.sender()
    assert sender.run_due() == {public_id: ReportState.FILES}
    assert "internally" in str(env.load(public_id).last_error)
    env.clock.advance(backoff(1))
    assert sender.run_due() == {public_id: ReportState.FINISHED}


def test_wrong_credentials_fail_at_once_in_plain_words(env: Env) -> None:
    public_id = env.report()
    assert env.sender(password="not-the-password").advance(public_id) is ReportState.FAILED
    report = env.load(public_id)
    assert "credentials" in str(report.last_error) and "Request-ID" in str(report.last_error)
    assert "not-the-password" not in str(report.last_error)
    assert report.attempts == 1 and env.server.requests["submit"] == 1
    assert env.exchanges(public_id)[0].http_status == 401
    assert due_reports_now(env) == []  # a permanent failure waits for a person


def test_transient_errors_back_off_then_succeed(env: Env) -> None:
    public_id = env.report(files=1)
    sender = env.sender(max_attempts=4)
    env.server.inject("submit", "503", times=3)
    for attempt in (1, 2, 3):
        assert sender.advance(public_id) is ReportState.DRAFT
        report = env.load(public_id)
        assert report.attempts == attempt
        assert report.next_attempt_at == env.clock.now + backoff(attempt)
        assert sender.run_due(env.clock.now) == {}  # not due yet: nothing sent
        assert env.server.requests["submit"] == attempt
        env.clock.advance(backoff(attempt))
    assert backoff(1) < backoff(2) < backoff(3)
    assert sender.run_due(env.clock.now) == {public_id: ReportState.FINISHED}
    assert_delivered_once(env, public_id)


def test_gives_up_after_max_attempts(env: Env) -> None:
    public_id = env.report(files=1)
    sender = env.sender(max_attempts=2)
    env.server.inject("upload", "500", times=5)
    assert sender.advance(public_id) is ReportState.FILES
    env.clock.advance(backoff(1))
    assert sender.advance(public_id) is ReportState.FAILED
    assert "Gave up after 2 attempts" in str(env.load(public_id).last_error)
    assert env.server.requests["upload"] == 2


def test_transient_response_code_is_retried(env: Env) -> None:
    public_id = env.report(files=1)
    env.server.inject(
        "finish",
        "raw",
        status=200,
        body=(
            b"<reportResponse><responseCode>1000</responseCode><responseDescription>Server error"
            b"</responseDescription></reportResponse>"
        ),
    )
    sender = env.sender()
    assert sender.advance(public_id) is ReportState.FINISHING
    assert env.exchanges(public_id)[-1].response_code == 1000
    assert sender.advance(public_id) is ReportState.FINISHED


def test_rejected_report_fails_without_retry(env: Env) -> None:
    public_id = env.report(xml=b"<report><incidentSummary/></report>")
    assert env.sender().advance(public_id) is ReportState.FAILED
    report = env.load(public_id)
    assert "rejected" in str(report.last_error) and "4100" in str(report.last_error)
    assert env.server.requests["submit"] == 1


def test_lost_finish_answer_is_repeated_safely(env: Env) -> None:
    public_id = env.report()
    env.server.inject("finish", "drop", after=True)
    sender = env.sender()
    assert sender.advance(public_id) is ReportState.FINISHING
    assert sender.advance(public_id) is ReportState.FINISHED
    assert env.exchanges(public_id)[-1].response_code == 5102
    assert "5102" in str(env.load(public_id).receipt)
    assert_delivered_once(env, public_id)


def test_lost_upload_answer_is_surfaced_after_finish(env: Env) -> None:
    public_id = env.report(files=1)
    env.server.inject("upload", "drop", after=True)
    sender = env.sender()
    sender.advance(public_id)
    assert sender.advance(public_id) is ReportState.FINISHED
    report = env.load(public_id)
    orphan = set(env.server.finished()[0].files) - {report.files[0].remote_file_id}
    assert orphan and orphan.pop() in str(report.last_error)


def test_expiry_noticed_by_time_reopens(env: Env) -> None:
    public_id = env.report()
    sender = env.sender()
    env.server.inject("fileinfo", "500")
    sender.advance(public_id)
    old = env.load(public_id)
    assert old.files[0].state is FileState.UPLOADED
    opened_at = env.clock.now
    env.clock.advance(timedelta(hours=24))
    assert env.clock.now >= expiry_deadline(opened_at, opened_at) - timedelta(minutes=5)
    assert sender.advance(public_id) is ReportState.FINISHED
    report = env.load(public_id)
    assert report.remote_report_id != old.remote_report_id
    assert old.remote_report_id not in env.server.reports  # NCMEC deleted it
    expired = [e for e in env.exchanges(public_id) if e.endpoint == "expired"]
    assert len(expired) == 1 and str(old.remote_report_id) in str(expired[0].error)
    assert [r.report_id for r in env.server.finished()] == [report.remote_report_id]
    assert len(env.server.finished()[0].files) == 2


def test_expiry_noticed_by_answer_reopens(database: Database, tmp_path: Path) -> None:
    clock = Clock()
    vault = EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 20,
        retention=timedelta(days=365),
    )
    with CyberTipServer(
        password=PASSWORD,
        clock=clock,
        open_window=timedelta(minutes=10),
        idle_window=timedelta(minutes=2),
    ) as server:
        env = Env(database, vault, server, clock, tmp_path)
        public_id = env.report()
        sender = env.sender()
        server.inject("upload", "503", skip=1)
        sender.advance(public_id)
        old_id = env.load(public_id).remote_report_id
        clock.advance(timedelta(minutes=15))  # past the server's window, not the documented one
        assert sender.advance(public_id) is ReportState.FINISHED
        codes = [(e.endpoint, e.response_code) for e in env.exchanges(public_id)]
        assert ("upload", 5001) in codes and ("expired", None) in codes
        assert env.load(public_id).remote_report_id != old_id
        assert len(server.finished()) == 1 and len(server.finished()[0].files) == 2


def test_retract_open_report(env: Env) -> None:
    public_id = env.report()
    env.server.inject("upload", "500")
    sender = env.sender()
    sender.advance(public_id)
    remote_id = str(env.load(public_id).remote_report_id)
    with pytest.raises(ReportStateError):
        sender.retract(public_id, actor="admin", reason="  ")
    assert sender.retract(public_id, actor="admin", reason="wrong account") is (
        ReportState.RETRACTED
    )
    assert env.server.reports[remote_id].state == "retracted"
    assert sender.advance(public_id) is ReportState.RETRACTED
    with env.database.session() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.subject_id == public_id)
        ).one()
    assert record.actor == "admin" and record.details["reason"] == "wrong account"
    with pytest.raises(ReportStateError):
        sender.retract(public_id, actor="admin", reason="again")


def test_failed_report_retracted_or_retried(env: Env) -> None:
    first, second = env.report(files=1), env.report(files=1)
    sender = env.sender()
    for public_id in (first, second):
        env.server.inject("upload", "unauthorized")
        assert sender.advance(public_id) is ReportState.FAILED
    assert sender.retract(first, actor="admin", reason="resend later") is ReportState.RETRACTED
    assert sender.retry(second, actor="admin") is ReportState.FILES
    assert sender.advance(second) is ReportState.FINISHED
    with pytest.raises(ReportStateError):
        sender.retry(second, actor="admin")


def test_finished_report_cannot_be_retracted(env: Env) -> None:
    public_id = env.report(files=0)
    sender = env.sender()
    assert sender.advance(public_id) is ReportState.FINISHED
    with pytest.raises(ReportStateError):
        sender.retract(public_id, actor="admin", reason="too late")


def test_unreadable_evidence_fails_in_plain_words(env: Env) -> None:
    public_id = env.report(files=1)
    with env.database.transaction(write=True) as session:
        session.scalars(select(ReportFile)).one().evidence_item_id = None
    assert env.sender().advance(public_id) is ReportState.FAILED
    assert "no evidence item" in str(env.load(public_id).last_error)


def test_xml_file_destination(env: Env) -> None:
    public_id = env.report(destination="manual")
    out = env.tmp_path / "out"
    sender = env.sender(name="manual", kind="xml_file", directory=str(out))
    assert sender.advance(public_id) is ReportState.FINISHED
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"{public_id}.xml", f"{public_id}.file-001.xml", f"{public_id}.file-002.xml"]
    )
    assert (out / f"{public_id}.xml").read_bytes() == REPORT_XML
    assert b"mypic-2.jpg" in (out / f"{public_id}.file-002.xml").read_bytes()
    receipt = json.loads(str(env.load(public_id).receipt))
    assert len(receipt["written"]) == 3
    assert env.server.requests.total() == 0


def test_json_file_destination(env: Env) -> None:
    public_id = env.report(destination="manual-json")
    out = env.tmp_path / "json"
    sender = env.sender(name="manual-json", kind="json_file", directory=str(out))
    assert sender.advance(public_id) is ReportState.FINISHED
    assert [p.name for p in out.iterdir()] == [f"{public_id}.json"]
    document = json.loads((out / f"{public_id}.json").read_text())
    summary = document["report"]["report"]["incidentSummary"]
    assert summary["incidentDateTime"] == "2012-10-15T08:00:00-07:00"
    assert [f["file_details"]["fileDetails"]["originalFileName"] for f in document["files"]] == [
        "mypic-1.jpg",
        "mypic-2.jpg",
    ]


def test_file_destination_needs_directory(env: Env) -> None:
    with pytest.raises(ConfigurationError):
        env.sender(name="manual", kind="xml_file")


def test_one_report_row_per_destination(env: Env) -> None:
    to_ncmec, to_file = env.report(), env.report(destination="manual")
    ncmec = env.sender()
    manual = env.sender(name="manual", kind="xml_file", directory=str(env.tmp_path / "m"))
    with pytest.raises(ReportNotFound):
        ncmec.advance(to_file)
    assert ncmec.run_due() == {to_ncmec: ReportState.FINISHED}
    assert manual.run_due() == {to_file: ReportState.FINISHED}
    assert len(env.server.finished()) == 1


def test_sender_refuses_production_url_in_test_environment(env: Env) -> None:
    with pytest.raises(ConfigurationError, match="production"):
        env.sender(base_url="https://report.cybertip.org/ispws")
    with pytest.raises(ConfigurationError, match="production"):
        env.sender(environment="production", base_url=env.server.base_url)
