"""Per-entry match counts per hour: the history the flood guard compares a surge against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, BigId


class MatchStat(Base):
    __tablename__ = "match_stats"
    __table_args__ = (
        Index(None, "bucket_start"),  # pruning old buckets
        CheckConstraint("match_count > 0", name="match_count_positive"),
    )

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="CASCADE"), primary_key=True
    )
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)  # whole UTC hour
    match_count: Mapped[int] = mapped_column(BigInteger)
