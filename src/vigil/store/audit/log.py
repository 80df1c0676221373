"""Appending to and reading the audit log within a caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.store.audit.chain import HASHED_FIELDS, clean_details, record_hash
from vigil.store.models.audit import (
    CHAIN_HEAD_ROW_ID,
    GENESIS_HASH,
    AuditAction,
    AuditChainHead,
    AuditRecord,
)
from vigil.store.models.base import utcnow


class AuditLog:
    """The audit log seen through one session; the caller commits.

    Append inside ``database.transaction(write=True)``: the chain head row is locked
    (SELECT ... FOR UPDATE on PostgreSQL, the IMMEDIATE write lock on SQLite) so concurrent
    writers queue instead of forking the chain, and the record commits or rolls back with the
    act it records.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        action: AuditAction | str,
        *,
        actor: str,
        subject_type: str | None = None,
        subject_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        head = self._locked_head()
        record = AuditRecord(
            seq=head.last_seq + 1,
            at=at or utcnow(),
            actor=actor,
            action=AuditAction(action),
            subject_type=subject_type,
            subject_id=subject_id,
            details=clean_details(details),
            prev_hash=head.last_hash,
        )
        record.hash = record_hash({name: getattr(record, name) for name in HASHED_FIELDS})
        head.last_seq, head.last_hash = record.seq, record.hash
        self.session.add(record)
        self.session.flush()
        return record

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        """The newest ``limit`` records, newest first."""
        query = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
        return list(self.session.scalars(query))

    def head(self) -> AuditChainHead | None:
        return self.session.get(AuditChainHead, CHAIN_HEAD_ROW_ID, populate_existing=True)

    def _locked_head(self) -> AuditChainHead:
        head = self._select_head_for_update()
        if head is None:
            # Created on first use, tolerating a concurrent creator, rather than by the
            # migration: an emptied database then still works.
            self.session.execute(self._insert_genesis_head())
            head = self._select_head_for_update()
        assert head is not None
        return head

    def _select_head_for_update(self) -> AuditChainHead | None:
        query = (
            select(AuditChainHead)
            .where(AuditChainHead.id == CHAIN_HEAD_ROW_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).one_or_none()

    def _insert_genesis_head(self) -> Any:
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        values = {"id": CHAIN_HEAD_ROW_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
        return dialect.insert(AuditChainHead).values(values).on_conflict_do_nothing()
