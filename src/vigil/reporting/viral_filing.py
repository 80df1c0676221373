"""Filing one batched report for a viral or meme file confirmed in several accounts' cases
(Appendix E of the CyberTipline documentation): one file, the accounts that shared it, and
only what a batched report may say."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.reporting.cybertipline import BatchedFile, ReportRefused, build_batched_report
from vigil.reporting.cybertipline.batched import BatchedReportDocument
from vigil.reporting.cybertipline.from_case import media_viewed
from vigil.reporting.filing import (
    PLACEHOLDER_FILE_ID,
    PLACEHOLDER_REPORT_ID,
    SETTLED,
    destinations,
    reporter_details,
)
from vigil.store.audit import AuditLog
from vigil.store.models import (
    AuditAction,
    CaseItem,
    ItemStatus,
    MatchRecord,
    Report,
    ReportCase,
    ReportFile,
    ReportKind,
)
from vigil.store.shared.vocabulary import is_classification

VIRAL = frozenset({"viral", "potentialMeme"})
MAX_CANDIDATES = 5000  # confirmed viral items looked at for the console's list


@dataclass(frozen=True)
class ViralFile:
    sha256: str
    accounts: int
    items: int


def viral_candidates(session: Session) -> list[ViralFile]:
    """Confirmed items annotated viral or potentialMeme, grouped by file, not yet reported."""
    groups: dict[str, list[tuple[CaseItem, MatchRecord]]] = defaultdict(list)
    for item, record in _confirmed(session, None):
        if VIRAL & set(item.annotations or []) and not _already_reported(session, [item]):
            groups[record.sha256 or ""].append((item, record))
    return [
        ViralFile(sha, len({r.platform_account_id for _, r in rows}), len(rows))
        for sha, rows in sorted(groups.items())
        if sha
    ]


def file_viral_report(
    session: Session, sha256: str, *, settings: Settings, actor: str, incident_type: str
) -> list[Report]:
    """One batched report per destination for the file. Raises ReportRefused."""
    rows = [(i, r) for i, r in _confirmed(session, sha256) if VIRAL & set(i.annotations or [])]
    if not rows:
        raise ReportRefused(
            "no confirmed item of this file is annotated viral or "
            "potentialMeme: report it with its case instead"
        )
    items, records = [i for i, _ in rows], [r for _, r in rows]
    if _already_reported(session, items):
        raise ReportRefused("this file was already reported")
    shared = _shared_file(session, items, records)
    document = build_batched_report(
        reporter=reporter_details(settings),
        incident_type=incident_type,
        incident_date_time=min(r.received_at for r in records),
        account_ids=sorted({r.platform_account_id for r in records if r.platform_account_id}),
        files=[shared],
    )
    first = min(rows, key=lambda row: row[1].received_at)
    reports = [
        _queued(
            session,
            name,
            document,
            first,
            {i.case_id for i in items},
            actor,
            viewed=bool(shared.file_viewed_by_esp),
        )
        for name in (d.name for d in destinations(settings))
    ]
    AuditLog(session).append(
        AuditAction.REPORT,
        actor=actor,
        subject_type="file",
        subject_id=sha256,
        details={
            "change": "filed batched",
            "items": len(items),
            "reports": [r.public_id for r in reports],
        },
    )
    return reports


def _confirmed(session: Session, sha256: str | None) -> list[tuple[CaseItem, MatchRecord]]:
    query = (
        select(CaseItem, MatchRecord)
        .join(MatchRecord, CaseItem.record_id == MatchRecord.id)
        .where(CaseItem.status == ItemStatus.CONFIRMED)
        .order_by(CaseItem.id)
        .limit(MAX_CANDIDATES)
    )
    if sha256 is not None:
        query = query.where(MatchRecord.sha256 == sha256)
    return [(row[0], row[1]) for row in session.execute(query)]


def _already_reported(session: Session, items: list[CaseItem]) -> bool:
    rows = session.execute(
        select(Report.state)
        .join(ReportFile, ReportFile.report_id == Report.id)
        .where(ReportFile.item_id.in_([i.id for i in items]))
    ).all()
    return any(row.state not in SETTLED for row in rows)


def _shared_file(
    session: Session, items: list[CaseItem], records: list[MatchRecord]
) -> BatchedFile:
    viewed_items, viewed_records = media_viewed(session, items, records)
    classification = next(
        (
            i.classification or i.inherited_classification
            for i in items
            if is_classification(i.classification or i.inherited_classification)
        ),
        None,
    )
    annotations = sorted({a for i in items for a in (i.annotations or []) if a in VIRAL})
    first = min(records, key=lambda record: record.received_at)
    return BatchedFile(
        annotations=annotations,
        industry_classification=classification,
        file_name=first.platform_content_id,
        uploaded_to_esp_timestamp=first.received_at,
        file_viewed_by_esp=bool(viewed_items or viewed_records),
    )


def _queued(
    session: Session,
    destination: str,
    document: BatchedReportDocument,
    first: tuple[CaseItem, MatchRecord],
    case_ids: set[int],
    actor: str,
    *,
    viewed: bool,
) -> Report:
    item, record = first
    report = Report(
        public_id=uuid.uuid4().hex,
        kind=ReportKind.BATCHED,
        destination=destination,
        xml=document.report_xml.decode(),
        created_by=actor,
    )
    session.add(report)
    session.flush()
    session.add_all(ReportCase(report_id=report.id, case_id=case_id) for case_id in case_ids)
    details = document.details_xml(PLACEHOLDER_REPORT_ID, PLACEHOLDER_FILE_ID)
    session.add(
        ReportFile(
            report_id=report.id,
            item_id=item.id,
            evidence_item_id=record.evidence_item_id,
            file_name=record.platform_content_id,
            sha256=record.sha256,
            viewed_by_esp=viewed,
            file_details_xml=details.decode(),
        )
    )
    session.flush()
    return report
