"""The intake's operations, one per endpoint of the CyberTipline Reporting API, on a session
the caller owns: open a report, add files and file details, finish, retract, expire.

Every refusal is an IntakeRefused carrying the documented response code. Operations flush and
leave committing to the caller, except add_file: its evidence is sealed (encrypted, written)
before anything is committed, and placing the report hold commits the file row, the evidence
row and the hold together. A report belongs to the company that opened it; to any other
company it does not exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, joinedload, lazyload

from vigil.clearinghouse.codes import IntakeRefused, ResponseCode
from vigil.fingerprint.pipeline import fingerprint_bytes
from vigil.reporting.cybertipline import report_rules
from vigil.reporting.cybertipline.expiry import Windows, expiry_deadline
from vigil.reporting.cybertipline.received import (
    as_dict,
    batched_reason,
    read_file_details,
    read_report,
)
from vigil.reporting.cybertipline.report_rules import VIRAL, VIRAL_FILE_LIMIT, Checking
from vigil.reporting.cybertipline.schema import UnsafeXml, safe_parse, validate
from vigil.store.affected_rows import affected_rows
from vigil.store.evidence import EvidenceTooLarge, EvidenceVault, HoldPolicy, place_report_hold
from vigil.store.models import utcnow
from vigil.store.models.intake import IntakeFile, IntakeReport, IntakeState, ReportingCompany

log = logging.getLogger(__name__)

MAX_FILE_NAME = 500
MAX_REPORT_ID_CHARS = 19  # a long

FinishedHook = Callable[[Session, IntakeReport], None]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What /finish answers: the preservation notice to the reporting company."""

    report_id: int
    file_ids: list[str]


def _no_hook(_session: Session, _report: IntakeReport) -> None:
    """The default on_finished: nothing more to do."""


def open_report(
    session: Session,
    company: ReportingCompany,
    raw_xml: bytes,
    request_id: str,
    *,
    now: datetime | None = None,
) -> IntakeReport:
    """/submit: a new open report holding ``raw_xml`` byte for byte and its parsed form."""
    root = _checked_document(raw_xml, "report")
    parsed = as_dict(root)
    batched = batched_reason(read_report(parsed)) is not None
    now = now or utcnow()
    _refuse_problems(
        report_rules.problems(
            root,
            Checking(
                now, is_prior_report=lambda number: _finished_report_of(session, company, number)
            ),
        )
    )
    report = IntakeReport(
        company_id=company.id,
        raw_xml=bytes(raw_xml),
        parsed=parsed,
        request_id=request_id[:64],
        batched=batched,
        opened_at=now,
        last_activity_at=now,
    )
    session.add(report)
    session.flush()
    return report


def add_file(
    session: Session,
    vault: EvidenceVault,
    report_id: str | int,
    company: ReportingCompany,
    content: bytes,
    file_name: str | None,
    *,
    hold_policy: HoldPolicy,
    windows: Windows = Windows(),
    now: datetime | None = None,
) -> IntakeFile:
    """/upload: the file sealed into the evidence vault under a report legal hold, with its
    digests and PDQ. Commits (see the module docstring)."""
    now = now or utcnow()
    report = open_report_of(session, report_id, company, now=now, windows=windows, lock=True)
    if not content:
        raise IntakeRefused(ResponseCode.MALFORMED_FILE, "the file is empty", report_id=report.id)
    name = (file_name or "").strip()[:MAX_FILE_NAME] or None
    fingerprint = fingerprint_bytes(content, name=name or "upload")
    try:
        item = vault.seal(
            content,
            now=now,
            retain_until=now + hold_policy.report_period(None),
            retention_policy="clearinghouse report",
            media_type=fingerprint.media_type,
            reference=f"intake:{report.id}",
        )
    except EvidenceTooLarge:
        raise IntakeRefused(
            ResponseCode.FILE_UPLOAD_FAILED, "the file is too large", report_id=report.id
        ) from None
    try:
        session.add(item)
        session.flush()
        record = IntakeFile(
            public_id=uuid.uuid4().hex,
            report_id=report.id,
            file_name=name,
            evidence_item_id=item.id,
            size=len(content),
            md5=fingerprint.md5 or "",
            sha1=fingerprint.sha1 or "",
            sha256=fingerprint.sha256 or "",
            pdq=None if fingerprint.pdq_weak else fingerprint.pdq,  # weak hashes collide
            media_type=fingerprint.media_type,
            received_at=now,
        )
        session.add(record)
        report.last_activity_at = now
        session.flush()
        place_report_hold(
            session,
            item.id,
            placed_by=f"intake:{company.username}",
            reason=f"clearinghouse report {report.id}",
            policy=hold_policy,
            now=now,
        )
    except Exception:
        session.rollback()
        _discard(vault, item.blob_id)
        raise
    return record


