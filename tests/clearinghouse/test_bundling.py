"""Viral bundling: many reports of one file become one incident, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.clearinghouse.intake_rows import add_report, company_row, made_up
from vigil.clearinghouse.bundling import bundle_report, incident_reports
from vigil.store import Database
from vigil.store.models import IntakeIncident, IntakeReport, IntakeState

REPORTS = 40


def test_many_reports_of_one_file_are_one_incident(database: Database) -> None:
    viral, other = made_up("viral meme"), made_up("holiday photo")
    with database.transaction(write=True) as session:
        companies = [company_row(session, f"Platform{i}") for i in range(4)]
        reports = [
            add_report(session, companies[i % 4], files=(other, viral) if i % 2 else (viral,))
            for i in range(REPORTS)
        ]
        incidents = {bundle_report(session, report) for report in reports}
    with database.transaction() as session:
        [incident] = session.scalars(select(IntakeIncident)).all()
        bundled = session.scalar(
            select(func.count()).where(IntakeReport.incident_id == incident.id)
        )
        listed = incident_reports(session, incident.id, limit=10)
    assert {i.id for i in incidents if i is not None} == {incident.id}
    assert incident.sha256 == viral.sha256
    assert incident.report_count == bundled == REPORTS
    assert listed == sorted(r.id for r in reports)[:10]


def test_a_lone_report_waits_for_the_second_copy(database: Database) -> None:
    meme = made_up("meme")
    with database.transaction(write=True) as session:
        alpha, beta = company_row(session, "Alpha"), company_row(session, "Beta")
        first = add_report(session, alpha, files=(meme,))
        assert bundle_report(session, first) is None and first.incident_id is None
        lone = add_report(session, beta, files=(made_up("unique"),))
        assert bundle_report(session, lone) is None
        second = add_report(session, beta, files=(meme,))
        incident = bundle_report(session, second)
        assert incident is not None and incident.report_count == 2
        session.refresh(first)
        assert first.incident_id == second.incident_id == incident.id
        assert bundle_report(session, second) == incident  # idempotent
        session.refresh(incident)
        assert incident.report_count == 2
        assert lone.incident_id is None


def test_batched_report_is_an_incident_on_its_own(database: Database) -> None:
    with database.transaction(write=True) as session:
        batch = add_report(
            session,
            company_row(session, "Alpha"),
            batched=True,
            files=(made_up("declared viral"), made_up("second file")),
        )
        incident = bundle_report(session, batch)
        assert incident is not None
        assert (incident.sha256, incident.report_count) == (made_up("declared viral").sha256, 1)
        assert batch.incident_id == incident.id


def test_open_and_retracted_reports_are_not_bundled(database: Database) -> None:
    meme = made_up("meme")
    with database.transaction(write=True) as session:
        alpha = company_row(session, "Alpha")
        pending = add_report(session, alpha, state=IntakeState.OPEN, files=(meme,))
        retracted = add_report(session, alpha, state=IntakeState.RETRACTED, files=(meme,))
        finished = add_report(session, alpha, files=(meme,))
        assert bundle_report(session, finished) is None
        session.refresh(pending)
        session.refresh(retracted)
        assert pending.incident_id is None and retracted.incident_id is None


def test_report_without_files_is_not_bundled(database: Database) -> None:
    with database.transaction(write=True) as session:
        empty = add_report(session, company_row(session, "Alpha"), batched=True)
        assert bundle_report(session, empty) is None
