"""Answers of screening and flagging: what the caller learns about each item (fingerprints,
matches, classifier scores and the verdict; never media, never a path).

Routes answering these say ``response_model_exclude_unset=True``: a classifier result
carries ``details`` only when the classifier gave some."""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import Field

from vigil.api.answers import Answer, Number
from vigil.api.answers.provenance import EntrySource, ExchangeOrigin, MemberOrigin


class ScreenedFingerprint(Answer):
    """The item's fingerprint as far as it is known; ``partial`` when some of it was not."""

    media_type: str | None
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    frame_count: int | None
    partial: bool
    partial_reason: str | None


class MatchedSegment(Answer):
    """A run of a video's frames that matched a listed video, in seconds of each."""

    query_start: Number
    query_end: Number
    listed_start: Number
    listed_end: Number
    frames: int


class MatchFields(Answer):
    """A screening match's own fields; they come before its provenance (see ListMatch)."""

    list: str
    entry_id: int
    external_id: str | None
    signal_type: str
    distance: int | None
    variant: str | None
    classification: str | None
    segments: builtins.list[MatchedSegment]  # ``list`` is a field here
    suspect: bool


# Its own fields, then its provenance in the order screening has always sent it (member,
# tags, exchange, exchange_kind, source): a base listed first puts its fields last. No
# docstring: it would become the schema's description, which this answer never had.
class ListMatch(EntrySource, ExchangeOrigin, MemberOrigin, MatchFields):
    pass


class HeldMatch(Answer):
    """A picture Vigil holds (a confirmed review item or a labelled intake file) that the
    item came within reach of: the second screening stage. ``held_region``: the same named
    region of both within ``distance`` bits; ``held_window``: the whole item against a
    window of the held picture (``region`` names it), PDQ within ``distance`` bits and
    colour layout ``similarity`` (0-1) at least 0.9."""

    signal: str  # "held_region" or "held_window"
    region: str
    distance: int
    case_item_id: int | None
    intake_file_id: int | None
    similarity: float | None = None


class ClassifierScore(Answer):
    name: str
    score: Number
    labels: list[str]
    threshold: Number
    needs_review: bool
    details: dict[str, Any] = Field(default_factory=dict)  # sent only when there are some


class ClassifierFailure(Answer):
    """A classifier that gave no score; screening went on without it."""

    name: str
    error: str


class ScreeningOutcome(Answer):
    """``record_id`` is null when nothing was recorded (content that matched nothing)."""

    record_id: str | None
    verdict: str
    reasons: list[str]
    fingerprint: ScreenedFingerprint
    matches: list[ListMatch]
    suppressed_by: list[ListMatch]
    held_matches: list[HeldMatch]
    classifier: list[ClassifierScore]
    classifier_errors: list[ClassifierFailure]
    evidence_item_id: str | None
    evidence_kept: bool
    error: str | None
    error_reason: str | None


class ScreeningResults(Answer):
    """One outcome per item, in the order they were sent."""

    results: list[ScreeningOutcome]
