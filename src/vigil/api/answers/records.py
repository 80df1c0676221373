"""Answers of the match-record routes: metadata only (the media route answers bytes)."""

from __future__ import annotations

from typing import Any

from vigil.api.answers import Answer, Number, Time
from vigil.api.answers.provenance import Provenance


class HitFields(Answer):
    """A record hit's own fields; they come before its provenance (see RecordHit)."""

    entry_id: int
    list_id: int
    list: str
    list_version: str | None
    external_id: str | None
    signal_type: str
    distance: int | None
    variant: str | None
    classification: str | None
    share: Number | None
    suspect: bool


# Its own fields, then its provenance: a base listed first puts its fields last.
class RecordHit(Provenance, HitFields):
    """One list entry the record matched, as it was when it matched."""


class MatchRecord(Answer):
    record_id: str
    source: str
    verdict: str
    reasons: list[str]
    received_at: Time
    submitted_by: str
    content_id: str
    account_id: str | None
    context: dict[str, Any]
    media_type: str | None
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    frame_count: int | None
    classifier: dict[str, Any] | None
    note: str | None
    evidence_item_id: str | None
    hits: list[RecordHit]


class MatchRecords(Answer):
    records: list[MatchRecord]


class MediaView(Answer):
    """A recorded view of a record's media (MEDIA_VIEWED in the audit log)."""

    record_id: str
    viewed_at: Time
