"""Release queued scan matches into the review queue, at most the ceiling per hour.

An object released becomes what an upload's hit becomes (vigil.screening.service): a match
record with its hits frozen (save_record) and an item in its case (attach_record), in the
transaction that marks its matches released, so an object is released once or not at all.
The record says where it came from: submitted by ``scan-job:<id>``, the object's identity
as its content id (shortened with a digest when longer than the column) and in its context.
Its verdict is ``review``: the backlog has no upload to act on, a person decides.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.store.database import Database
from vigil.store.models import RecordSource, ScanJobMatch, Verdict, utcnow
from vigil.store.records.cases import attach_record
from vigil.store.records.matches import HitRow, save_record
from vigil.store.scan_jobs.matches import (
    QueuedObject,
    mark_released,
    oldest_queued,
    released_within,
    still_listed,
)

REASON = "backlog_scan_match"
MAX_CONTENT_ID = 255  # MatchRecord.platform_content_id


def release_matches(database: Database, ceiling_per_hour: int, now: datetime | None = None) -> int:
    """Objects released now: what the ceiling leaves of the last hour, oldest found first."""
    when = now or utcnow()
    with database.transaction(write=True) as session:
        room = ceiling_per_hour - released_within(session, when)
        objects = oldest_queued(session, room)
        for queued in objects:
            _release(session, queued, when)
    return len(objects)


def _release(session: Session, queued: QueuedObject, when: datetime) -> None:
    listed = still_listed(session, queued.matches)
    if not listed:  # every matched entry was deleted since: nothing left to review
        mark_released(session, queued.matches, None, when)
        return
    record = save_record(
        session,
        source=RecordSource.UPLOAD,
        verdict=Verdict.REVIEW,
        reasons=[REASON],
        submitted_by=f"scan-job:{queued.job_id}",
        content_id=content_id(queued.identity),
        context={"scan_job": queued.job_id, "object": queued.identity},
        hits=[_hit(match) for match in listed],
        received_at=when,
    )
    attach_record(session, record, now=when)
    mark_released(session, queued.matches, record.public_id, when)


def content_id(identity: str) -> str:
    if len(identity) <= MAX_CONTENT_ID:
        return identity
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return f"{identity[: MAX_CONTENT_ID - 17]}~{digest}"


def _hit(match: ScanJobMatch) -> HitRow:
    return HitRow(
        entry_id=match.entry_id,
        list_id=match.list_id,
        signal_type=match.signal_type,
        distance=match.distance,
    )
