"""The review console's records: one case per uploading account, the flagged items in it,
every decision, requests to disable a list entry (the two-reviewer rule) and each
reviewer's exposure to media."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class CaseStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"  # abuse confirmed: goes to reporting
    DISMISSED = "dismissed"  # nothing to report (every item a false positive)


class CasePriority:
    """Queue order, lowest first: a child who may be in danger now comes before anything."""

    URGENT = 0  # an escalation or a suspected child in imminent danger
    LIKELY_NEW = 1  # no known-material match: possibly new abuse, possibly ongoing
    KNOWN = 2  # re-circulated material already classified by a list


class ItemStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"


class DecisionKind(StrEnum):
    CONFIRM = "confirm"
    FALSE_POSITIVE = "false_positive"
    SECOND_OPINION = "second_opinion"
    ESCALATE = "escalate"
    DE_ESCALATE = "de_escalate"  # a person's escalation undone (issue 18)


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExposureKind(StrEnum):
    REVEAL = "reveal"  # one item shown unblurred
    MEDIA_TIME = "media_time"  # seconds spent on a screen showing (blurred) media


class Case(Base):
    __tablename__ = "review_cases"
    __table_args__ = (
        # One open case per account: everything flagged for it joins that case.
        Index(
            "uq_review_cases_open_account",
            "account_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(None, "status", "priority", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # "account:<platform account id>", or "content:<content id>" when none was given
    account_key: Mapped[str] = mapped_column(String(300))
    platform_account_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[CaseStatus] = mapped_column(
        enum_column_type(CaseStatus, "case_status"), default=CaseStatus.OPEN
    )
    priority: Mapped[int] = mapped_column(SmallInteger, default=CasePriority.KNOWN)
    priority_reason: Mapped[str] = mapped_column(Text, default="")
    imminent_danger: Mapped[bool] = mapped_column(default=False)
    escalated: Mapped[bool] = mapped_column(default=False)
    # The words of the person who escalated: the report's escalateToHighPriority.
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    second_opinion: Mapped[bool] = mapped_column(default=False)
    incident_type: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None]

    items: Mapped[list[CaseItem]] = relationship(
        back_populates="case", order_by="CaseItem.id", lazy="selectin"
    )


class CaseItem(Base):
    """One flagged piece of content (a match record) in a case."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_cases.id", ondelete="CASCADE"), index=True
    )
    record_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("match_records.id", ondelete="RESTRICT"), unique=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[ItemStatus] = mapped_column(
        enum_column_type(ItemStatus, "item_status"), default=ItemStatus.PENDING
    )
    classification: Mapped[str | None] = mapped_column(String(2))  # A1, A2, B1, B2
    annotations: Mapped[list[str]] = mapped_column(JSON, default=list)  # CyberTipline's
    # Known without viewing: a trusted list's or an earlier decision's classification.
    inherited_classification: Mapped[str | None] = mapped_column(String(64))
    inherited_from: Mapped[str | None] = mapped_column(String(300))
    reveals: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="items")


class ReviewDecision(Base):
    """Append-only: every decision, with how many reveals it needed."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_cases.id", ondelete="RESTRICT"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[DecisionKind] = mapped_column(enum_column_type(DecisionKind, "decision_kind"))
    reviewer: Mapped[str] = mapped_column(String(200))  # actor, e.g. "user:alice"
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    reveals_needed: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what changed in lists


class EntryDisableRequest(Base):
    """A false positive asks to disable a list entry; with the two-reviewer rule on, a
    second reviewer must approve before the entry stops matching."""

    __tablename__ = "review_entry_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="RESTRICT"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="SET NULL")
    )
    status: Mapped[RequestStatus] = mapped_column(
        enum_column_type(RequestStatus, "request_status"), default=RequestStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]


class ExposureEvent(Base):
    """What a reviewer was exposed to: reveals and time on media screens (never content)."""

    __tablename__ = "review_exposure"
    __table_args__ = (Index(None, "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[ExposureKind] = mapped_column(enum_column_type(ExposureKind, "exposure_kind"))
    item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="SET NULL")
    )
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
