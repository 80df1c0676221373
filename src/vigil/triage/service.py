"""Triage in the store: scoring finished reports (new ones and stale ones), applying a new
weights version (audited, re-scoring the open queue), people's overrides (audited, the
computed priority kept beside them), analysts' notes, and the queue in priority order.

Every function works in the caller's transaction and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from vigil.store.audit.log import AuditLog
from vigil.store.errors import StoreError
from vigil.store.models import (
    IntakeReport,
    IntakeState,
    Referral,
    ReportingCompany,
    ReportTriage,
    TriageNote,
    TriageWeightSet,
    utcnow,
)
from vigil.store.models.agencies import LIVE_REFERRAL_STATES
from vigil.store.models.audit import MAX_ACTOR_CHARS, AuditAction
from vigil.store.shared.rescoring import mark_for_rescore
from vigil.triage.facts import UnknownReport, gather_facts
from vigil.triage.levels import LEVELS
from vigil.triage.scoring import TriageResult, score
from vigil.triage.weights import Weights, WeightsRefused, parse_weights

MAX_NOTE_CHARS = 2000
MAX_REASON_CHARS = 1000
MAX_QUEUE = 500


class TriageRefused(StoreError, ValueError):
    """A request the triage cannot honour; the message says why."""


class NotTriaged(StoreError, LookupError):
    pass


# --- scoring -------------------------------------------------------------------------------


def score_pending(
    session: Session, weights: Weights, *, now: datetime | None = None, limit: int = 200
) -> list[int]:
    """Score finished reports without a triage, then stale ones, oldest first; at most
    ``limit``. Returns the ids scored."""
    now = now or utcnow()
    pending = list(
        session.scalars(
            select(IntakeReport.id)
            .outerjoin(ReportTriage, ReportTriage.report_id == IntakeReport.id)
            .where(
                IntakeReport.state == IntakeState.FINISHED,
                or_(ReportTriage.report_id.is_(None), ReportTriage.stale.is_(True)),
            )
            .order_by(
                ReportTriage.report_id.is_not(None), IntakeReport.finished_at, IntakeReport.id
            )
            .limit(max(1, limit))
        )
    )
    for report_id in pending:
        rescore(session, report_id, weights, now=now)
    return pending


def rescore(
    session: Session, report_id: int, weights: Weights, *, now: datetime | None = None
) -> ReportTriage:
    """Score one report now and store the result; an override stays in force."""
    now = now or utcnow()
    result = score(gather_facts(session, report_id, now), weights)
    row = session.get(ReportTriage, report_id)
    if row is None:
        row = ReportTriage(report_id=report_id, first_computed_at=now, computations=0)
        session.add(row)
    _store(row, result, weights, now)
    session.flush()
    return row


def _store(row: ReportTriage, result: TriageResult, weights: Weights, now: datetime) -> None:
    row.priority, row.score = result.priority, result.score
    row.reasons = [reason.as_dict() for reason in result.reasons]
    row.disposition = result.disposition
    row.weights_version = weights.version
    row.computed_at = now
    row.computations = (row.computations or 0) + 1
    row.stale = False
    row.effective_priority = row.override_priority or result.priority


# --- weights -------------------------------------------------------------------------------


def apply_weights(
    session: Session, weights: Weights, actor: str, *, now: datetime | None = None
) -> int:
    """Record a new weights version (audited) and re-score every triaged report that is still
    open (no referral, or a live one). Returns how many were re-scored; 0 when this exact
    version was applied before. The same version with other content is refused."""
    known = session.get(TriageWeightSet, weights.version)
    if known is not None:
        if known.sha256 != weights.sha256:
            raise WeightsRefused(
                f"version {weights.version} was applied before with other content; "
                "give the changed weights a new version"
            )
        return 0
    now = now or utcnow()
    applied = TriageWeightSet(
        version=weights.version,
        sha256=weights.sha256,
        content=weights.content,
        applied_at=now,
        applied_by=actor[:MAX_ACTOR_CHARS],
    )
    session.add(applied)
    session.flush()
    rescored = 0
    for report_id in open_triaged(session):
        rescore(session, report_id, weights, now=now)
        rescored += 1
    applied.rescored = rescored
    AuditLog(session).append(
        AuditAction.TRIAGE_WEIGHTS,
        actor=actor,
        subject_type="triage_weights",
        subject_id=weights.version,
        at=now,
        details={"version": weights.version, "sha256": weights.sha256, "rescored": rescored},
    )
    return rescored


def open_triaged(session: Session) -> list[int]:
    """Triaged reports not yet settled: no referral at all, or one still live."""
    has_referral = exists().where(Referral.report_id == ReportTriage.report_id)
    live_referral = exists().where(
        Referral.report_id == ReportTriage.report_id, Referral.state.in_(LIVE_REFERRAL_STATES)
    )
    return list(
        session.scalars(
            select(ReportTriage.report_id)
            .where(or_(~has_referral, live_referral))
            .order_by(ReportTriage.report_id)
        )
    )


def active_weights(session: Session) -> Weights | None:
    """The most recently applied weights, or None when none was ever applied."""
    latest = session.scalar(
        select(TriageWeightSet).order_by(TriageWeightSet.applied_at.desc()).limit(1)
    )
    return parse_weights(bytes(latest.content)) if latest is not None else None


@dataclass(frozen=True)
class ReportUnderTriage:
    """A finished report as its triage screen shows it."""

    report: IntakeReport
    company: str  # the reporting company's name; "" if the company is gone
    triage: ReportTriage | None  # None until the job has scored it


def finished_report(session: Session, report_id: int) -> IntakeReport | None:
    """The report if it is finished (only finished reports are triaged); else None."""
    report = session.get(IntakeReport, report_id)
    return report if report is not None and report.state is IntakeState.FINISHED else None


def report_under_triage(session: Session, report_id: int) -> ReportUnderTriage | None:
    """The finished report with its company's name and its triage; None when unfinished
    or unknown."""
    report = finished_report(session, report_id)
    if report is None:
        return None
    company = session.get(ReportingCompany, report.company_id)
    triage = session.get(ReportTriage, report_id)
    return ReportUnderTriage(report, company.name if company else "", triage)


def applied_weights(session: Session) -> list[TriageWeightSet]:
    """Every weights version applied to this database, oldest first: the history."""
    query = select(TriageWeightSet).order_by(TriageWeightSet.applied_at)
    return list(session.scalars(query))


def mark_all_stale(session: Session) -> None:
    """Flag every triaged report for re-scoring, settled ones too: after it, score_pending
    re-scores the whole history (``vigil triage rescore --all``)."""
    session.execute(update(ReportTriage).values(stale=True))


# --- people --------------------------------------------------------------------------------


def override_priority(
    session: Session,
    report_id: int,
    priority: int,
    reason: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> ReportTriage:
    """A person's priority for a report, with their reason; wins over the computed one."""
    if priority not in LEVELS:
        raise TriageRefused("the priority must be 1, 2, 3 or 4 (informational)")
    reason = (reason or "").strip()
    if not reason:
        raise TriageRefused("say why the priority is overridden")
    if len(reason) > MAX_REASON_CHARS:
        raise TriageRefused(f"the reason is longer than {MAX_REASON_CHARS} characters")
    row = _triaged(session, report_id)
    previous = row.effective_priority
    row.override_priority, row.override_reason = priority, reason
    row.override_by, row.override_at = actor[:MAX_ACTOR_CHARS], now or utcnow()
    row.effective_priority = priority
    session.flush()
    AuditLog(session).append(
        AuditAction.TRIAGE_OVERRIDE,
        actor=actor,
        subject_type="intake_report",
        subject_id=str(report_id),
        details={
            "priority": priority,
            "previous": previous,
            "computed": row.priority,
            "reason": reason,
        },
    )
    return row


