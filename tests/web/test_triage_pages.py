"""The triage screens over HTTP: the queue most urgent first with reasons and the override
marker, one report's reasons and notes, overrides and notes posted with the CSRF header
(audited), and only clearinghouse analysts allowed: agencies and auditors are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, running, service_settings
from tests.triage import triage_rows as rows
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import AuditRecord, FileVerdict, ReportTriage, Role, TriageNote
from vigil.store.models.audit import AuditAction
from vigil.triage.service import score_pending
from vigil.triage.weights import load_weights

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    add_user(database, "analyst", [Role.REVIEWER])
    add_user(database, "auditor", [Role.AUDITOR])
    add_user(database, "agency", [Role.AGENCY])
    yield from running(settings)


@pytest.fixture
def reports(database: Database) -> tuple[int, int]:
    with database.transaction(write=True) as session:
        owner = rows.company(session, "Example Platform")
        urgent = rows.report(
            session,
            owner,
            rows.document(escalation="He says he will meet her <b>tonight</b>"),
            [(FileVerdict.NEW, "A1", [])],
        )
        quiet = rows.report(session, owner, files=[(FileVerdict.KNOWN, "B2", [])])
        score_pending(session, load_weights())
        return urgent.id, quiet.id


def test_the_queue_lists_the_most_urgent_first_with_reasons(
    client: TestClient, reports: tuple[int, int]
) -> None:
    urgent, quiet = reports
    console_sign_in(client)
    page = client.get("/clearinghouse/triage")
    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'href="/clearinghouse/reports/(\d+)/triage"', page.text)]
    assert order == [urgent, quiet]
    assert "The reporting company escalated the report" in page.text
    assert "Example Platform" in page.text
    assert client.get("/clearinghouse/triage?page=0").status_code == 422


def test_the_report_page_shows_every_reason_escaped(
    client: TestClient, reports: tuple[int, int]
) -> None:
    urgent, _ = reports
    console_sign_in(client)
    page = client.get(f"/clearinghouse/reports/{urgent}/triage")
    assert page.status_code == 200
    for name in ("escalation", "new_material", "prepubescent"):
        assert f'data-reason="{name}"' in page.text
    assert "<b>tonight</b>" not in page.text and "&lt;b&gt;tonight" in page.text
    assert client.get("/clearinghouse/reports/999999/triage").status_code == 404
    assert client.get(f"/clearinghouse/reports/{2**63}/triage").status_code == 422


def test_an_override_wins_in_the_queue_and_is_audited(
    client: TestClient, database: Database, reports: tuple[int, int]
) -> None:
    urgent, quiet = reports
    csrf = console_sign_in(client)
    missing_reason = client.post(
        f"/clearinghouse/reports/{quiet}/triage/override",
        data={"priority": "1", "reason": " "},
        headers=csrf,
    )
    assert missing_reason.status_code == 422
    no_csrf = client.post(
        f"/clearinghouse/reports/{quiet}/triage/override", data={"priority": "1", "reason": "why"}
    )
    assert no_csrf.status_code == 403
    answer = client.post(
        f"/clearinghouse/reports/{urgent}/triage/override",
        data={"priority": "4", "reason": "A duplicate of a report handled."},
        headers=csrf,
    )
    assert answer.status_code == 200 and 'id="override"' in answer.text
    queue = client.get("/clearinghouse/triage").text
    order = [int(n) for n in re.findall(r'href="/clearinghouse/reports/(\d+)/triage"', queue)]
    assert order == [quiet, urgent] and "(override)" in queue
    cleared = client.post(f"/clearinghouse/reports/{urgent}/triage/override/clear", headers=csrf)
    assert cleared.status_code == 200
    with database.transaction() as session:
        row = session.get(ReportTriage, urgent)
        assert row.override_priority is None and row.effective_priority == row.priority == 1
        audits = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == AuditAction.TRIAGE_OVERRIDE)
                .order_by(AuditRecord.seq)
            )
        )
    assert len(audits) == 2 and all("analyst" in audit.actor for audit in audits)
    assert audits[0].details["priority"] == 4 and audits[1].details["cleared"]


def test_a_note_is_kept_and_marks_the_report_for_rescoring(
    client: TestClient, database: Database, reports: tuple[int, int]
) -> None:
    _, quiet = reports
    csrf = console_sign_in(client)
    answer = client.post(
        f"/clearinghouse/reports/{quiet}/triage/notes",
        data={"text": "Spoke to the platform; nothing more."},
        headers=csrf,
    )
    assert answer.status_code == 200 and "Spoke to the platform" in answer.text
    assert (
        client.post(
            f"/clearinghouse/reports/{quiet}/triage/notes", data={"text": ""}, headers=csrf
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/clearinghouse/reports/{quiet}/triage/notes", data={"text": "x" * 5000}, headers=csrf
        ).status_code
        == 422
    )
    with database.transaction() as session:
        assert session.get(ReportTriage, quiet).stale
        assert len(list(session.scalars(select(TriageNote)))) == 1


@pytest.mark.parametrize("username", ["agency", "auditor"])
def test_agencies_and_auditors_can_neither_read_nor_override(
    client: TestClient, database: Database, reports: tuple[int, int], username: str
) -> None:
    _, quiet = reports
    csrf = console_sign_in(client, username)
    assert client.get("/clearinghouse/triage").status_code == 403
    assert client.get(f"/clearinghouse/reports/{quiet}/triage").status_code == 403
    for path, data in (
        (f"/clearinghouse/reports/{quiet}/triage/override", {"priority": "1", "reason": "because"}),
        (f"/clearinghouse/reports/{quiet}/triage/override/clear", {}),
        (f"/clearinghouse/reports/{quiet}/triage/notes", {"text": "hi"}),
    ):
        assert client.post(path, data=data, headers=csrf).status_code == 403
    with database.transaction() as session:
        assert session.get(ReportTriage, quiet).override_priority is None
        assert list(session.scalars(select(TriageNote))) == []


def test_signed_out_visitors_are_refused(client: TestClient, reports: tuple[int, int]) -> None:
    client.cookies.clear()
    page = client.get("/clearinghouse/triage", follow_redirects=False)
    assert page.status_code in (303, 401)
