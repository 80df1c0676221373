"""The intake's round trips per request (SQLite and PostgreSQL): an upload does not read the
report's files, /fileinfo and /finish read the report and its files in one locking query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.clearinghouse.conftest import Intake
from tests.clearinghouse.documented import file_details_xml
from tests.clearinghouse.test_intake_api import _file, _finish, _report, _submit, _upload


@contextmanager
def _selects() -> Iterator[list[str]]:
    # Every engine: the application opened its own on the test database.
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_an_upload_does_not_read_the_reports_files(intake: Intake) -> None:
    report_id = _submit(intake)
    first = _upload(intake, report_id, _file(1))
    with _selects() as selects:
        second = _upload(intake, report_id, _file(2))
    assert any("FROM intake_reports" in s for s in selects)
    assert not any("FROM intake_files" in s for s in selects), selects
    assert [f.public_id for f in _report_files(intake, report_id)] == [first, second]


def test_fileinfo_reads_report_and_files_in_one_query(intake: Intake) -> None:
    report_id = _submit(intake)
    file_ids = [_upload(intake, report_id, _file(n)) for n in (1, 2)]
    with _selects() as selects:
        answer = intake.post_xml("fileinfo", file_details_xml(report_id, file_ids[1]))
    assert answer.status_code == 200, answer.text
    assert len(selects) == 1, selects
    assert "intake_files" in selects[0] and "FROM intake_reports" in selects[0]
    details = {f.public_id: f.details_xml for f in _report_files(intake, report_id)}
    assert details[file_ids[0]] is None and details[file_ids[1]] is not None
    _finish(intake, report_id, file_ids)


def test_fileinfo_for_a_file_of_another_report_is_refused(intake: Intake) -> None:
    mine, other = _submit(intake), _submit(intake)
    _upload(intake, mine, _file(1))
    foreign = _upload(intake, other, _file(2))
    answer = intake.post_xml("fileinfo", file_details_xml(mine, foreign))
    assert answer.status_code == 400
    assert b"<responseCode>5002</responseCode>" in answer.content  # file does not exist


def _report_files(intake: Intake, report_id: str) -> list:
    return list(_report(intake, report_id).files)
