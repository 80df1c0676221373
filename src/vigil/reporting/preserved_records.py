"""Never "no records": what Vigil still holds about a report it made or an account, and for
everything destroyed, exactly when, by whom and why (EvidencePurge).

Report rows are never deleted and evidence rows outlive their content as tombstones, so a
report Vigil made always has an answer, whatever the retention job did since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.reporting.account_data import (
    account_records,
    account_reports,
    case_records,
    report_case_ids,
)
from vigil.reporting.preservation import file_part_name, package_item_ids, part_name_of
from vigil.reporting.preservation_errors import InvalidRequest
from vigil.store.evidence import active_holds
from vigil.store.models import EvidenceItem, EvidencePurge, Report, utcnow

MAX_ID = 255


@dataclass(frozen=True)
class ItemRecord:
    """One piece of evidence and what became of it."""

    evidence_item_id: str
    role: str  # "package manifest", "package part report.xml", "reported file ...", ...
    sha256: str
    size: int
    state: str  # held, kept (retention only), purged
    held_until: datetime | None
    retain_until: datetime
    purged_at: datetime | None = None
    purged_by: str | None = None
    purge_reason: str | None = None

    def describe(self) -> str:
        if self.state == "purged":
            return (
                f"{self.role}: purged at {self.purged_at} by {self.purged_by}: {self.purge_reason}"
            )
        if self.state == "held":
            return f"{self.role}: preserved, under legal hold until {self.held_until}"
        return f"{self.role}: kept until {self.retain_until} (no legal hold)"


@dataclass(frozen=True)
class ReportRecords:
    public_id: str
    remote_report_id: str | None
    destination: str
    state: str
    finished_at: datetime | None
    package_sha256: str | None
    status: str  # preserved, partly purged, purged, no package
    items: tuple[ItemRecord, ...]
    summary: str


@dataclass(frozen=True)
class RecordsAnswer:
    reports: tuple[ReportRecords, ...]
    account_items: tuple[ItemRecord, ...]  # the account's own evidence, reported or not
    account_records: int  # match records Vigil keeps for the account
    summary: str

    @property
    def found(self) -> bool:
        return bool(self.reports or self.account_records)


def find_records(
    session: Session,
    *,
    account_id: str | None = None,
    report_public_id: str | None = None,
    remote_report_id: str | None = None,
    now: datetime | None = None,
) -> RecordsAnswer:
    """Everything Vigil reported that matches any given identifier. Raises InvalidRequest
    when none is given or one is malformed."""
    given = {
        "account_id": account_id,
        "report_public_id": report_public_id,
        "remote_report_id": remote_report_id,
    }
    if all(value is None for value in given.values()):
        raise InvalidRequest("give an account id, a report id or a remote report id")
    for name, value in given.items():
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= MAX_ID):
            raise InvalidRequest(f"{name} must be 1 to {MAX_ID} characters")
    now = now or utcnow()
    reports = _matching_reports(session, account_id, report_public_id, remote_report_id)
    answers = tuple(_report_records(session, report, now) for report in reports)
    records = account_records(session, account_id) if account_id is not None else []
    account_items = tuple(
        _item_record(session, item_id, f"account evidence (record {pid})", now)
        for pid, item_id in ((e.record.public_id, e.record.evidence_item_id) for e in records)
        if item_id is not None
    )
    return RecordsAnswer(
        answers, account_items, len(records), _summary(given, answers, len(records))
    )


def _matching_reports(
    session: Session, account_id: str | None, public_id: str | None, remote_id: str | None
) -> list[Report]:
    found: dict[int, Report] = {}
    if public_id is not None:
        found.update(
            (r.id, r) for r in session.scalars(select(Report).where(Report.public_id == public_id))
        )
    if remote_id is not None:
        found.update(
            (r.id, r)
            for r in session.scalars(select(Report).where(Report.remote_report_id == remote_id))
        )
    if account_id is not None:
        found.update((r.id, r) for r in account_reports(session, account_id))
    return [found[key] for key in sorted(found)]


def _report_records(session: Session, report: Report, now: datetime) -> ReportRecords:
    roles: dict[str, str] = {}
    for item_id in package_item_ids(session, report):
        item = session.get_one(EvidenceItem, item_id)
        name = part_name_of(item.reference, report.public_id)
        roles.setdefault(item_id, "package manifest" if not name else f"package part {name}")
    for file in report.files:
        if file.evidence_item_id is not None:
            roles.setdefault(file.evidence_item_id, f"reported file {file_part_name(file)}")
    for entry in case_records(session, report_case_ids(session, report)):
        if entry.record.evidence_item_id is not None:
            roles.setdefault(
                entry.record.evidence_item_id, f"account data (record {entry.record.public_id})"
            )
    items = tuple(_item_record(session, item_id, role, now) for item_id, role in roles.items())
    status = _status(report, items)
    return ReportRecords(
        report.public_id,
        report.remote_report_id,
        report.destination,
        report.state.value,
        report.finished_at,
        report.package_sha256,
        status,
        items,
        _report_summary(report, status, items),
    )


def _item_record(session: Session, item_id: str, role: str, now: datetime) -> ItemRecord:
    item = session.get_one(EvidenceItem, item_id)
    if item.shredded_at is not None:
        purge = session.scalars(
            select(EvidencePurge).where(EvidencePurge.item_id == item_id)
        ).one_or_none()
        return ItemRecord(
            item_id,
            role,
            item.sha256,
            item.size,
            "purged",
            None,
            item.retain_until,
            purge.purged_at if purge else item.shredded_at,
            purge.actor if purge else None,
            purge.reason if purge else "shredded; no purge record was found",
        )
    holds = active_holds(session, item_id, now)
    held_until = max((hold.expires_at for hold in holds), default=None)
    return ItemRecord(
        item_id,
        role,
        item.sha256,
        item.size,
        "held" if holds else "kept",
        held_until,
        item.retain_until,
    )


def _status(report: Report, items: tuple[ItemRecord, ...]) -> str:
    purged = sum(item.state == "purged" for item in items)
    if not report.package_sha256 and not purged:
        return "no package"
    if purged == 0:
        return "preserved"
    return "purged" if purged == len(items) else "partly purged"


def _report_summary(report: Report, status: str, items: tuple[ItemRecord, ...]) -> str:
    head = (
        f"Report {report.public_id} (remote id {report.remote_report_id or 'none'}, "
        f"{report.destination}, {report.state.value}"
        f"{f', filed {report.finished_at.isoformat()}' if report.finished_at else ''}): "
        f"{status}."
    )
    if not items:
        return head + " No evidence was kept for it (hashes only)."
    return " ".join([head, *(item.describe() + "." for item in items)])


def _summary(given: dict[str, str | None], reports: tuple[ReportRecords, ...], records: int) -> str:
    asked = ", ".join(f"{name} {value}" for name, value in given.items() if value is not None)
    if not reports and not records:
        return f"Vigil made no report and keeps no records for {asked}."
    return f"For {asked}: {len(reports)} report(s), {records} match record(s). " + " ".join(
        report.summary for report in reports
    )
