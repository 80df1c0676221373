"""Reports to a clearinghouse (CyberTipline and other destinations): each report, the files
sent with it, every exchange with the destination (the resumable state machine's memory),
and law-enforcement requests with their links, response packages and chain of custody."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class ReportKind(StrEnum):
    CASE = "case"  # one confirmed case: one account
    BATCHED = "batched"  # a viral/meme file shared by many accounts (Appendix E)
    SUPPLEMENTAL = "supplemental"  # more about a case already reported


class ReportState(StrEnum):
    """Each step is recorded before the next is taken, so a crash resumes where it stopped."""

    DRAFT = "draft"  # built and valid, nothing sent
    OPENED = "opened"  # /submit accepted: the destination's report id is known
    FILES = "files"  # uploading files and their details
    FINISHING = "finishing"  # /finish sent, answer not yet recorded
    FINISHED = "finished"  # the destination has the report: receipt kept
    FAILED = "failed"  # a person must look (with the reason)
    RETRACTED = "retracted"


class FileState(StrEnum):
    PENDING = "pending"
    UPLOADED = "uploaded"  # /upload answered with a file id
    DESCRIBED = "described"  # /fileinfo accepted


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index(None, "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[ReportKind] = mapped_column(enum_column_type(ReportKind, "report_kind"))
    destination: Mapped[str] = mapped_column(String(64))  # a configured destination's name
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_cases.id", ondelete="RESTRICT"), index=True
    )
    supplemental_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="RESTRICT")
    )
    state: Mapped[ReportState] = mapped_column(
        enum_column_type(ReportState, "report_state"), default=ReportState.DRAFT
    )
    xml: Mapped[str] = mapped_column(Text)  # the validated <report> document
    remote_report_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)  # the destination's final answer
    package_sha256: Mapped[str | None] = mapped_column(String(64))  # of the kept manifest

    files: Mapped[list[ReportFile]] = relationship(
        back_populates="report", order_by="ReportFile.id", lazy="selectin"
    )


class ReportCase(Base):
    """The cases a (batched) report covers; a case report has exactly its own."""

    __tablename__ = "report_cases"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_cases.id", ondelete="RESTRICT"), primary_key=True
    )


class ReportFile(Base):
    __tablename__ = "report_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="RESTRICT"), index=True
    )
    evidence_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT")
    )
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    viewed_by_esp: Mapped[bool] = mapped_column(default=False)  # from the audit log, honest
    file_details_xml: Mapped[str | None] = mapped_column(Text)  # the <fileDetails> sent
    state: Mapped[FileState] = mapped_column(
        enum_column_type(FileState, "file_state"), default=FileState.PENDING
    )
    remote_file_id: Mapped[str | None] = mapped_column(String(64))

    report: Mapped[Report] = relationship(back_populates="files")


class ReportExchange(Base):
    """Every request to a destination and its answer: endpoint, HTTP status, the
    destination's response code and Request-ID. Append-only."""

    __tablename__ = "report_exchanges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    endpoint: Mapped[str] = mapped_column(String(32))  # submit, upload, fileinfo, finish...
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_code: Mapped[int | None] = mapped_column(Integer)  # the API's <responseCode>
    request_id: Mapped[str | None] = mapped_column(String(128))  # Request-ID header
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    answer: Mapped[str | None] = mapped_column(Text)  # the response body, at most 8 KiB


class LegalRequestKind(StrEnum):
    PRESERVATION = "preservation"
    SUBPOENA = "subpoena"
    WARRANT = "warrant"
    EMERGENCY = "emergency"  # emergency disclosure: to the top, short deadline


class LegalRequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class LegalRequest(Base):
    __tablename__ = "legal_requests"
    __table_args__ = (Index(None, "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    agency: Mapped[str] = mapped_column(String(300))
    agency_case_number: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LegalRequestKind] = mapped_column(
        enum_column_type(LegalRequestKind, "legal_request_kind")
    )
    status: Mapped[LegalRequestStatus] = mapped_column(
        enum_column_type(LegalRequestStatus, "legal_request_status"),
        default=LegalRequestStatus.OPEN,
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    document_evidence_id: Mapped[str | None] = mapped_column(  # the legal document, encrypted
        ForeignKey("evidence_items.id", ondelete="RESTRICT")
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))


class LegalRequestLink(Base):
    """What a request is about: a report, an account, or both."""

    __tablename__ = "legal_request_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("reports.id", ondelete="RESTRICT")
    )
    account_id: Mapped[str | None] = mapped_column(String(255), index=True)


class CustodyEvent(Base):
    """Chain of custody of a request's package: who produced, exported, handed over what,
    with the hash of what left. Append-only."""

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))  # e.g. package_built, handed_over
    sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
