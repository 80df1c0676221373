"""What operators watch now: queue depths and totals, counted in the database at the moment
they are asked for (so every worker process answers the same). Counts only: no identifier,
name or content of any kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from vigil.store.models import (
    DeliveryStatus,
    FileVerdict,
    InfoRequest,
    InfoRequestState,
    IntakeFile,
    IntakeReport,
    IntakeState,
    Referral,
    ReferralState,
    Report,
    ReportState,
    ReportTriage,
    WebhookDelivery,
    utcnow,
)
from vigil.store.models.agencies import LIVE_REFERRAL_STATES

PRIORITIES = (1, 2, 3, 4)
# A referral an agency still holds or is about to: a report with one is not settled.
# Outgoing reports the sender still has to act on (the reporting domain's active states).
SENDING_STATES = (ReportState.DRAFT, ReportState.OPENED, ReportState.FILES, ReportState.FINISHING)
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class OperationalCounts:
    intake_reports: dict[str, int]  # by IntakeState
    intake_files: dict[str, int]  # by verdict, plus "unclassified"
    finished_reports_total: int  # ever finished: a counter, for the intake rate
    untriaged: int  # finished, no priority yet
    stale_triage: int  # waiting to be re-scored
    triage_queue: dict[int, int]  # open triaged reports by effective priority
    routing_queue: int  # UNROUTED referrals: waiting for a person
    referrals: dict[str, int]  # by ReferralState
    info_requests_open: int
    info_requests_overdue: int
    webhook_deliveries: dict[str, int]  # by DeliveryStatus
    outgoing_reports: dict[str, int]  # by ReportState
    report_send_queue: int


def _by(session: Session, column: Any, members: type[StrEnum]) -> dict[str, int]:
    found = {
        value: int(count)
        for value, count in session.execute(select(column, func.count()).group_by(column))
    }
    return {member.value: found.get(member, 0) for member in members}


def _count(session: Session, *where: ColumnElement[bool], table: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def operational_counts(session: Session, *, now: datetime | None = None) -> OperationalCounts:
    now = now or utcnow()
    referrals = _by(session, Referral.state, ReferralState)
    outgoing = _by(session, Report.state, ReportState)
    return OperationalCounts(
        intake_reports=_by(session, IntakeReport.state, IntakeState),
        intake_files=_files(session),
        finished_reports_total=_count(
            session, IntakeReport.finished_at.is_not(None), table=IntakeReport
        ),
        untriaged=_count(
            session,
            IntakeReport.state == IntakeState.FINISHED,
            ~exists().where(ReportTriage.report_id == IntakeReport.id),
            table=IntakeReport,
        ),
        stale_triage=_count(session, ReportTriage.stale.is_(True), table=ReportTriage),
        triage_queue=_triage_queue(session),
        routing_queue=referrals[ReferralState.UNROUTED.value],
        referrals=referrals,
        info_requests_open=_count(
            session, InfoRequest.state == InfoRequestState.OPEN, table=InfoRequest
        ),
        info_requests_overdue=_count(
            session,
            InfoRequest.state == InfoRequestState.OPEN,
            InfoRequest.due_at < now,
            table=InfoRequest,
        ),
        webhook_deliveries=_by(session, WebhookDelivery.status, DeliveryStatus),
        outgoing_reports=outgoing,
        report_send_queue=sum(outgoing[state.value] for state in SENDING_STATES),
    )


def _files(session: Session) -> dict[str, int]:
    found = {
        value: int(count)
        for value, count in session.execute(
            select(IntakeFile.verdict, func.count()).group_by(IntakeFile.verdict)
        )
    }
    counts = {verdict.value: found.get(verdict, 0) for verdict in FileVerdict}
    counts[UNCLASSIFIED] = found.get(None, 0)
    return counts


def _triage_queue(session: Session) -> dict[int, int]:
    """Triaged finished reports not settled yet: no referral, or a live one."""
    has_referral = exists().where(Referral.report_id == ReportTriage.report_id)
    live = exists().where(
        Referral.report_id == ReportTriage.report_id, Referral.state.in_(LIVE_REFERRAL_STATES)
    )
    rows = session.execute(
        select(ReportTriage.effective_priority, func.count())
        .join(IntakeReport, IntakeReport.id == ReportTriage.report_id)
        .where(IntakeReport.state == IntakeState.FINISHED, or_(~has_referral, live))
        .group_by(ReportTriage.effective_priority)
    )
    found = {int(priority): int(count) for priority, count in rows}
    return {priority: found.get(priority, 0) for priority in PRIORITIES}
