"""A platform's own work in a period: cases reviewed, decisions, reveals, reports filed and how
long they took from detection, and law-enforcement requests answered. Counts and durations
only, read with aggregate SQL that runs the same on SQLite and PostgreSQL.

Each figure counts where its event happened: a case where it was opened or closed, a decision
where it was made, a reveal where the audit log recorded it, a report where the destination
confirmed it (``finished_at``), a request where it was received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from vigil.stats.figures import Durations, Statistics
from vigil.stats.period import Period
from vigil.stats.queries import statistics
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    Case,
    CaseItem,
    LegalRequest,
    Report,
    ReportCase,
    utcnow,
)
from vigil.store.models.reports import LegalRequestStatus, ReportState
from vigil.store.models.review import CaseStatus, ItemStatus

# The audit log's subject types of a platform's media: a case item revealed in the console,
# a match record's media shown to a person through the API (confirmed with the fetch's
# view check; reporting/cybertipline/from_case.py).
CONSOLE_REVEAL = "review_item"
API_MEDIA_FETCH = "match_record"


@dataclass(frozen=True)
class Requests:
    """Law-enforcement requests received in the period and what became of them."""

    received: int
    answered: int
    open: int  # still open now
    overdue: int  # still open after the due date
    late: int  # answered after the due date
    time_to_answer: Durations


@dataclass(frozen=True)
class PlatformFigures:
    period: Period
    cases_opened: int
    cases_confirmed: int  # closed with abuse confirmed
    cases_dismissed: int  # closed with nothing to report
    items_confirmed: int
    items_false_positive: int
    reveals: int  # media shown unblurred in the console (audit log)
    api_media_fetches: int  # API views a client confirmed (audit log)
    reports_filed: int  # confirmed by the destination
    reports_failed: int  # failed now, among those created in the period: a person must look
    detection_to_report: Durations
    requests: Requests

    @property
    def empty(self) -> bool:
        return not (self.cases_opened or self.reports_filed or self.requests.received)


def platform_figures(
    session: Session, period: Period, *, now: datetime | None = None
) -> PlatformFigures:
    now = now or utcnow()
    return PlatformFigures(
        period=period,
        cases_opened=_count(session, Case, _in(Case.opened_at, period)),
        cases_confirmed=_count(
            session, Case, _in(Case.closed_at, period), Case.status == CaseStatus.CONFIRMED
        ),
        cases_dismissed=_count(
            session, Case, _in(Case.closed_at, period), Case.status == CaseStatus.DISMISSED
        ),
        items_confirmed=_count(
            session,
            CaseItem,
            _in(CaseItem.decided_at, period),
            CaseItem.status == ItemStatus.CONFIRMED,
        ),
        items_false_positive=_count(
            session,
            CaseItem,
            _in(CaseItem.decided_at, period),
            CaseItem.status == ItemStatus.FALSE_POSITIVE,
        ),
        reveals=_media_views(session, period, CONSOLE_REVEAL),
        api_media_fetches=_media_views(session, period, API_MEDIA_FETCH),
        reports_filed=_count(session, Report, _filed_in(period)),
        reports_failed=_count(
            session, Report, _in(Report.created_at, period), Report.state == ReportState.FAILED
        ),
        detection_to_report=detection_to_report(session, period),
        requests=requests(session, period, now=now),
    )


def has_platform_work(session: Session) -> bool:
    """Whether this installation ever reviewed a case or received a request: a clearinghouse
    that also screens its own uploads shows both kinds of figures."""
    return bool(
        session.scalar(select(exists().select_from(Case)))
        or session.scalar(select(exists().select_from(LegalRequest)))
    )


def first_activity_at(session: Session) -> datetime | None:
    first: datetime | None = session.scalar(select(func.min(Case.opened_at)))
    return first


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return (column >= period.start) & (column < period.end)


def _filed_in(period: Period) -> ColumnElement[bool]:
    return (Report.state == ReportState.FINISHED) & _in(Report.finished_at, period)


def _count(session: Session, model: Any, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _media_views(session: Session, period: Period, subject_type: str) -> int:
    return _count(
        session,
        AuditRecord,
        AuditRecord.action == AuditAction.MEDIA_VIEWED,
        AuditRecord.subject_type == subject_type,
        _in(AuditRecord.at, period),
    )


def detection_to_report(session: Session, period: Period) -> Durations:
    """From detection (its case opening: the first flagged upload of the account) to the
    destination confirming the report, for reports filed in the period. A batched report
    covering several cases counts from its earliest case."""
    covered = (
        select(ReportCase.report_id.label("report_id"), ReportCase.case_id.label("case_id"))
        .union(
            select(Report.id.label("report_id"), Report.case_id.label("case_id")).where(
                Report.case_id.is_not(None)
            )
        )
        .subquery()
    )
    rows = session.execute(
        select(Report.finished_at, func.min(Case.opened_at))
        .join(covered, covered.c.report_id == Report.id)
        .join(Case, Case.id == covered.c.case_id)
        .where(_filed_in(period))
        .group_by(Report.id, Report.finished_at)
    )
    return Durations.of(
        (filed - detected).total_seconds()
        for filed, detected in rows
        if filed is not None and detected is not None
    )


def requests(session: Session, period: Period, *, now: datetime) -> Requests:
    rows = session.execute(
        select(
            LegalRequest.status,
            LegalRequest.received_at,
            LegalRequest.due_at,
            LegalRequest.answered_at,
        ).where(_in(LegalRequest.received_at, period))
    ).all()
    return _requests(rows, now)


def _requests(rows: Iterable[Any], now: datetime) -> Requests:
    rows = list(rows)
    answered = [(got, due, at) for _, got, due, at in rows if at is not None]
    still_open = [due for status, _, due, at in rows if at is None and _open(status)]
    return Requests(
        received=len(rows),
        answered=len(answered),
        open=len(still_open),
        overdue=sum(1 for due in still_open if due < now),
        late=sum(1 for _, due, at in answered if at > due),
        time_to_answer=Durations.of((at - got).total_seconds() for got, _, at in answered),
    )


def _open(status: LegalRequestStatus) -> bool:
    return status is LegalRequestStatus.OPEN


@dataclass(frozen=True)
class InstallationFigures:
    """What an installation reports for a period: its own work on a platform install, the
    clearinghouse's figures where the clearinghouse is enabled, both when it does both."""

    stats: Statistics
    platform: PlatformFigures | None
    clearinghouse: bool


def installation_figures(
    session: Session, period: Period, *, clearinghouse: bool, now: datetime | None = None
) -> InstallationFigures:
    now = now or utcnow()
    platform = (
        platform_figures(session, period, now=now)
        if not clearinghouse or has_platform_work(session)
        else None
    )
    return InstallationFigures(statistics(session, period, now=now), platform, clearinghouse)
