"""Triage of clearinghouse reports: each report's explained priority and score, the weight
sets that produced them, analysts' notes and priority overrides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, BigId, JsonDocument, enum_column_type, utcnow


class Disposition(StrEnum):
    REFERRAL = "referral"  # goes to an agency that can act
    INFORMATIONAL = "informational"  # kept and counted, not referred (e.g. viral, nothing new)


class ReportTriage(Base):
    """The current triage of one finished report. ``reasons`` is the explanation: a list of
    {name, weight, value, points, detail} dicts, each from data in the report or the
    clearinghouse, so the score can be read rather than trusted."""

    __tablename__ = "report_triage"
    __table_args__ = (Index(None, "effective_priority", "score"),)

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), primary_key=True
    )
    priority: Mapped[int] = mapped_column(Integer)  # 1 = a child may be in imminent danger .. 4
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)
    disposition: Mapped[Disposition] = mapped_column(enum_column_type(Disposition, "disposition"))
    weights_version: Mapped[str] = mapped_column(String(64))
    first_computed_at: Mapped[datetime] = mapped_column(default=utcnow)  # time to triage
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)  # the latest scoring
    computations: Mapped[int] = mapped_column(Integer, default=1)  # how often (re)scored
    # Set when a new fact arrives (a label, a linked report, a note): the triage job re-scores.
    stale: Mapped[bool] = mapped_column(default=False, index=True)
    # A person's override wins over the computed priority; both are kept.
    override_priority: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(200))
    override_at: Mapped[datetime | None]
    effective_priority: Mapped[int] = mapped_column(Integer)  # override or computed: the queue key


class TriageWeightSet(Base):
    """A version of the weights file as applied: changing the file re-scores the open queue."""

    __tablename__ = "triage_weight_sets"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)  # the file as applied, byte for byte
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_by: Mapped[str] = mapped_column(String(200))
    rescored: Mapped[int] = mapped_column(Integer, default=0)


class TriageNote(Base):
    """An analyst's note on a report; a new fact, so the report is re-scored."""

    __tablename__ = "triage_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
