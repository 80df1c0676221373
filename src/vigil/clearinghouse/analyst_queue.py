"""The analysts' intake queue: finished reports, those with new material first, each with
its files counted by verdict, the size of its incident and how many live reports it links
to; and the headline share of received files that were already known or seen.

Links are counted for a whole page in two queries (by shared entity, by shared new or seen
file), the same links as entities.linked_reports, each capped at MAX_LINK_PAIRS rows: a
viral file shared by thousands of reports must not make one page read them all."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from vigil.store.models import (
    FileVerdict,
    IntakeEntityLink,
    IntakeFile,
    IntakeIncident,
    IntakeReport,
    IntakeState,
    ReportingCompany,
)
from vigil.store.shared.report_links import LINKING_VERDICTS, LIVE_STATES

MAX_LINK_PAIRS = 50_000  # rows read to count links for one queue page (viral files fan out)


@dataclass(frozen=True)
class Headline:
    """Every received file, by verdict."""

    files: int
    known: int
    seen: int
    new: int

    @property
    def known_or_seen_share(self) -> float:
        classified = self.known + self.seen + self.new
        return (self.known + self.seen) / classified if classified else 0.0


@dataclass(frozen=True)
class QueueRow:
    """One finished report as the queue lists it."""

    report_id: int
    company: str
    received_at: datetime | None
    new: int
    seen: int
    known: int
    incident_id: int | None
    incident_size: int
    linked: int


def headline(session: Session) -> Headline:
    """How many files were received, and how many of them were known, seen or new."""
    row = session.execute(
        select(
            func.count(IntakeFile.id),
            _count(FileVerdict.KNOWN),
            _count(FileVerdict.SEEN),
            _count(FileVerdict.NEW),
        )
    ).one()
    return Headline(*(int(value or 0) for value in row))


def queued_reports(session: Session, verdict: FileVerdict | None, *, limit: int) -> list[QueueRow]:
    """At most ``limit`` finished reports, new material first, then seen, then known, newest
    first within each; with ``verdict``, only reports holding a file of that verdict."""
    query = _queue_query(limit)
    if verdict is not None:
        query = query.having(_count(verdict) > 0)
    rows = session.execute(query).all()
    links = link_counts(session, [row[0] for row in rows])
    return [
        QueueRow(
            report_id=row[0],
            company=row[1],
            received_at=row[2],
            new=int(row[5]),
            seen=int(row[6]),
            known=int(row[7]),
            incident_id=row[3],
            incident_size=int(row[4]),
            linked=links.get(row[0], 0),
        )
        for row in rows
    ]


def _count(verdict: FileVerdict) -> Any:
    return func.coalesce(func.sum(case((IntakeFile.verdict == verdict, 1), else_=0)), 0)


def _queue_query(limit: int) -> Select[Any]:
    new, seen, known = (
        _count(FileVerdict.NEW),
        _count(FileVerdict.SEEN),
        _count(FileVerdict.KNOWN),
    )
    rank = case((new > 0, 0), (seen > 0, 1), else_=2)  # new material first
    return (
        select(
            IntakeReport.id,
            ReportingCompany.name,
            IntakeReport.finished_at,
            IntakeReport.incident_id,
            func.coalesce(IntakeIncident.report_count, 0),
            new,
            seen,
            known,
        )
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .outerjoin(IntakeFile, IntakeFile.report_id == IntakeReport.id)
        .outerjoin(IntakeIncident, IntakeIncident.id == IntakeReport.incident_id)
        .where(IntakeReport.state == IntakeState.FINISHED)
        .group_by(
            IntakeReport.id,
            ReportingCompany.name,
            IntakeReport.finished_at,
            IntakeReport.incident_id,
            IntakeIncident.report_count,
        )
        .order_by(rank, IntakeReport.finished_at.desc(), IntakeReport.id.desc())
        .limit(limit)
    )


def link_counts(session: Session, report_ids: list[int]) -> dict[int, int]:
    """How many other live reports share an entity or a new/seen file with each report: the
    same links as entities.linked_reports, counted for a whole page in two queries."""
    if not report_ids:
        return {}
    mine, theirs = aliased(IntakeEntityLink), aliased(IntakeEntityLink)
    other = aliased(IntakeReport)
    by_entity = (
        select(mine.report_id, theirs.report_id)
        .join(theirs, theirs.entity_id == mine.entity_id)
        .join(other, other.id == theirs.report_id)
        .where(
            mine.report_id.in_(report_ids),
            theirs.report_id != mine.report_id,
            other.state.in_(LIVE_STATES),
        )
        .distinct()
        .limit(MAX_LINK_PAIRS)
    )
    mine_file, their_file = aliased(IntakeFile), aliased(IntakeFile)
    by_file = (
        select(mine_file.report_id, their_file.report_id)
        .join(their_file, their_file.sha256 == mine_file.sha256)
        .join(other, other.id == their_file.report_id)
        .where(
            mine_file.report_id.in_(report_ids),
            mine_file.verdict.in_(LINKING_VERDICTS),
            their_file.report_id != mine_file.report_id,
            other.state.in_(LIVE_STATES),
        )
        .distinct()
        .limit(MAX_LINK_PAIRS)
    )
    pairs: dict[int, set[int]] = defaultdict(set)
    for query in (by_entity, by_file):
        for report_id, linked in session.execute(query):
            pairs[report_id].add(linked)
    return {report_id: len(linked) for report_id, linked in pairs.items()}