def clear_override(session: Session, report_id: int, actor: str) -> ReportTriage:
    """Back to the computed priority (audited); nothing to do without an override."""
    row = _triaged(session, report_id)
    if row.override_priority is None:
        return row
    previous = row.override_priority
    row.override_priority = row.override_reason = row.override_by = row.override_at = None
    row.effective_priority = row.priority
    session.flush()
    AuditLog(session).append(
        AuditAction.TRIAGE_OVERRIDE,
        actor=actor,
        subject_type="intake_report",
        subject_id=str(report_id),
        details={"cleared": True, "previous": previous, "computed": row.priority},
    )
    return row


def add_note(session: Session, report_id: int, text: str, actor: str) -> TriageNote:
    """An analyst's note: a new fact, so the report is re-scored at the next poll."""
    text = (text or "").strip()
    if not text:
        raise TriageRefused("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise TriageRefused(f"the note is longer than {MAX_NOTE_CHARS} characters")
    report = session.get(IntakeReport, report_id)
    if report is None or report.state is not IntakeState.FINISHED:
        raise UnknownReport(f"no finished report with id {report_id}")
    note = TriageNote(report_id=report_id, author=actor[:MAX_ACTOR_CHARS], text=text)
    session.add(note)
    session.flush()
    mark_for_rescore(session, [report_id])
    return note


def notes_of(session: Session, report_id: int, limit: int = 200) -> list[TriageNote]:
    return list(
        session.scalars(
            select(TriageNote)
            .where(TriageNote.report_id == report_id)
            .order_by(TriageNote.id)
            .limit(limit)
        )
    )


def _triaged(session: Session, report_id: int) -> ReportTriage:
    row = session.get(ReportTriage, report_id)
    if row is None:
        raise NotTriaged(f"report {report_id} has not been scored yet")
    return row


# --- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    report_id: int
    company: str
    finished_at: datetime | None
    priority: int  # effective: the override when there is one
    computed_priority: int
    score: float
    disposition: str
    overridden: bool
    stale: bool
    reasons: list[dict[str, Any]]

    def top_reasons(self, count: int = 3) -> list[dict[str, Any]]:
        return [reason for reason in self.reasons if reason.get("points")][:count]


def triage_queue(session: Session, *, limit: int = 50, offset: int = 0) -> list[QueueEntry]:
    """Triaged finished reports, most urgent first: effective priority, then score."""
    rows = session.execute(
        select(ReportTriage, ReportingCompany.name, IntakeReport.finished_at)
        .join(IntakeReport, IntakeReport.id == ReportTriage.report_id)
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .where(IntakeReport.state == IntakeState.FINISHED)
        .order_by(
            ReportTriage.effective_priority, ReportTriage.score.desc(), ReportTriage.report_id
        )
        .limit(min(max(1, limit), MAX_QUEUE))
        .offset(max(0, offset))
    )
    return [_entry(row, company, finished_at) for row, company, finished_at in rows]


def _entry(row: ReportTriage, company: str, finished_at: datetime | None) -> QueueEntry:
    return QueueEntry(
        report_id=row.report_id,
        company=company,
        finished_at=finished_at,
        priority=row.effective_priority,
        computed_priority=row.priority,
        score=row.score,
        disposition=str(row.disposition),
        overridden=row.override_priority is not None,
        stale=row.stale,
        reasons=list(row.reasons or []),
    )
