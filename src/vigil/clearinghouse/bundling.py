"""Viral bundling: reports of the same file from many accounts become one incident.

A report joins the incident of one of its files (IntakeReport has one ``incident_id``):
the file that already has an incident, else the first file another live report also sent
(then the earlier reports that sent it join too), else - for a batched report, which the
reporter declares viral (``<batchedReport reason="VIRAL_POTENTIAL_MEME">``) - its first file.
A lone, unbatched report with files nobody else sent stays out of incidents. Bundling is by
SHA-256 only, as incidents are keyed by it; PDQ near copies link through ``matched_file_id``.

``report_count`` moves by atomic increments of the rows actually attached (UPDATE ... WHERE
incident_id IS NULL), so concurrent finishes neither lose nor double-count reports; the
incident row itself is created race-safe (a savepoint; the loser reads the winner's row).
"""

from __future__ import annotations

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vigil.store.affected_rows import affected_rows
from vigil.store.models import IntakeFile, IntakeIncident, IntakeReport, IntakeState, utcnow

BUNDLED_STATES = (IntakeState.FINISHED,)  # open, retracted and expired reports never join


def bundle_report(session: Session, report: IntakeReport) -> IntakeIncident | None:
    """Put ``report`` (and earlier reports of the same file) into the file's incident;
    None when the report is not viral. Idempotent. Flushes; the caller commits."""
    session.flush()  # the UPDATEs below bypass the unit of work
    if report.incident_id is not None:
        return session.get(IntakeIncident, report.incident_id)
    sha256 = _bundling_file(session, report)
    if sha256 is None:
        return None
    incident = _incident(session, sha256)
    attached = _attach(session, incident, [report.id])
    attached += _attach_earlier(session, incident, sha256, report.id)
    if attached:
        session.execute(
            update(IntakeIncident)
            .where(IntakeIncident.id == incident.id)
            .values(report_count=IntakeIncident.report_count + attached)
        )
    session.refresh(incident)
    # Not session.refresh(report): it would drop the caller's unflushed changes.
    set_committed_value(report, "incident_id", incident.id)
    return incident


def _bundling_file(session: Session, report: IntakeReport) -> str | None:
    hashes = list(dict.fromkeys(file.sha256 for file in report.files))
    if not hashes:
        return None
    with_incident = session.scalars(
        select(IntakeIncident.sha256).where(IntakeIncident.sha256.in_(hashes))
    ).all()
    if with_incident:
        return min(with_incident, key=hashes.index)
    shared = set(
        session.scalars(
            select(IntakeFile.sha256)
            .join(IntakeReport)
            .where(
                IntakeFile.sha256.in_(hashes),
                IntakeFile.report_id != report.id,
                IntakeReport.state.in_(BUNDLED_STATES),
            )
        )
    )
    for sha256 in hashes:
        if sha256 in shared:
            return sha256
    return hashes[0] if report.batched else None


def _incident(session: Session, sha256: str) -> IntakeIncident:
    found = session.scalar(select(IntakeIncident).where(IntakeIncident.sha256 == sha256))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            incident = IntakeIncident(sha256=sha256, first_seen_at=utcnow(), report_count=0)
            session.add(incident)
            session.flush()
            return incident
    except IntegrityError:
        return session.scalars(select(IntakeIncident).where(IntakeIncident.sha256 == sha256)).one()


def _attach(session: Session, incident: IntakeIncident, report_ids: list[int]) -> int:
    return affected_rows(
        session,
        update(IntakeReport)
        .where(IntakeReport.id.in_(report_ids), IntakeReport.incident_id.is_(None))
        .values(incident_id=incident.id)
        .execution_options(synchronize_session=False),
    )


def _attach_earlier(session: Session, incident: IntakeIncident, sha256: str, report_id: int) -> int:
    """Earlier finished reports of the file that are in no incident yet: the first report
    of a file becomes viral only when the second copy arrives."""
    sent_it = exists().where(IntakeFile.report_id == IntakeReport.id, IntakeFile.sha256 == sha256)
    return affected_rows(
        session,
        update(IntakeReport)
        .where(
            sent_it,
            IntakeReport.id != report_id,
            IntakeReport.incident_id.is_(None),
            IntakeReport.state.in_(BUNDLED_STATES),
        )
        .values(incident_id=incident.id)
        .execution_options(synchronize_session=False),
    )


def incident_reports(session: Session, incident_id: int, *, limit: int = 200) -> list[int]:
    """Ids of the incident's reports, oldest first (bounded: an incident may hold millions)."""
    return list(
        session.scalars(
            select(IntakeReport.id)
            .where(IntakeReport.incident_id == incident_id)
            .order_by(IntakeReport.id)
            .limit(limit)
        )
    )
