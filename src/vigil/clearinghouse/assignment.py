"""Who handles an intake report, and deconfliction: a new report linked to one that an analyst
or an agency already handles goes to them instead of starting a parallel case.

Assignments and hand-overs are audited (ASSIGNMENT). Deconfliction runs in the transaction
that finishes a report, after linking, so the analyst sees the new report as soon as it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.clearinghouse.entities import Shared, linked_reports
from vigil.store.audit.log import AuditLog
from vigil.store.errors import StoreError
from vigil.store.models import (
    Agency,
    IntakeReport,
    IntakeState,
    Referral,
    ReferralState,
    Role,
    User,
    utcnow,
)
from vigil.store.models.agencies import AGENCY_HELD_STATES
from vigil.store.models.audit import AuditAction
from vigil.store.shared.report_links import shared_with
from vigil.store.shared.rescoring import mark_for_rescore

DECONFLICTION_ACTOR = "deconfliction"
LINKED_READ = 200  # linked reports considered, oldest first (as entities.linked_reports)


class AssignmentRefused(StoreError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Handler:
    """Who handles a report: an analyst, an agency, or both."""

    user_id: int | None
    user_name: str | None
    agency_id: int | None
    agency_name: str | None

    @property
    def label(self) -> str:
        names = [name for name in (self.user_name, self.agency_name) if name]
        return " and ".join(names) if names else "nobody"


def assign(session: Session, report_id: int, user_id: int | None, *, actor: str) -> None:
    """Give a finished report to analyst ``user_id`` (None: release it). Audited."""
    report = _finished(session, report_id)
    if user_id is not None:
        _analyst(session, user_id)
    previous = report.assigned_user_id
    report.assigned_user_id = user_id
    report.assigned_at = utcnow() if user_id is not None else None
    session.flush()
    AuditLog(session).append(
        AuditAction.ASSIGNMENT,
        actor=actor,
        subject_type="intake_report",
        subject_id=str(report.id),
        details={"to_user": user_id, "from_user": previous},
    )


def handler_of(session: Session, report_id: int) -> Handler:
    report = session.get(IntakeReport, report_id)
    user = (
        session.get(User, report.assigned_user_id)
        if report is not None and report.assigned_user_id
        else None
    )
    agency = _live_agency(session, report_id)
    return Handler(
        user.id if user else None,
        user.username if user else None,
        agency.id if agency else None,
        agency.name if agency else None,
    )


def deconflict_on_finish(session: Session, report: IntakeReport) -> None:
    """The finish hook's last step: hand the new report to whoever handles the earliest
    linked report, and mark every linked report for re-scoring (a new linked report is a
    new fact for their triage). Two queries find every handler, since this runs on every
    /finish."""
    linked = list(shared_with(session, report.id))[:LINKED_READ]
    earlier = [other for other in linked if other < report.id]
    mark_for_rescore(session, earlier)
    handlers = _handlers(session, earlier)
    for other_id in earlier:
        if other_id in handlers:
            _hand_over(session, report, other_id, *handlers[other_id])
            return


def _handlers(session: Session, report_ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
    """(analyst, agency) of each handled report among ``report_ids``; the latest referral
    held by an agency counts, as in handler_of."""
    if not report_ids:
        return {}
    handlers: dict[int, tuple[int | None, int | None]] = {
        report_id: (user_id, None)
        for report_id, user_id in session.execute(
            select(IntakeReport.id, IntakeReport.assigned_user_id).where(
                IntakeReport.id.in_(report_ids), IntakeReport.assigned_user_id.is_not(None)
            )
        )
    }
    held = session.execute(
        select(Referral.report_id, Referral.agency_id)
        .where(Referral.report_id.in_(report_ids), Referral.state.in_(AGENCY_HELD_STATES))
        .order_by(Referral.id)
    )
    for report_id, agency_id in held:  # ascending: the latest referral is written last
        handlers[report_id] = (handlers.get(report_id, (None, None))[0], agency_id)
    return handlers


def _hand_over(
    session: Session,
    report: IntakeReport,
    other_id: int,
    user_id: int | None,
    agency_id: int | None,
) -> None:
    report.deconflicted_with_id = other_id
    if user_id is not None:
        report.assigned_user_id, report.assigned_at = user_id, utcnow()
    if agency_id is not None:
        session.add(
            Referral(
                report_id=report.id,
                agency_id=agency_id,
                state=ReferralState.ROUTED,
                routed_by=DECONFLICTION_ACTOR,
                routed_at=utcnow(),
                why=f"linked to report {other_id}, which this agency already handles",
            )
        )
    session.flush()
    AuditLog(session).append(
        AuditAction.ASSIGNMENT,
        actor=DECONFLICTION_ACTOR,
        subject_type="intake_report",
        subject_id=str(report.id),
        details={"linked_report": other_id, "to_user": user_id, "to_agency": agency_id},
    )


def _live_agency(session: Session, report_id: int) -> Agency | None:
    return session.scalars(
        select(Agency)
        .join(Referral, Referral.agency_id == Agency.id)
        .where(Referral.report_id == report_id, Referral.state.in_(AGENCY_HELD_STATES))
        .order_by(Referral.id.desc())
        .limit(1)
    ).first()


def _finished(session: Session, report_id: int) -> IntakeReport:
    report = session.get(IntakeReport, report_id)
    if report is None or report.state is not IntakeState.FINISHED:
        raise AssignmentRefused(f"no finished report {report_id}")
    return report


def _analyst(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None or Role.REVIEWER not in user.role_set:
        raise AssignmentRefused("reports are assigned to active analysts (reviewer role) only")
    return user


@dataclass(frozen=True, slots=True)
class Deconfliction:
    """A linked report someone already handles: who to talk to before acting on this one."""

    report_id: int
    company: str
    shared: tuple[Shared, ...]
    handler: Handler


def deconflict(session: Session, report_id: int) -> list[Deconfliction]:
    """Linked reports (earlier or later) that an analyst or an agency handles."""
    found = []
    for linked in linked_reports(session, report_id):
        handler = handler_of(session, linked.report_id)
        if handler.user_id is not None or handler.agency_id is not None:
            found.append(Deconfliction(linked.report_id, linked.company, linked.shared, handler))
    return found
