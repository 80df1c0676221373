"""Flood-guard suspicions: an entry whose matches surged, and what a person decided.

A suspicion does not change the entry's status: a suspect entry stays active and keeps
matching (the match index holds only active entries, and a surge must never switch
detection off); its matches go to review until a person confirms or quarantines it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow
from vigil.store.models.lists import ListEntry


class SuspicionState(StrEnum):
    OPEN = "open"  # the entry matches, every match goes to review
    CONFIRMED = "confirmed"  # a person found the entry right: its surge rate is accepted
    QUARANTINED = "quarantined"  # a person found it wrong: the entry stopped matching


class FloodSuspicion(Base):
    __tablename__ = "flood_suspicions"
    __table_args__ = (
        # One open suspicion per entry: two screeners seeing the same surge raise it once.
        Index(
            "uq_flood_suspicions_open_entry",
            "entry_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[SuspicionState] = mapped_column(
        enum_column_type(SuspicionState, "suspicion_state"), default=SuspicionState.OPEN
    )
    hour: Mapped[datetime]  # start of the hour that surged
    matches: Mapped[int] = mapped_column(BigInteger)  # in that hour, when it was raised
    baseline_rate: Mapped[float] = mapped_column(Float)
    limit: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # confirmed: the highest hourly count accepted; the limit is never below it again
    accepted_rate: Mapped[int | None] = mapped_column(BigInteger)

    entry: Mapped[ListEntry] = relationship()
