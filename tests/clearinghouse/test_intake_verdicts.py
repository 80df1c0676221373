"""The intake as deployed: every file of a finished report is known, seen or new before
`finish` answers, reports of one file are bundled, and reports are linked by entities."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from tests.api.service import service_settings
from tests.clearinghouse.conftest import OTHER_USERNAME, Intake, basic
from tests.clearinghouse.documented import report_xml
from tests.clearinghouse.test_intake_api import _finish, _submit, _upload
from tests.screening.listed import fingerprint, make_list
from vigil.clearinghouse.entities import linked_reports
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeFile, IntakeReport


@pytest.fixture
def intake_settings(database_url: str, tmp_path: Path) -> Settings:
    """Photo-sized uploads (the folder's default limit is kept small for its size tests)."""
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": 8 << 20},
    )


def _files(intake: Intake, report_id: str) -> list[IntakeFile]:
    with intake.database.transaction() as session:
        return list(
            session.scalars(
                select(IntakeFile)
                .where(IntakeFile.report_id == int(report_id))
                .order_by(IntakeFile.id)
            )
        )


@pytest.fixture
def hotline_list(database: Database, corpus_images: list[Path], tmp_path: Path) -> Path:
    """The clearinghouse's labelled list, there before the service starts."""
    known = corpus_images[0]
    make_list(database, "hotline-labels", [("pdq", fingerprint(known).pdq, "h-1")], tmp_path)
    return known


def test_known_new_and_seen_before_finish_answers(
    hotline_list: Path, intake: Intake, corpus_images: list[Path]
) -> None:
    known = hotline_list
    first = _submit(intake)
    listed = _upload(intake, first, known.read_bytes(), "a.jpg")
    fresh = _upload(intake, first, corpus_images[9].read_bytes(), "b.jpg")
    _finish(intake, first, [listed, fresh])
    verdicts = {f.public_id: (f.verdict, f.classification) for f in _files(intake, first)}
    assert verdicts[listed] == (FileVerdict.KNOWN, "A1")
    assert verdicts[fresh] == (FileVerdict.NEW, None)

    second = intake.client.post(
        "/ispws/submit",
        content=report_xml(),
        headers={**basic(OTHER_USERNAME), "Content-Type": "text/xml"},
    )
    assert second.status_code == 200
    other = etree.fromstring(second.content).findtext("reportId")
    answer = intake.client.post(
        "/ispws/upload",
        data={"id": other},
        files={"file": ("c.jpg", corpus_images[9].read_bytes())},
        headers=basic(OTHER_USERNAME),
    )
    assert answer.status_code == 200
    intake.client.post("/ispws/finish", data={"id": other}, headers=basic(OTHER_USERNAME))
    [copy] = _files(intake, other)
    assert copy.verdict is FileVerdict.SEEN
    with intake.database.transaction() as session:
        reports = {r.id: r for r in session.scalars(select(IntakeReport))}
        linked = linked_reports(session, int(other))
    assert reports[int(other)].incident_id == reports[int(first)].incident_id is not None
    assert int(first) in {link.report_id for link in linked}
