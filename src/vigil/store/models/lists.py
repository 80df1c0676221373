"""Hash lists (banks), their entries, video frame sets and the entries' audit trail."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship, validates

from vigil.core.settings import DEFAULT_MIN_QUALITY, DEFAULT_PDQ_DISTANCE
from vigil.store.errors import InvalidSignal
from vigil.store.models.base import Base, BigId, enum_column_type, utcnow

if TYPE_CHECKING:
    from vigil.store.models.imports import ImportJob


class SignalType(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"
    VIDEO_PDQ = "video_pdq"  # signal is frame_set_signal() of the frames in list_entry_frames


class EntryStatus(StrEnum):
    ACTIVE = "active"  # the only status the match index uses
    DISABLED = "disabled"  # switched off locally, e.g. too many false positives
    QUARANTINED = "quarantined"  # held back pending review (flood guard, suspicious import)
    DELETED = "deleted"  # removed by the source; the row stays for the audit trail


SIGNAL_HEX_LENGTH = {
    SignalType.MD5: 32,
    SignalType.SHA1: 40,
    SignalType.SHA256: 64,
    SignalType.PDQ: 64,
    SignalType.VIDEO_PDQ: 64,
}
_HEX_DIGITS = frozenset("0123456789abcdef")


def normalise_signal(signal_type: SignalType | str, signal: str) -> str:
    """Lower-case hex of the right length for ``signal_type``; raises InvalidSignal."""
    kind = SignalType(signal_type)
    value = signal.strip().lower()
    if len(value) != SIGNAL_HEX_LENGTH[kind] or not _HEX_DIGITS.issuperset(value):
        raise InvalidSignal(
            f"{kind.value} signal must be {SIGNAL_HEX_LENGTH[kind]} hex digits, "
            f"got {len(value)} characters"
        )
    return value


def frame_set_signal(frame_pdqs: Iterable[str]) -> str:
    """The ``signal`` of a video entry: SHA-256 of its frames' PDQ hashes in order, so that
    importing the same video twice hits the unique constraint like any other entry."""
    frames = [normalise_signal(SignalType.PDQ, pdq) for pdq in frame_pdqs]
    if not frames:
        raise InvalidSignal("a video entry needs at least one frame")
    return hashlib.sha256(",".join(frames).encode("ascii")).hexdigest()


class HashList(Base):
    """A bank of known hashes from one source. Lists are disabled, never deleted, once they
    hold entries (the foreign keys restrict it) so the audit trail stays whole."""

    __tablename__ = "hash_lists"
    __table_args__ = (
        CheckConstraint("pdq_distance BETWEEN 0 AND 256", name="pdq_distance_range"),
        CheckConstraint("min_quality BETWEEN 0 AND 100", name="min_quality_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    pdq_distance: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_PDQ_DISTANCE)
    min_quality: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_MIN_QUALITY)
    is_allow_list: Mapped[bool] = mapped_column(default=False)
    # How the list is fetched ("file", "http", ...) and the fetcher's options. Never put
    # credentials in source_config: name the environment variable that holds them instead.
    source_kind: Mapped[str] = mapped_column(String(32), default="manual")
    source_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[str | None] = mapped_column(String(200))  # as the source names it
    checkpoint: Mapped[str | None] = mapped_column(Text)  # opaque cursor for delta fetches
    change_seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # see change_feed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    entries: WriteOnlyMapped[ListEntry] = relationship(back_populates="hash_list")

    def __repr__(self) -> str:
        return f"HashList(id={self.id!r}, name={self.name!r}, enabled={self.enabled!r})"


class ListEntry(Base):
    """One known hash in one list.

    Unique on (list_id, signal_type, signal): re-importing a record finds the existing row, and
    a source listing one hash twice yields one entry (the first record's metadata wins).
    External ids are left out of the key because many sources have none and NULLs never
    collide in a unique constraint, which would make those re-imports duplicate rows.
    """

    __tablename__ = "list_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "signal_type", "signal"),
        Index(None, "signal_type", "signal"),  # exact lookups across all lists
        Index(None, "list_id", "external_id"),  # sources (NCMEC) delete by their own id
        CheckConstraint("match_count >= 0", name="match_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id", ondelete="RESTRICT"))
    signal_type: Mapped[SignalType] = mapped_column(enum_column_type(SignalType, "signal_type"))
    signal: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    classification: Mapped[str | None] = mapped_column(String(64))
    series: Mapped[str | None] = mapped_column(String(255))
    victim_identified: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)
    # Provenance from a hash exchange: the member that shared the entry, the exchange's tags.
    member: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))  # NULL, not "null"
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    import_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str | None] = mapped_column(String(500))  # file name, URL or "manual:<user>"
    list_version: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[EntryStatus] = mapped_column(
        enum_column_type(EntryStatus, "entry_status"), default=EntryStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_by: Mapped[str | None] = mapped_column(String(200))
    status_at: Mapped[datetime | None]
    match_count: Mapped[int] = mapped_column(BigInteger, default=0)
    change_seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # see change_feed

    hash_list: Mapped[HashList] = relationship(back_populates="entries")
    import_job: Mapped[ImportJob | None] = relationship()
    frames: Mapped[list[EntryFrame]] = relationship(
        order_by="EntryFrame.position", cascade="all, delete-orphan", back_populates="entry"
    )
    events: WriteOnlyMapped[EntryEvent] = relationship(
        order_by="EntryEvent.id", back_populates="entry"
    )

    @validates("signal_type")
    def _check_signal_type(self, _key: str, value: SignalType | str) -> SignalType:
        kind = SignalType(value)
        if self.signal is not None:
            normalise_signal(kind, self.signal)
        return kind

    @validates("signal")
    def _check_signal(self, _key: str, value: str) -> str:
        if self.signal_type is None:  # checked again when the type is assigned
            return value.strip().lower()
        return normalise_signal(self.signal_type, value)

    def set_status(
        self,
        status: EntryStatus,
        *,
        actor: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> EntryEvent | None:
        """Change the status and append the audit event; None if the status is unchanged."""
        if status == self.status:
            return None
        when = at or utcnow()
        event = EntryEvent(
            old_status=self.status, new_status=status, reason=reason, actor=actor, at=when
        )
        self.events.add(event)
        self.status, self.status_reason, self.status_by, self.status_at = (
            status,
            reason,
            actor,
            when,
        )
        return event

    def __repr__(self) -> str:
        return (
            f"ListEntry(id={self.id!r}, list_id={self.list_id!r}, "
            f"{self.signal_type}={self.signal!r}, status={self.status!r})"
        )


class EntryFrame(Base):
    """One sampled frame of a video entry; frames never change after the entry is created."""

    __tablename__ = "list_entry_frames"

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    pdq: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(SmallInteger)
    time_offset: Mapped[float | None] = mapped_column(Float)  # seconds from the start

    entry: Mapped[ListEntry] = relationship(back_populates="frames")

    @validates("pdq")
    def _check_pdq(self, _key: str, value: str) -> str:
        return normalise_signal(SignalType.PDQ, value)


class EntryEvent(Base):
    """Append-only audit trail of entry status changes (the ORM refuses updates and deletes)."""

    __tablename__ = "list_entry_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="RESTRICT"), index=True
    )
    old_status: Mapped[EntryStatus | None] = mapped_column(
        enum_column_type(EntryStatus, "entry_event_old_status")
    )
    new_status: Mapped[EntryStatus] = mapped_column(
        enum_column_type(EntryStatus, "entry_event_new_status")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[ListEntry] = relationship(back_populates="events")
