"""The clearinghouse side: reporting companies, the reports and files they send through the
CyberTipline-compatible intake (raw documents kept byte for byte), what each file turned out
to be (known, seen, new), viral incidents, and the entities that link reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class IntakeState(StrEnum):
    OPEN = "open"  # /submit accepted; files may follow
    FINISHED = "finished"
    RETRACTED = "retracted"
    EXPIRED = "expired"  # not finished within the documented window: deleted


class FileVerdict(StrEnum):
    KNOWN = "known"  # matches a labelled entry: nobody needs to view it again
    SEEN = "seen"  # matches files of earlier reports, never labelled
    NEW = "new"  # matches nothing: possibly a child being abused now


class ReportingCompany(Base):
    """A platform allowed to report here, with its HTTP basic-auth credential."""

    __tablename__ = "intake_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class IntakeReport(Base):
    __tablename__ = "intake_reports"
    __table_args__ = (Index(None, "state", "last_activity_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # the reportId we answer with
    company_id: Mapped[int] = mapped_column(
        ForeignKey("intake_companies.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[IntakeState] = mapped_column(
        enum_column_type(IntakeState, "intake_state"), default=IntakeState.OPEN
    )
    raw_xml: Mapped[bytes] = mapped_column(LargeBinary)  # exactly as received
    parsed: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the parsed form
    request_id: Mapped[str] = mapped_column(String(64))  # the Request-ID we answered /submit
    batched: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("intake_incidents.id", ondelete="SET NULL"), index=True
    )
    # The analyst handling the report. Deconfliction hands a new linked report to the analyst
    # (or agency) of the earlier one instead of starting a parallel case.
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None]
    deconflicted_with_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="SET NULL")
    )

    files: Mapped[list[IntakeFile]] = relationship(
        back_populates="report", order_by="IntakeFile.id", lazy="selectin"
    )


class IntakeFile(Base):
    __tablename__ = "intake_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)  # the fileId we answer with
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str | None] = mapped_column(String(500))
    evidence_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT")
    )
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64), index=True)
    media_type: Mapped[str | None] = mapped_column(String(16))
    details_xml: Mapped[bytes | None] = mapped_column(LargeBinary)  # /fileinfo, byte for byte
    details: Mapped[dict[str, Any] | None] = mapped_column()
    verdict: Mapped[FileVerdict | None] = mapped_column(
        enum_column_type(FileVerdict, "file_verdict")
    )
    matched_entry_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="SET NULL")
    )
    matched_file_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("intake_files.id", ondelete="SET NULL")
    )  # earliest earlier copy
    classification: Mapped[str | None] = mapped_column(String(64))  # inherited when known
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[IntakeReport] = relationship(back_populates="files", foreign_keys=[report_id])


class IntakeIncident(Base):
    """Reports bundled because they carry the same viral or meme file: one item for analysts."""

    __tablename__ = "intake_incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_count: Mapped[int] = mapped_column(BigInteger, default=0)


class EntityKind(StrEnum):
    """What an IntakeEntity is (its ``kind`` column): written once here, where the
    clearinghouse extracts them and triage reads the IP addresses back."""

    EMAIL = "email"
    SCREEN_NAME = "screen_name"
    ESP_USER = "esp_user"
    IP = "ip"
    PHONE = "phone"
    URL = "url"
    DEVICE = "device"


class IntakeEntity(Base):
    """A normalised identifier found in reports: email, screen name, ESP user id, IP,
    phone, URL, device id. Shared entities link reports across companies."""

    __tablename__ = "intake_entities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(500))


class IntakeEntityLink(Base):
    __tablename__ = "intake_entity_links"

    entity_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_entities.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    seen_at: Mapped[datetime | None]  # e.g. the time of an IP capture event
    context: Mapped[str | None] = mapped_column(Text)  # where in the report it was found
