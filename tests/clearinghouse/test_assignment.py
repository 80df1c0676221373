"""Analysts' assignments and deconfliction: a new report linked to one already handled goes to
its analyst or agency, audited; linked reports are marked for re-scoring. Both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.clearinghouse.intake_rows import add_report, company_row, report_xml
from vigil.clearinghouse.assignment import (
    DECONFLICTION_ACTOR,
    AssignmentRefused,
    assign,
    deconflict,
    deconflict_on_finish,
    handler_of,
)
from vigil.clearinghouse.entities import link_report
from vigil.store import Database
from vigil.store.accounts.users import create_user
from vigil.store.models import (
    Agency,
    AgencyKind,
    AuditAction,
    AuditRecord,
    Disposition,
    IntakeReport,
    IntakeState,
    Referral,
    ReferralState,
    ReportTriage,
    Role,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")
PASSWORD = "a long enough passphrase 1"


def _user(session, name: str, role: Role) -> int:  # type: ignore[no-untyped-def]
    return create_user(session, name, PASSWORD, [role], actor="test").id


def _finished(session, company, email: str) -> IntakeReport:  # type: ignore[no-untyped-def]
    report = add_report(session, company, report_xml(email=email))
    link_report(session, report)
    return report


def _audits(session, action: AuditAction) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_an_analyst_takes_and_releases_a_report_audited(database: Database) -> None:
    with database.transaction(write=True) as session:
        analyst = _user(session, "ana", Role.REVIEWER)
        report = _finished(session, company_row(session, "Alpha"), "a@example.org")
        assign(session, report.id, analyst, actor="ana")
        assert (report.assigned_user_id, handler_of(session, report.id).user_name) == (
            analyst,
            "ana",
        )
        assign(session, report.id, None, actor="ana")
        assert report.assigned_user_id is None and report.assigned_at is None
        details = [record.details for record in _audits(session, AuditAction.ASSIGNMENT)]
        assert details == [
            {"to_user": analyst, "from_user": None},
            {"to_user": None, "from_user": analyst},
        ]


def test_only_finished_reports_go_to_active_analysts(database: Database) -> None:
    with database.transaction(write=True) as session:
        admin = _user(session, "root", Role.ADMIN)
        analyst = _user(session, "ana", Role.REVIEWER)
        company = company_row(session, "Alpha")
        open_report = add_report(session, company, state=IntakeState.OPEN)
        finished = _finished(session, company, "a@example.org")
        with pytest.raises(AssignmentRefused):
            assign(session, open_report.id, analyst, actor="t")
        with pytest.raises(AssignmentRefused):
            assign(session, finished.id, admin, actor="t")  # not an analyst
        with pytest.raises(AssignmentRefused):
            assign(session, finished.id, 999_999, actor="t")
        with pytest.raises(AssignmentRefused):
            assign(session, 2**62, analyst, actor="t")
        assert finished.assigned_user_id is None


def test_a_new_linked_report_goes_to_the_analyst_of_the_earlier_one(database: Database) -> None:
    with database.transaction(write=True) as session:
        analyst = _user(session, "ana", Role.REVIEWER)
        alpha, beta = company_row(session, "Alpha"), company_row(session, "Beta")
        earlier = _finished(session, alpha, "suspect@example.org")
        assign(session, earlier.id, analyst, actor="ana")
        session.add(
            ReportTriage(
                report_id=earlier.id,
                priority=2,
                score=1.0,
                reasons=[],
                disposition=Disposition.REFERRAL,
                weights_version="t",
                effective_priority=2,
            )
        )
        session.flush()
        unrelated = _finished(session, beta, "other@example.org")
        deconflict_on_finish(session, unrelated)
        assert unrelated.assigned_user_id is None and unrelated.deconflicted_with_id is None

        new = _finished(session, beta, "Suspect@Example.org")
        deconflict_on_finish(session, new)
        assert (new.assigned_user_id, new.deconflicted_with_id) == (analyst, earlier.id)
        assert session.get(ReportTriage, earlier.id).stale  # a linked report is a new fact
        [record] = [
            r for r in _audits(session, AuditAction.ASSIGNMENT) if r.actor == DECONFLICTION_ACTOR
        ]
        assert record.subject_id == str(new.id)
        assert record.details["linked_report"] == earlier.id
        [note] = deconflict(session, earlier.id)
        assert (note.report_id, note.handler.user_name) == (new.id, "ana")


def test_a_new_linked_report_goes_to_the_agency_handling_the_earlier_one(
    database: Database,
) -> None:
    with database.transaction(write=True) as session:
        agency = Agency(code="TF-1", name="Task force one", kind=AgencyKind.TASK_FORCE)
        session.add(agency)
        alpha, beta = company_row(session, "Alpha"), company_row(session, "Beta")
        earlier = _finished(session, alpha, "suspect@example.org")
        session.add(
            Referral(
                report_id=earlier.id,
                agency_id=agency.id,
                state=ReferralState.ACCEPTED,
                routed_by="routing",
            )
        )
        session.flush()
        new = _finished(session, beta, "suspect@example.org")
        deconflict_on_finish(session, new)
        [referral] = session.scalars(select(Referral).where(Referral.report_id == new.id))
        assert (referral.agency_id, referral.state, referral.routed_by) == (
            agency.id,
            ReferralState.ROUTED,
            DECONFLICTION_ACTOR,
        )
        assert str(earlier.id) in referral.why
        assert handler_of(session, new.id).agency_name == "Task force one"


def test_a_declined_referral_does_not_pull_new_reports_to_that_agency(database: Database) -> None:
    with database.transaction(write=True) as session:
        agency = Agency(code="TF-2", name="Task force two", kind=AgencyKind.TASK_FORCE)
        session.add(agency)
        alpha = company_row(session, "Alpha")
        earlier = _finished(session, alpha, "suspect@example.org")
        session.add(
            Referral(
                report_id=earlier.id,
                agency_id=agency.id,
                state=ReferralState.DECLINED,
                routed_by="routing",
            )
        )
        session.flush()
        new = _finished(session, alpha, "suspect@example.org")
        deconflict_on_finish(session, new)
        assert session.scalars(select(Referral).where(Referral.report_id == new.id)).all() == []
        assert new.deconflicted_with_id is None