def add_file_details(
    session: Session,
    company: ReportingCompany,
    raw_xml: bytes,
    *,
    windows: Windows = Windows(),
    now: datetime | None = None,
) -> IntakeFile:
    """/fileinfo: the validated <fileDetails>, once per file of the company's open report."""
    root = _checked_document(raw_xml, "fileDetails")
    parsed = as_dict(root)
    details = read_file_details(parsed)
    now = now or utcnow()
    report = open_report_of(
        session,
        "" if details.report_id is None else details.report_id,
        company,
        now=now,
        windows=windows,
        lock=True,
        with_files=True,
    )
    _refuse_problems(
        report_rules.problems(root, Checking(now, viral=report.batched and _is_viral(report))),
        report.id,
    )
    record = next((f for f in report.files if f.public_id == (details.file_id or "")), None)
    if record is None:
        raise IntakeRefused(ResponseCode.FILE_DOES_NOT_EXIST, report_id=report.id)
    if record.details_xml is not None:
        raise IntakeRefused(
            ResponseCode.INVALID_REQUEST,
            "details were already submitted for this file",
            report_id=report.id,
        )
    record.details_xml = bytes(raw_xml)
    record.details = parsed
    report.last_activity_at = now
    session.flush()
    return record


def finish(
    session: Session,
    report_id: str | int,
    company: ReportingCompany,
    *,
    on_finished: FinishedHook | None = None,
    windows: Windows = Windows(),
    now: datetime | None = None,
) -> Receipt:
    """/finish: the report is complete and can no longer change; ``on_finished`` (e.g. file
    matching) runs in the same transaction, so a failure there leaves the report open."""
    now = now or utcnow()
    report = open_report_of(
        session, report_id, company, now=now, windows=windows, lock=True, with_files=True
    )
    if report.batched and len(report.files) > VIRAL_FILE_LIMIT and _is_viral(report):
        raise IntakeRefused(
            ResponseCode.VALIDATION_FAILED,
            report_rules.VIRAL_FILE_LIMIT_WORDING,
            report_id=report.id,
        )
    report.state = IntakeState.FINISHED
    report.finished_at = now
    report.last_activity_at = now
    session.flush()
    (on_finished or _no_hook)(session, report)
    return Receipt(report.id, [f.public_id for f in report.files])


def retract(
    session: Session,
    report_id: str | int,
    company: ReportingCompany,
    *,
    windows: Windows = Windows(),
    now: datetime | None = None,
) -> int:
    """/retract: cancel an open report. Its files stay in the vault under their hold."""
    now = now or utcnow()
    report = open_report_of(session, report_id, company, now=now, windows=windows, lock=True)
    report.state = IntakeState.RETRACTED
    report.last_activity_at = now
    session.flush()
    return report.id


def expire_stale(
    session: Session, now: datetime | None = None, *, windows: Windows = Windows()
) -> int:
    """Mark every open report past its deadline expired; returns how many. Flushes."""
    now = now or utcnow()
    return affected_rows(
        session,
        update(IntakeReport)
        .where(
            and_(
                IntakeReport.state == IntakeState.OPEN,
                IntakeReport.opened_at <= now - windows.open,
                IntakeReport.last_activity_at <= now - windows.idle,
            )
        )
        .values(state=IntakeState.EXPIRED)
        .execution_options(synchronize_session="fetch"),
    )


