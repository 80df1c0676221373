"""Writing and reading match records: what screening decided about one item and which list
entries it matched, each hit frozen with the list name and version it came from (lists change;
a record must still say what matched at the time). The caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.store.errors import StoreError
from vigil.store.exchanges.provenance import EntryProvenance, entry_provenance
from vigil.store.models import HashList, ListEntry, MatchHit, MatchRecord, RecordSource, Verdict

MAX_PAGE = 500
MAX_FRAME_COUNT = 32767  # the column is a SMALLINT


class RecordNotFound(StoreError, LookupError):
    """No match record has the given public id."""


@dataclass(frozen=True, slots=True)
class HitRow:
    """One matched list entry, as screening found it."""

    entry_id: int
    list_id: int
    signal_type: str
    distance: int | None = None
    variant: str | None = None
    share: float | None = None  # videos: matched share of the query's frames
    suspect: bool = False  # the flood guard held the entry as suspect


@dataclass(frozen=True, slots=True)
class MediaFields:
    """The screened item's fingerprint, as far as it is known (no path, no bytes)."""

    media_type: str | None = None
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    frame_count: int | None = None


def save_record(
    session: Session,
    *,
    source: RecordSource,
    verdict: Verdict,
    reasons: Sequence[str],
    submitted_by: str,
    content_id: str,
    account_id: str | None = None,
    context: Mapping[str, Any] | None = None,
    media: MediaFields | None = None,
    hits: Sequence[HitRow] = (),
    classifier: Mapping[str, Any] | None = None,
    note: str | None = None,
    evidence_item_id: str | None = None,
    public_id: str | None = None,
    received_at: datetime | None = None,
) -> MatchRecord:
    """Add a record and its hits to the session (flushed, not committed)."""
    media = media or MediaFields()
    record = MatchRecord(
        public_id=public_id or new_public_id(),
        source=source,
        verdict=verdict,
        reasons=list(reasons),
        submitted_by=submitted_by,
        platform_content_id=content_id,
        platform_account_id=account_id,
        context=dict(context or {}),
        media_type=media.media_type,
        size=media.size,
        md5=media.md5,
        sha1=media.sha1,
        sha256=media.sha256,
        pdq=media.pdq,
        pdq_quality=media.pdq_quality,
        frame_count=_frame_count(media.frame_count),
        classifier=dict(classifier) if classifier is not None else None,
        note=note,
        evidence_item_id=evidence_item_id,
    )
    if received_at is not None:
        record.received_at = received_at
    record.hits = _frozen_hits(session, hits)
    session.add(record)
    session.flush()
    return record


def new_public_id() -> str:
    return uuid.uuid4().hex


def get_record(session: Session, public_id: str) -> MatchRecord | None:
    return session.scalars(
        select(MatchRecord).where(MatchRecord.public_id == public_id)
    ).one_or_none()


def list_records(
    session: Session,
    *,
    verdict: Verdict | str | None = None,
    content_id: str | None = None,
    limit: int = 50,
    before: str | None = None,
) -> list[MatchRecord]:
    """Newest first. ``before``: the public id of the last record of the previous page (keyset
    pagination: stable while new records arrive). Raises RecordNotFound for an unknown one."""
    query = select(MatchRecord)
    if verdict is not None:
        query = query.where(MatchRecord.verdict == Verdict(verdict))
    if content_id is not None:
        query = query.where(MatchRecord.platform_content_id == content_id)
    if before is not None:
        cursor = session.execute(
            select(MatchRecord.received_at, MatchRecord.id).where(MatchRecord.public_id == before)
        ).one_or_none()
        if cursor is None:
            raise RecordNotFound("the pagination cursor names no record")
        query = query.where(
            or_(
                MatchRecord.received_at < cursor.received_at,
                and_(MatchRecord.received_at == cursor.received_at, MatchRecord.id < cursor.id),
            )
        )
    query = query.order_by(MatchRecord.received_at.desc(), MatchRecord.id.desc())
    return list(session.scalars(query.limit(max(1, min(limit, MAX_PAGE)))))


def record_summary(record: MatchRecord) -> dict[str, Any]:
    """Everything about a record as JSON-ready data; never media bytes."""
    return {
        "record_id": record.public_id,
        "source": record.source.value,
        "verdict": record.verdict.value,
        "reasons": list(record.reasons),
        "received_at": record.received_at.isoformat(),
        "submitted_by": record.submitted_by,
        "content_id": record.platform_content_id,
        "account_id": record.platform_account_id,
        "context": dict(record.context or {}),
        "media_type": record.media_type,
        "size": record.size,
        "md5": record.md5,
        "sha1": record.sha1,
        "sha256": record.sha256,
        "pdq": record.pdq,
        "pdq_quality": record.pdq_quality,
        "frame_count": record.frame_count,
        "classifier": record.classifier,
        "note": record.note,
        "evidence_item_id": record.evidence_item_id,
        "hits": [hit_summary(hit) for hit in record.hits],
    }


def hit_summary(hit: MatchHit) -> dict[str, Any]:
    return {
        "entry_id": hit.entry_id,
        "list_id": hit.list_id,
        "list": hit.list_name,
        "list_version": hit.list_version,
        "external_id": hit.external_id,
        "signal_type": hit.signal_type,
        "distance": hit.distance,
        "variant": hit.variant,
        "classification": hit.classification,
        "share": hit.share,
        "suspect": hit.suspect,
        "exchange": hit.exchange,
        "exchange_kind": hit.exchange_kind,
        "member": hit.member,
        "tags": list(hit.tags or []),
        "source": hit.entry_source,
    }


def _frozen_hits(session: Session, hits: Sequence[HitRow]) -> list[MatchHit]:
    if not hits:
        return []
    rows = session.execute(
        select(
            ListEntry.id,
            ListEntry.list_id,
            ListEntry.external_id,
            ListEntry.classification,
            ListEntry.list_version,
            HashList.name,
            HashList.version,
        )
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(ListEntry.id.in_({hit.entry_id for hit in hits}))
    ).all()
    entries = {row.id: row for row in rows}
    origins = entry_provenance(session, entries)
    frozen = []
    for hit in hits:
        entry = entries.get(hit.entry_id)
        if entry is None or entry.list_id != hit.list_id:
            raise StoreError(f"list entry {hit.entry_id} of list {hit.list_id} does not exist")
        frozen.append(
            MatchHit(
                entry_id=hit.entry_id,
                list_id=hit.list_id,
                list_name=entry.name,
                # The list's current version, else the version the entry was imported with.
                list_version=entry.version or entry.list_version,
                external_id=entry.external_id,
                signal_type=hit.signal_type,
                distance=hit.distance,
                variant=hit.variant,
                classification=entry.classification,
                share=hit.share,
                suspect=hit.suspect,
                **_frozen_provenance(origins.get(hit.entry_id)),
            )
        )
    return frozen


def _frozen_provenance(origin: EntryProvenance | None) -> dict[str, Any]:
    if origin is None:
        return {}
    return {
        "exchange": origin.exchange,
        "exchange_kind": origin.exchange_kind,
        "member": origin.member,
        "tags": list(origin.tags) or None,
        "entry_source": origin.source,
    }


def _frame_count(count: int | None) -> int | None:
    return None if count is None else min(count, MAX_FRAME_COUNT)
