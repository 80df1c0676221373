"""Answers of the hash-list routes: settings and sizes, one entry's origin and feedback, never
the hashes."""

from __future__ import annotations

import builtins

from vigil.api.answers import Answer, Number, Time


class ListSummary(Answer):
    name: str
    enabled: bool
    allow_list: bool
    version: str | None
    pdq_distance: int
    min_quality: int
    entries: int
    active_entries: int


class Lists(Answer):
    lists: list[ListSummary]


class Suspect(Answer):
    """An entry the flood guard holds as suspect, and the surge that raised it."""

    list: str
    entry_id: int
    external_id: str | None
    signal_type: str
    status: str
    hour: Time
    matches: int
    limit: Number
    explanation: str
    raised_at: Time


class Suspects(Answer):
    suspects: list[Suspect]


class EntryFeedbackLine(Answer):
    """One reviewer's verdict queued for the exchange that shared the entry."""

    verdict: str  # affirmative or negative
    state: str  # pending, sent, failed
    reason: str | None  # why it failed, else the reviewer's reason (negative feedback)
    text: str  # the line as the screens show it


class ListEntryRecord(Answer):
    """One entry with its provenance and the feedback on it; not its hash."""

    list: str
    entry_id: int
    signal_type: str
    status: str  # active, disabled, quarantined, deleted
    status_reason: str | None
    added_at: Time
    source: str | None  # a file name, "manual:<user>" or "exchange:<name>"
    exchange: str | None  # the exchange that shared it; None for a file or manual entry
    exchange_kind: str | None
    external_id: str | None  # the entry's id at the exchange (or in the file)
    member: str | None
    classification: str | None
    tags: builtins.list[str]  # "list" is the list's name in this class
    takes_feedback: bool  # reviewers' verdicts on it are queued for its exchange
    feedback: builtins.list[EntryFeedbackLine]  # oldest first
