"""``vigil scan`` runs and their per-file progress, so an interrupted scan resumes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, enum_column_type, utcnow


class ScanStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class ScanItemStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class ScanRun(Base):
    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[str] = mapped_column(Text)
    status: Mapped[ScanStatus] = mapped_column(
        enum_column_type(ScanStatus, "scan_status"), default=ScanStatus.RUNNING
    )
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # CLI options, for resume
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ScanItem(Base):
    """One file of a run. On resume a file is re-scanned only if its size or mtime changed."""

    __tablename__ = "scan_items"
    __table_args__ = (Index(None, "run_id", "status"),)  # "what is left to do"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("scan_runs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[ScanItemStatus] = mapped_column(
        enum_column_type(ScanItemStatus, "scan_item_status"), default=ScanItemStatus.PENDING
    )
    result: Mapped[dict[str, Any] | None]  # fingerprint and matches, as the scanner reports
    scanned_at: Mapped[datetime | None]

    run: Mapped[ScanRun] = relationship()
