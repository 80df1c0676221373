"""Answers of the hash-list routes: settings and sizes, never the hashes."""

from __future__ import annotations

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
