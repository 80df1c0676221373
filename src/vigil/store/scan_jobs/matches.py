"""The matches scan jobs queued for review, and their release under the review ceiling.

Released in the order they were found, one object (all its matched entries) at a time: the
ceiling counts objects, as reviewers see one item per object. The caller turns each released
object into a match record and its case (vigil.screening.backlog.review_release) in the
transaction that marks it released, so an object is never released twice nor lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.store.models import ListEntry, ScanJobMatch, ScanMatchState

CEILING_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class QueuedObject:
    """One object's queued matches (oldest first)."""

    job_id: int
    identity: str
    matches: tuple[ScanJobMatch, ...]


def released_within(session: Session, now: datetime, window: timedelta = CEILING_WINDOW) -> int:
    """Objects released in the window ending ``now``."""
    query = select(func.count(func.distinct(ScanJobMatch.record_public_id))).where(
        ScanJobMatch.released_at > now - window
    )
    return int(session.scalar(query) or 0)


def oldest_queued(session: Session, limit: int) -> list[QueuedObject]:
    """Up to ``limit`` objects with queued matches, in the order they were found; locked
    on PostgreSQL so two releasers never take the same object."""
    if limit <= 0:
        return []
    first = func.min(ScanJobMatch.id)
    heads = session.execute(
        select(ScanJobMatch.job_id, ScanJobMatch.identity)
        .where(ScanJobMatch.state == ScanMatchState.QUEUED)
        .group_by(ScanJobMatch.job_id, ScanJobMatch.identity)
        .order_by(first)
        .limit(limit)
    ).all()
    objects = []
    for job_id, identity in heads:
        rows = session.scalars(
            select(ScanJobMatch)
            .where(
                ScanJobMatch.job_id == job_id,
                ScanJobMatch.identity == identity,
                ScanJobMatch.state == ScanMatchState.QUEUED,
            )
            .order_by(ScanJobMatch.id)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            objects.append(QueuedObject(job_id, identity, tuple(rows)))
    return objects


def mark_released(
    session: Session, rows: Sequence[ScanJobMatch], public_id: str | None, now: datetime
) -> None:
    session.execute(
        update(ScanJobMatch)
        .where(ScanJobMatch.id.in_([row.id for row in rows]))
        .values(state=ScanMatchState.RELEASED, record_public_id=public_id, released_at=now)
    )


def queued_count(session: Session, job_id: int | None = None) -> int:
    query = select(func.count()).where(ScanJobMatch.state == ScanMatchState.QUEUED)
    if job_id is not None:
        query = query.where(ScanJobMatch.job_id == job_id)
    return int(session.scalar(query) or 0)


def still_listed(session: Session, rows: Sequence[ScanJobMatch]) -> list[ScanJobMatch]:
    """The rows whose entry is still in its list (a deleted entry has nothing to review)."""
    pairs = session.execute(
        select(ListEntry.id, ListEntry.list_id).where(
            ListEntry.id.in_({row.entry_id for row in rows})
        )
    ).all()
    present = {(entry_id, list_id) for entry_id, list_id in pairs}
    return [row for row in rows if (row.entry_id, row.list_id) in present]
