"""Answers of the match-record routes: metadata only (the media route answers bytes)."""

from __future__ import annotations

import builtins
from typing import Any

from vigil.api.answers import Answer, Number, Time


class RecordHit(Answer):
    """One list entry the record matched, as it was when it matched."""

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
    exchange: str | None  # the exchange that shared the entry (null: a file or manual entry)
    exchange_kind: str | None
    member: str | None  # the exchange's member that shared it
    tags: builtins.list[str]  # ``list`` is a field here
    source: str | None  # the entry's source: a file name, "manual:<user>", "exchange:<name>"


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
