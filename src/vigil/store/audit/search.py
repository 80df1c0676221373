"""Finding records in the audit log for a person reading it: by actor, action, subject and
time, newest first, a page at a time (keyed on ``seq``, so a page stays the same while new
records are appended)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigil.store.models.audit import AuditAction, AuditRecord

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Each field narrows the search; empty ones do not. ``actor`` and ``subject`` match any
    part, case-insensitively (``subject`` the subject's type or id); ``until`` is exclusive."""

    actor: str = ""
    action: AuditAction | None = None
    subject: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    older: int | None  # the ``before`` of the next (older) page; None on the last one


def search_audit(
    session: Session, query: AuditQuery, *, before: int | None = None, limit: int = 50
) -> AuditPage:
    """Records matching ``query`` with ``seq`` below ``before``, newest first."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = _filtered(query)
    if before is not None:
        statement = statement.where(AuditRecord.seq < before)
    rows = list(session.scalars(statement.order_by(AuditRecord.seq.desc()).limit(limit + 1)))
    older = rows[limit - 1].seq if len(rows) > limit else None
    return AuditPage(rows[:limit], older)


def _filtered(query: AuditQuery) -> Select[AuditRecord]:
    statement = select(AuditRecord)
    if query.actor:
        statement = statement.where(AuditRecord.actor.icontains(query.actor, autoescape=True))
    if query.action is not None:
        statement = statement.where(AuditRecord.action == query.action)
    if query.subject:
        statement = statement.where(
            AuditRecord.subject_type.icontains(query.subject, autoescape=True)
            | AuditRecord.subject_id.icontains(query.subject, autoescape=True)
        )
    if query.since is not None:
        statement = statement.where(AuditRecord.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditRecord.at < query.until)
    return statement
