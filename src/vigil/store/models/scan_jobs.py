"""Backlog scan jobs (issue 17): one row per scan of an object source, with the checkpoint
it resumes from, and the matches it found, waiting for review at the reviewers' pace.

A job's results live in its Parquet fingerprint store (``store_dir``); only the matches come
into the database. ``checkpoint`` names the last object of the contiguous prefix of the
listing whose chunks are finished (Parquet part written, matches stored): a resumed job
starts after it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class ScanJobStatus(StrEnum):
    RUNNING = "running"  # started and not finished (or its process died: see resume)
    INTERRUPTED = "interrupted"  # stopped by a signal or a limit; resumable
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # an operator gave up on it; never resumed
    FAILED = "failed"  # stopped on an error about the job, not an object; resumable


class ScanMatchState(StrEnum):
    QUEUED = "queued"  # found, waiting under the review ceiling
    RELEASED = "released"  # released to the review queue (a match record and its case)


class ScanJob(Base):
    __tablename__ = "scan_jobs"
    __table_args__ = (Index(None, "source", "status"),)  # "the unfinished job of this source"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the source's description: the run key
    engine: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ScanJobStatus] = mapped_column(
        enum_column_type(ScanJobStatus, "scan_job_status"), default=ScanJobStatus.RUNNING
    )
    checkpoint: Mapped[str | None] = mapped_column(Text)
    chunks: Mapped[int] = mapped_column(Integer, default=0)  # finished, = the last part number
    objects: Mapped[int] = mapped_column(BigInteger, default=0)  # listed rows finished
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    matches: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)  # objects in the source, when known
    store_dir: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ScanJobMatch(Base):
    """One list entry one object matched. Unique per (job, object, entry): a chunk stored
    again after a crash adds nothing. No foreign key to the list or the entry: the row says
    what matched when the scan ran, as a match hit does."""

    __tablename__ = "scan_job_matches"
    __table_args__ = (
        Index(None, "job_id", "identity", "entry_id", unique=True),
        Index(None, "state", "id"),  # the release order
        Index(None, "released_at"),  # the ceiling's window
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("scan_jobs.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(Text)
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text)
    list_id: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int | None] = mapped_column(SmallInteger)
    state: Mapped[ScanMatchState] = mapped_column(
        enum_column_type(ScanMatchState, "scan_match_state"), default=ScanMatchState.QUEUED
    )
    record_public_id: Mapped[str | None] = mapped_column(String(32))  # once released
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]


RETRO_STATE_ROW_ID = 1


class ScanRetroState(Base):
    """Retroactive matching's one row: the change-feed number the last round matched up to
    (the next round's start), moved in the transaction that stores the round's matches, and
    how the last round went, so an operator sees a failed automatic round."""

    __tablename__ = "scan_retro_state"
    __table_args__ = (CheckConstraint(f"id = {RETRO_STATE_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    checkpoint: Mapped[int] = mapped_column(BigInteger, default=0)
    last_retro_at: Mapped[datetime | None]
    last_retro_by: Mapped[str | None] = mapped_column(String(200))  # "cli", "exchange NAME"
    last_retro_matches: Mapped[int | None] = mapped_column(BigInteger)  # new for review
    last_retro_error: Mapped[str | None] = mapped_column(Text)  # None: the round succeeded