def open_report_of(
    session: Session,
    report_id: str | int,
    company: ReportingCompany,
    *,
    now: datetime,
    windows: Windows = Windows(),
    lock: bool = False,
    with_files: bool = False,
) -> IntakeReport:
    """The company's report, if it can still change; otherwise the documented refusal.
    ``with_files`` reads its files in the same query (they load lazily otherwise)."""
    number = parse_report_id(report_id)
    files = joinedload(IntakeReport.files) if with_files else lazyload(IntakeReport.files)
    query = (
        select(IntakeReport)
        .options(files)
        .where(IntakeReport.id == number, IntakeReport.company_id == company.id)
    )
    if lock:  # only the report row: FOR UPDATE may not reach an outer join's nullable side
        query = query.with_for_update(of=IntakeReport)
    report = session.scalars(query).unique().first()
    if report is None or report.state == IntakeState.EXPIRED:
        raise IntakeRefused(ResponseCode.REPORT_DOES_NOT_EXIST, report_id=number)
    if report.state == IntakeState.RETRACTED:
        raise IntakeRefused(ResponseCode.REPORT_ALREADY_RETRACTED, report_id=number)
    if report.state == IntakeState.FINISHED:
        raise IntakeRefused(ResponseCode.REPORT_ALREADY_FINISHED, report_id=number)
    # Not swept yet, but already deleted for the reporter:
    if now >= expiry_deadline(report.opened_at, report.last_activity_at, windows):
        raise IntakeRefused(ResponseCode.REPORT_DOES_NOT_EXIST, report_id=number)
    return report


def parse_report_id(value: str | int) -> int:
    """A report id as sent (a form field or XML text); 4000 when missing or not a number."""
    text = str(value).strip()
    if not text:
        raise IntakeRefused(ResponseCode.INVALID_REQUEST, "the report id is missing")
    if len(text) > MAX_REPORT_ID_CHARS or not text.isascii() or not text.isdigit():
        raise IntakeRefused(ResponseCode.INVALID_REQUEST, "the report id must be a number")
    number = int(text)
    if number >= 2**63:
        raise IntakeRefused(ResponseCode.INVALID_REQUEST, "the report id must be a number")
    return number


def _checked_document(raw_xml: bytes, root_name: str) -> etree._Element:
    try:
        root = safe_parse(raw_xml)
    except UnsafeXml as exc:
        raise IntakeRefused(ResponseCode.MALFORMED_XML, str(exc)) from None
    problems = validate(raw_xml, root=root_name)
    if problems:
        raise IntakeRefused(ResponseCode.VALIDATION_FAILED, str(problems[0]))
    return root


def _finished_report_of(session: Session, company: ReportingCompany, number: int) -> bool:
    """Appendix B's "a valid CyberTipline report ID" for a prior report: one this company
    filed and finished here (to any other company a report does not exist)."""
    return (
        session.scalar(
            select(IntakeReport.id).where(
                IntakeReport.id == number,
                IntakeReport.company_id == company.id,
                IntakeReport.state == IntakeState.FINISHED,
            )
        )
        is not None
    )


def _refuse_problems(problems: list[str], report_id: int | None = None) -> None:
    if problems:
        raise IntakeRefused(ResponseCode.VALIDATION_FAILED, problems[0], report_id=report_id)


def _is_viral(report: IntakeReport) -> bool:
    return batched_reason(read_report(report.parsed, report.raw_xml)) == VIRAL


def _discard(vault: EvidenceVault, blob_id: str) -> None:
    try:
        vault.backend.delete(blob_id)
    except Exception:
        log.warning("could not delete an uncommitted intake blob; sweep_orphans will")
