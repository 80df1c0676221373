"""What screening found and kept: one MatchRecord per screened item that matched a list or
was sent to review (by a rule, a user report, an escalation or a classifier), its hits with
the list version each came from, and a link to the content kept as evidence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class Verdict(StrEnum):
    MATCH = "match"  # matched a list closely enough to act on without a person
    REVIEW = "review"  # a person must look (near match, report, escalation, classifier)
    NO_MATCH = "no_match"


class RecordSource(StrEnum):
    """How the item reached Vigil."""

    UPLOAD = "upload"  # the platform sent the bytes
    HASHES = "hashes"  # the platform sent only hashes it computed itself
    USER_REPORT = "user_report"  # someone flagged the content
    ESCALATION = "escalation"  # a moderator or analyst escalated it by hand
    CLASSIFIER = "classifier"  # a classifier score crossed the threshold


class MatchRecord(Base):
    __tablename__ = "match_records"
    __table_args__ = (
        Index(None, "platform_content_id"),
        Index(None, "received_at"),
        Index(None, "verdict", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # opaque id for clients
    source: Mapped[RecordSource] = mapped_column(enum_column_type(RecordSource, "record_source"))
    verdict: Mapped[Verdict] = mapped_column(enum_column_type(Verdict, "verdict"))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # the rules that decided it
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(200))  # "key:<prefix>" or "user:<name>"
    # The platform's own identifiers and upload context (IP and port with time, email, ...).
    platform_content_id: Mapped[str] = mapped_column(String(255))
    platform_account_id: Mapped[str | None] = mapped_column(String(255))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    media_type: Mapped[str | None] = mapped_column(String(16))  # "photo" / "video"
    size: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(SmallInteger)
    frame_count: Mapped[int | None] = mapped_column(SmallInteger)
    classifier: Mapped[dict[str, Any] | None] = mapped_column()  # name, score, labels
    note: Mapped[str | None] = mapped_column(Text)  # reporter's or escalator's words
    evidence_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True
    )

    hits: Mapped[list[MatchHit]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="MatchHit.id",
    )


class MatchHit(Base):
    """One list entry the item matched, frozen as it was at match time."""

    __tablename__ = "match_hits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("match_records.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="RESTRICT"), index=True
    )
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id", ondelete="RESTRICT"))
    list_name: Mapped[str] = mapped_column(String(200))
    list_version: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(255))
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int | None] = mapped_column(SmallInteger)
    variant: Mapped[str | None] = mapped_column(String(32))
    classification: Mapped[str | None] = mapped_column(String(64))
    share: Mapped[float | None] = mapped_column(Float)  # videos: matched share of frames
    # the flood guard held the entry as suspect: the hit went to review, not to action
    suspect: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Provenance (vigil.store.exchanges.provenance), frozen like the rest; NULL before 0015.
    exchange: Mapped[str | None] = mapped_column(String(200))
    exchange_kind: Mapped[str | None] = mapped_column(String(32))
    member: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    entry_source: Mapped[str | None] = mapped_column(String(500))  # ListEntry.source

    record: Mapped[MatchRecord] = relationship(back_populates="hits")
