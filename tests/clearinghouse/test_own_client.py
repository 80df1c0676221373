"""Vigil's own reporting client (ReportSender, as a platform runs it) files a report end to
end into Vigil's intake, served by uvicorn on a loopback port: submit, upload, fileinfo,
finish; the clearinghouse keeps the report's XML exactly as sent."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.api.service import live_service
from tests.clearinghouse.conftest import PASSWORD, USERNAME
from tests.reporting.test_client import REPORT_XML
from vigil.clearinghouse.companies import add_company
from vigil.core.settings import DestinationConfig, Settings
from vigil.reporting.sending import ReportSender
from vigil.store import Database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import FileState, Report, ReportFile, ReportKind, ReportState, utcnow
from vigil.store.models.intake import IntakeFile, IntakeReport, IntakeState

DETAILS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<fileDetails>
    <reportId>0</reportId>
    <fileId>to-be-assigned</fileId>
    <originalFileName>mypic-{n}.jpg</originalFileName>
</fileDetails>"""


@pytest.fixture
def live_intake(intake_settings: Settings, database: Database) -> Iterator[str]:
    """The base URL of the intake of a running service."""
    with database.transaction(write=True) as session:
        add_company(session, "Example Platform", USERNAME, PASSWORD)
    with live_service(intake_settings) as base_url:
        yield f"{base_url}/ispws"


def _platform_report(database: Database, vault: EvidenceVault, files: int) -> str:
    public_id = uuid.uuid4().hex
    with database.transaction(write=True) as session:
        report = Report(
            public_id=public_id,
            kind=ReportKind.CASE,
            destination="clearinghouse",
            xml=REPORT_XML.decode(),
            created_by="reviewer",
            next_attempt_at=utcnow(),
        )
        for n in range(1, files + 1):
            item = vault.seal(f"benign generated test file {n}\n".encode() + os.urandom(256))
            session.add(item)
            session.flush()
            report.files.append(
                ReportFile(
                    evidence_item_id=item.id,
                    file_name=f"file-{n}.jpg",
                    sha256=item.sha256,
                    file_details_xml=DETAILS_XML.format(n=n),
                )
            )
        session.add(report)
    return public_id


def test_vigil_files_a_report_into_vigil(
    live_intake: str, intake_settings: Settings, database: Database
) -> None:
    vault = EvidenceVault.from_settings(intake_settings)
    destination = DestinationConfig.model_validate(
        {
            "name": "clearinghouse",
            "kind": "cybertipline",
            "environment": "test",
            "base_url": live_intake,
            "username": USERNAME,
            "password": PASSWORD,
            "timeout": 10,
        }
    )
    public_id = _platform_report(database, vault, files=2)

    assert ReportSender(database, destination, vault).advance(public_id) is ReportState.FINISHED

    with database.session() as session:
        sent = session.scalar(select(Report).where(Report.public_id == public_id))
        assert sent is not None and sent.remote_report_id
        received = session.get(IntakeReport, int(sent.remote_report_id))
        assert received is not None and received.state == IntakeState.FINISHED
        assert received.raw_xml == REPORT_XML  # the bytes sent, byte for byte
        intake_files = {
            f.public_id: f
            for f in session.scalars(select(IntakeFile).where(IntakeFile.report_id == received.id))
        }
        assert set(intake_files) == {f.remote_file_id for f in sent.files}
        for platform_file in sent.files:
            assert platform_file.state is FileState.DESCRIBED
            copy = intake_files[str(platform_file.remote_file_id)]
            assert copy.sha256 == platform_file.sha256
            assert copy.file_name == platform_file.file_name
            assert copy.details is not None
            assert copy.details["fileDetails"]["reportId"] == sent.remote_report_id
            assert vault.get(session, str(copy.evidence_item_id)) == vault.get(
                session, platform_file.evidence_item_id
            )
        assert sent.receipt and f"<reportId>{received.id}</reportId>" in sent.receipt
