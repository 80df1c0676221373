"""The account data that goes into a report and into a response package: every match record
of the report's cases (or of one account) with its upload context and hashes, as canonical
JSON so its SHA-256 is stable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.store.models import Case, CaseItem, MatchRecord, Report, ReportCase

MAX_ACCOUNT_RECORDS = 10_000  # more than any real account has; bounds a hostile request
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CaseRecord:
    """One match record of a case, with the case item that reviewed it (None for an account
    record that never reached review)."""

    record: MatchRecord
    case: Case | None
    item: CaseItem | None


def canonical_json(document: Any) -> bytes:
    """Sorted keys and no whitespace: the same data always hashes the same."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def safe_name(name: str, fallback: str = "file", limit: int = 100) -> str:
    """A file or folder name safe in an archive: platform-supplied names may hold anything."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._")[:limit]
    return cleaned or fallback


def report_case_ids(session: Session, report: Report) -> list[int]:
    """The report's cases: its own and, for a batched report, every covered one."""
    covered = set(
        session.scalars(select(ReportCase.case_id).where(ReportCase.report_id == report.id))
    )
    if report.case_id is not None:
        covered.add(report.case_id)
    return sorted(covered)


def case_records(session: Session, case_ids: Sequence[int]) -> list[CaseRecord]:
    if not case_ids:
        return []
    rows = session.execute(
        select(MatchRecord, Case, CaseItem)
        .join(CaseItem, CaseItem.record_id == MatchRecord.id)
        .join(Case, Case.id == CaseItem.case_id)
        .where(Case.id.in_(case_ids))
        .order_by(Case.id, CaseItem.id)
    ).all()
    return [CaseRecord(record, case, item) for record, case, item in rows]


def account_records(session: Session, account_id: str) -> list[CaseRecord]:
    """The account's match records, reviewed or not, oldest first (bounded)."""
    rows = session.execute(
        select(MatchRecord, Case, CaseItem)
        .outerjoin(CaseItem, CaseItem.record_id == MatchRecord.id)
        .outerjoin(Case, Case.id == CaseItem.case_id)
        .where(MatchRecord.platform_account_id == account_id)
        .order_by(MatchRecord.id)
        .limit(MAX_ACCOUNT_RECORDS)
    ).all()
    return [CaseRecord(record, case, item) for record, case, item in rows]


def account_reports(session: Session, account_id: str) -> list[Report]:
    """Every report about a case of this account."""
    case_ids = select(Case.id).where(Case.platform_account_id == account_id)
    covered = select(ReportCase.report_id).where(ReportCase.case_id.in_(case_ids))
    query = select(Report).where(or_(Report.case_id.in_(case_ids), Report.id.in_(covered)))
    return list(session.scalars(query.order_by(Report.id)))


def account_data_document(entries: Iterable[CaseRecord]) -> dict[str, Any]:
    return {
        "format": "vigil-account-data/1",
        "records": [record_document(entry) for entry in entries],
    }


def record_document(entry: CaseRecord) -> dict[str, Any]:
    """What Vigil knows about one upload: context and hashes, never the content itself."""
    record = entry.record
    return {
        "record_id": record.public_id,
        "source": record.source.value,
        "verdict": record.verdict.value,
        "reasons": list(record.reasons or []),
        "received_at": record.received_at,
        "submitted_by": record.submitted_by,
        "platform_content_id": record.platform_content_id,
        "platform_account_id": record.platform_account_id,
        "context": dict(record.context or {}),
        "media_type": record.media_type,
        "size": record.size,
        "md5": record.md5,
        "sha1": record.sha1,
        "sha256": record.sha256,
        "pdq": record.pdq,
        "pdq_quality": record.pdq_quality,
        "note": record.note,
        "evidence_item_id": record.evidence_item_id,
        "hits": [
            {
                "list": hit.list_name,
                "list_version": hit.list_version,
                "external_id": hit.external_id,
                "signal_type": hit.signal_type,
                "distance": hit.distance,
                "classification": hit.classification,
            }
            for hit in record.hits
        ],
        "case_id": entry.case.public_id if entry.case else None,
        "review": None
        if entry.item is None
        else {
            "item_id": entry.item.id,
            "status": entry.item.status.value,
            "classification": entry.item.classification,
            "annotations": list(entry.item.annotations or []),
            "decided_by": entry.item.decided_by,
            "decided_at": entry.item.decided_at,
        },
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
