"""Region hashes of pictures Vigil holds itself (vigil.fingerprint.held_regions): a confirmed
review item's media or a labelled clearinghouse file, so captioned and watermarked copies of
them are found by a second screening stage. Each row belongs to exactly one owner and goes
with it (a retention purge of the owner takes its hashes too)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, BigId, utcnow

ONE_OWNER = "(case_item_id IS NULL) <> (intake_file_id IS NULL)"


class HeldRegionHash(Base):
    __tablename__ = "held_region_hashes"
    __table_args__ = (
        UniqueConstraint("case_item_id", "region"),
        UniqueConstraint("intake_file_id", "region"),
        CheckConstraint(ONE_OWNER, name="one_owner"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="CASCADE")
    )
    intake_file_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("intake_files.id", ondelete="CASCADE")
    )
    region: Mapped[str] = mapped_column(String(32))  # a vigil.fingerprint.held_regions name
    pdq: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int] = mapped_column(SmallInteger)
    # A window's colour layout (vigil.fingerprint.held_windows), float32 bytes, and the
    # descriptor version it was made with; None for a region compared by PDQ alone.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    descriptor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
