"""Import jobs: one file (or fetch) loaded into a hash list, resumable after a crash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, enum_column_type, utcnow
from vigil.store.models.lists import HashList


class ImportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportJob(Base):
    __tablename__ = "import_jobs"
    # "Was this exact file already imported into this list?" without a table scan.
    __table_args__ = (Index(None, "list_id", "file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id", ondelete="RESTRICT"))
    file_name: Mapped[str] = mapped_column(String(500))
    file_path: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    list_version: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ImportStatus] = mapped_column(
        enum_column_type(ImportStatus, "import_status"), default=ImportStatus.PENDING
    )
    # Records of the file fully processed and committed: a resumed job skips this many.
    records_done: Mapped[int] = mapped_column(BigInteger, default=0)
    records_total: Mapped[int | None] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    hash_list: Mapped[HashList] = relationship()
