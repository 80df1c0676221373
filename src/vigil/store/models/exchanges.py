"""Hash exchanges: a configured account at a hash-sharing service, the lists it feeds, and
the queue of reviewers' feedback waiting to go back to it.

The service's protocol lives in vigil.exchanges; the store keeps only what must survive a
restart: where and as whom to connect (credentials sealed under the evidence master key,
vigil.store.sealed_secrets), how far the last fetch came (the checkpoint, written in the
same transaction as the entries it covers), and how the last fetch went.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow
from vigil.store.models.lists import HashList, ListEntry, SignalType


class FetchState(StrEnum):
    NEVER = "never"  # configured, not fetched yet
    RUNNING = "running"  # a fetch started and has not finished (or its process died)
    SUCCEEDED = "succeeded"  # the last fetch reached the service's newest change
    FAILED = "failed"  # the last fetch stopped on an error; the checkpoint is what was stored


class FeedbackVerdict(StrEnum):
    AFFIRMATIVE = "affirmative"  # a reviewer confirmed the entry
    NEGATIVE = "negative"  # a reviewer found a false positive or a wrong classification


class FeedbackState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"  # the service took it
    FAILED = "failed"  # given up: refused by the service, or out of attempts


class Exchange(Base):
    """One account at one service. ``kind`` is vigil.exchanges.protocol.ExchangeType's value
    (the store does not know the protocols, so it is plain text checked by the caller)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str | None] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(2000))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # JSON of the credential fields, sealed (bound to the exchange's name): never shown.
    sealed_credentials: Mapped[str] = mapped_column(Text)
    checkpoint: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    feedback_enabled: Mapped[bool] = mapped_column(default=True)
    # a retroactive matching round after each scheduled fetch that stored a change (issue 17)
    retro_after_fetch: Mapped[bool] = mapped_column(default=False, server_default=false())
    fetch_interval_seconds: Mapped[int] = mapped_column(Integer)
    fetch_state: Mapped[FetchState] = mapped_column(
        enum_column_type(FetchState, "exchange_fetch_state"), default=FetchState.NEVER
    )
    last_fetch_started_at: Mapped[datetime | None]
    last_fetch_finished_at: Mapped[datetime | None]
    last_fetch_succeeded_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(32))
    entries_fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    entries_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    record_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lists: Mapped[list[ExchangeList]] = relationship(
        cascade="all, delete-orphan", order_by="ExchangeList.list_id", lazy="selectin"
    )

    def __repr__(self) -> str:  # the sealed credentials stay out of logs too
        return f"Exchange(id={self.id!r}, name={self.name!r}, kind={self.kind!r})"


class ExchangeList(Base):
    """A Vigil list an exchange feeds; each list keeps its own matching settings."""

    __tablename__ = "exchange_lists"

    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("exchanges.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("hash_lists.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    hash_list: Mapped[HashList] = relationship(lazy="joined")


class ExchangeFeedback(Base):
    """One verdict for the service that shared an entry: queued with the decision, sent by
    a background job, retried with backoff."""

    __tablename__ = "exchange_feedback"
    __table_args__ = (Index(None, "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("exchanges.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("list_entries.id", ondelete="RESTRICT"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(255))
    signal_type: Mapped[SignalType] = mapped_column(
        enum_column_type(SignalType, "feedback_signal_type")
    )
    signal: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[FeedbackVerdict] = mapped_column(
        enum_column_type(FeedbackVerdict, "feedback_verdict")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[FeedbackState] = mapped_column(
        enum_column_type(FeedbackState, "feedback_state"), default=FeedbackState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    exchange: Mapped[Exchange] = relationship()
    entry: Mapped[ListEntry | None] = relationship()
