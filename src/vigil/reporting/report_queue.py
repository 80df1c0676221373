"""What the reports console lists: confirmed cases still waiting for a report, the latest
reports in the send queue, and one report with its exchanges with the destination. Reads
only; filing and sending are filing.py and sending.py."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.models import Case, CaseStatus, Report, ReportExchange


def cases_awaiting_report(session: Session) -> list[Case]:
    """Confirmed cases no report has been filed for yet, most urgent and oldest first."""
    reported = select(Report.case_id).where(Report.case_id.is_not(None))
    query = (
        select(Case)
        .where(Case.status == CaseStatus.CONFIRMED, Case.id.not_in(reported))
        .order_by(Case.priority, Case.closed_at)
    )
    return list(session.scalars(query))


def latest_reports(session: Session, limit: int) -> list[Report]:
    """The ``limit`` most recently filed reports, newest first."""
    return list(session.scalars(select(Report).order_by(Report.id.desc()).limit(limit)))


def case_ids_of(session: Session, reports: Iterable[Report]) -> dict[int, str]:
    """The public id of each report's case, by the case's row id (reports of no case left
    out), so a list of reports can name their cases with one query."""
    ids = [report.case_id for report in reports if report.case_id]
    return {
        case.id: case.public_id for case in session.scalars(select(Case).where(Case.id.in_(ids)))
    }


def report_by_public_id(session: Session, public_id: str) -> Report | None:
    """The report the console names by ``public_id``; None for an unknown one."""
    return session.scalars(select(Report).where(Report.public_id == public_id)).first()


def exchanges_of(session: Session, report: Report) -> list[ReportExchange]:
    """Every request to the destination about ``report`` and its answer, in order."""
    query = select(ReportExchange).where(ReportExchange.report_id == report.id)
    return list(session.scalars(query.order_by(ReportExchange.id)))
