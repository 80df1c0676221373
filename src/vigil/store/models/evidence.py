"""The encrypted evidence store: items (key material and metadata, never content), legal
holds and the record of every destruction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, utcnow


class HoldKind(StrEnum):
    REPORT = "report"  # the item was reported; kept for the jurisdiction's period
    PRESERVATION_REQUEST = "preservation_request"  # law enforcement asked to keep it longer


# Like base.enum_column_type, but "preservation_request" needs more than its 16 characters.
_HOLD_KIND = SAEnum(
    HoldKind,
    name="hold_kind",
    native_enum=False,
    create_constraint=True,
    length=32,
    validate_strings=True,
    values_callable=lambda members: [member.value for member in members],
)


class EvidenceItem(Base):
    """One piece of media kept as evidence. The row outlives its content: after shredding,
    the key columns are NULL and the row is the tombstone that says what existed."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        # A live item always has its wrapped key; a shredded one never does.
        CheckConstraint(
            "(shredded_at IS NULL AND wrapped_key IS NOT NULL AND key_nonce IS NOT NULL)"
            " OR (shredded_at IS NOT NULL AND wrapped_key IS NULL AND key_nonce IS NULL)",
            name="key_until_shredded",
        ),
        Index(None, "retain_until"),  # the purge job's scan
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, bound into the AAD
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)  # random backend name
    algorithm: Mapped[str] = mapped_column(String(32))  # e.g. "AES-256-GCM"
    format_version: Mapped[int] = mapped_column(SmallInteger)
    master_key_id: Mapped[str] = mapped_column(String(16))  # fingerprint, not the key
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_nonce: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)  # plaintext bytes
    sha256: Mapped[str] = mapped_column(String(64))  # plaintext digest, checked on every read
    media_type: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(500))  # e.g. report or case number
    retention_policy: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retain_until: Mapped[datetime]
    shredded_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"EvidenceItem(id={self.id!r}, shredded_at={self.shredded_at!r})"


class LegalHold(Base):
    """While active (not released and not expired) the item cannot be destroyed by anyone."""

    __tablename__ = "evidence_legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[HoldKind] = mapped_column(_HOLD_KIND)
    reason: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(String(16))
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(200))

    def is_active(self, now: datetime) -> bool:
        return self.released_at is None and self.expires_at > now


class EvidencePurge(Base):
    """Append-only answer to "when and why was this destroyed, and by whom"."""

    __tablename__ = "evidence_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT"), unique=True
    )
    purged_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))  # a user, or "retention" for the job
    reason: Mapped[str] = mapped_column(Text)
    retain_until: Mapped[datetime]  # the retention expiry in force when it was destroyed
