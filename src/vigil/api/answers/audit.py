"""Answers of the audit log's routes."""

from __future__ import annotations

from typing import Any

from vigil.api.answers import Answer, Time


class AuditEntry(Answer):
    seq: int
    at: Time
    actor: str
    action: str
    subject_type: str | None
    subject_id: str | None
    details: dict[str, Any] | None
    hash: str


class AuditEntries(Answer):
    records: list[AuditEntry]


class FirstBreak(Answer):
    seq: int
    reason: str


class ChainVerification(Answer):
    intact: bool
    records: int
    last_seq: int
    first_break: FirstBreak | None
