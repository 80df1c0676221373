"""Screening one submitted item end to end: fingerprint, match, classify, decide, record.

The order of the last steps is what makes a record trustworthy. Content to keep is sealed in
the evidence vault first (ciphertext written durably, its row not yet committed); then one
write transaction adds the evidence row, the match record with its hits, its item in the
account's review case (match and review verdicts), the webhook event (and, for an
escalation, the audit record). Either all of it commits or none of it does: a
failure in between leaves at most an undecryptable blob, deleted at once when possible and by
``sweep_orphans`` otherwise. Content is never written to disk unencrypted.

Content that matched nothing leaves no trace (no record, no evidence, no webhook) unless
``[screening] keep_unmatched`` says so. See docs/screening-service.md.

Thread safety: every call opens its own sessions; the shared match index is only read under
its lock (lookups take milliseconds; fingerprinting, classifiers and recording run in
parallel). Classifiers must be safe to call from several threads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from vigil.core.settings import Settings
from vigil.fingerprint.limits import DecodeLimits
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes
from vigil.fingerprint.record import Fingerprint
from vigil.screening.classifiers.base import Classifier, ClassifierResult
from vigil.screening.classifiers.factory import classify_all
from vigil.screening.escalation import intake_escalation_reason
from vigil.screening.held_scan import HeldMatch
from vigil.screening.matcher import ListMatch, Matcher, Screening
from vigil.screening.rules import VerdictDecision, decide, unjudged_reason
from vigil.screening.submission import Submission, SubmissionInvalid, SubmittedHashes
from vigil.store.audit.log import AuditLog
from vigil.store.database import Database
from vigil.store.evidence import EvidenceTooLarge, EvidenceVault
from vigil.store.models import AuditAction, EvidenceItem, MatchRecord, RecordSource, Verdict
from vigil.store.records.cases import attach_record
from vigil.store.records.matches import (
    HitRow,
    MediaFields,
    new_public_id,
    record_summary,
    save_record,
)
from vigil.store.records.outbox import enqueue_event

log = logging.getLogger(__name__)

FLAG_SOURCES = frozenset({RecordSource.USER_REPORT, RecordSource.ESCALATION})
REVIEWABLE = frozenset({Verdict.MATCH, Verdict.REVIEW})  # kept no_match records need no case
MAX_SUBMITTER = 200  # MatchRecord.submitted_by
MAX_NOTE = 10_000
MAX_ERROR = 300
VIDEO = "video_pdq"


@dataclass(frozen=True, slots=True)
class ScreeningOutcome:
    """What the caller learns about one item. No media bytes, no file path."""

    record_id: str | None  # None: nothing was recorded
    verdict: Verdict
    reasons: tuple[str, ...]
    fingerprint: dict[str, Any]
    matches: tuple[ListMatch, ...] = ()
    suppressed_by: tuple[ListMatch, ...] = ()  # allow-list matches that silenced the rest
    held_matches: tuple[HeldMatch, ...] = ()  # pictures Vigil holds, by a region
    classifier: tuple[ClassifierResult, ...] = ()
    classifier_errors: tuple[dict[str, str], ...] = ()
    evidence_item_id: str | None = None
    evidence_kept: bool = False
    error: str | None = None  # the content could not be fingerprinted (digests may still be)
    error_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "fingerprint": dict(self.fingerprint),
            "matches": [m.to_dict() for m in self.matches],
            "suppressed_by": [m.to_dict() for m in self.suppressed_by],
            "held_matches": [m.to_dict() for m in self.held_matches],
            "classifier": [r.to_dict() for r in self.classifier],
            "classifier_errors": [dict(e) for e in self.classifier_errors],
            "evidence_item_id": self.evidence_item_id,
            "evidence_kept": self.evidence_kept,
            "error": self.error,
            "error_reason": self.error_reason,
        }


@dataclass(slots=True)
class _Item:
    """One item on its way through the service."""

    submission: Submission
    source: RecordSource
    submitted_by: str
    fingerprint: Fingerprint
    content: bytes | None = None
    note: str | None = None
    started: float | None = None  # time.monotonic() of the request: lists as of then
    screening: Screening = field(default_factory=lambda: Screening([], []))
    list_ids: dict[str, int] = field(default_factory=dict)  # as matched: names are unique
    results: list[ClassifierResult] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


class ScreeningService:
    def __init__(
        self,
        database: Database,
        matcher: Matcher,
        *,
        settings: Settings,
        vault: EvidenceVault | None,
        classifiers: Sequence[Classifier] = (),
    ) -> None:
        self.database = database
        self.matcher = matcher
        self.settings = settings
        self.vault = vault
        self.classifiers = tuple(classifiers)
        self.options = FingerprintOptions(
            max_bytes=settings.evidence.max_bytes,
            limits=DecodeLimits(**settings.decoding.model_dump()),
        )

    def screen_upload(
        self,
        submission: Submission,
        content: bytes,
        *,
        submitted_by: str,
        started: float | None = None,
    ) -> ScreeningOutcome:
        """Screen content the platform sent. ``started``: when the request began
        (``time.monotonic()``); every list change committed before it is applied first."""
        item = _Item(
            submission,
            RecordSource.UPLOAD,
            _submitter(submitted_by),
            self._fingerprint(content, started),
            content,
            started=started,
        )
        return self._process(item)

    def screen_hashes(
        self,
        submission: Submission,
        hashes: SubmittedHashes,
        *,
        submitted_by: str,
        started: float | None = None,
    ) -> ScreeningOutcome:
        """Screen hashes the platform computed; no content, so no classifiers or evidence."""
        item = _Item(
            submission,
            RecordSource.HASHES,
            _submitter(submitted_by),
            self._from_hashes(hashes),
            started=started,
        )
        return self._process(item)

    def flag(
        self,
        submission: Submission,
        *,
        source: RecordSource,
        submitted_by: str,
        content: bytes | None = None,
        hashes: SubmittedHashes | None = None,
        note: str | None = None,
    ) -> ScreeningOutcome:
        """A user report or an escalation: always recorded, always at least review. An
        escalation is also written to the audit log, in the same transaction."""
        if source not in FLAG_SOURCES:
            raise SubmissionInvalid("source", f"must be one of {sorted(FLAG_SOURCES)}")
        if content is not None and hashes is not None:
            raise SubmissionInvalid("content", "send the content or its hashes, not both")
        if note is not None and len(note) > MAX_NOTE:
            raise SubmissionInvalid("note", f"at most {MAX_NOTE} characters")
        if content is not None:
            fingerprint = self._fingerprint(content, None)
        elif hashes is not None:
            fingerprint = self._from_hashes(hashes)
        else:
            fingerprint = Fingerprint(path="flag")
        item = _Item(submission, source, _submitter(submitted_by), fingerprint, content, note)
        return self._process(item)

    # --- the steps -------------------------------------------------------------------------

    def _fingerprint(self, content: bytes, started: float | None) -> Fingerprint:
        if not isinstance(content, bytes):
            raise SubmissionInvalid("content", "must be bytes")
        # A photo's region hashes for the held-content stage, only while Vigil holds some
        # picture: they cost a few milliseconds, from the luma the main hash decoded.
        held = self.matcher.held.holds_any(started)
        options = replace(self.options, held_regions=held)
        fingerprint = fingerprint_bytes(content, options)
        limit = self.settings.screening.max_frames_per_video
        if fingerprint.frames and len(fingerprint.frames) > limit:
            fingerprint.frames = fingerprint.frames[:limit]  # bounds matching work
        return fingerprint

    def _from_hashes(self, hashes: SubmittedHashes) -> Fingerprint:
        limit = self.settings.screening.max_frames_per_video
        if len(hashes.frames) > limit:
            raise SubmissionInvalid("frames", f"at most {limit} frames")
        return hashes.to_fingerprint()

    def _process(self, item: _Item) -> ScreeningOutcome:
        flag = item.source if item.source in FLAG_SOURCES else None
        unjudged = unjudged_reason(item.fingerprint)  # undecodable media: review, not no_match
        item.screening, item.list_ids = self._match(item, item.started)
        held = item.screening.held
        decision = decide(
            item.screening.matches,
            self.settings.screening,
            flag=flag,
            unjudged=unjudged,
            held=held,
        )
        if decision.verdict is not Verdict.MATCH:
            # Classifiers are slow and only ever send to review: skip them once the lists
            # alone already give a match.
            self._classify(item)
            decision = decide(
                item.screening.matches,
                self.settings.screening,
                flag=flag,
                classifier_results=item.results,
                unjudged=unjudged,
                held=held,
            )
        if decision.verdict is Verdict.NO_MATCH and not self.settings.screening.keep_unmatched:
            return _outcome(item, decision, None, None)
        return self._record(item, decision)

    def _match(self, item: _Item, started: float | None) -> tuple[Screening, dict[str, int]]:
        # content that could not be decoded still matches on its digests
        fingerprint = item.fingerprint.matchable()
        screening = self.matcher.screen(fingerprint, started)  # thread-safe
        return screening, {lst.name: lst.list_id for lst in self.matcher.live.lists.values()}

    def _classify(self, item: _Item) -> None:
        media_type = item.fingerprint.media_type
        if item.content is None or not item.fingerprint.ok or media_type is None:
            return
        results, errors = classify_all(self.classifiers, item.content, media_type)
        item.results.extend(results)
        item.errors.extend(
            {"name": e["name"], "error": str(e["error"])[:MAX_ERROR]} for e in errors
        )

    def _record(self, item: _Item, decision: VerdictDecision) -> ScreeningOutcome:
        public_id = new_public_id()
        evidence = self._seal(item, public_id)
        try:
            with self.database.transaction(write=True) as session:
                if evidence is not None:
                    session.add(evidence)
                    session.flush()
                record = self._save(session, item, decision, public_id, evidence)
                if decision.verdict in REVIEWABLE:  # one case per account, same commit
                    attach_record(session, record, escalation_reason=_escalation(item, decision))
                enqueue_event(session, "verdict", _event_payload(record))
                if item.source is RecordSource.ESCALATION:
                    AuditLog(session).append(
                        AuditAction.ESCALATION,
                        actor=item.submitted_by,
                        subject_type="match_record",
                        subject_id=public_id,
                        details={
                            "content_id": item.submission.content_id,
                            "verdict": decision.verdict.value,
                        },
                    )
        except BaseException:
            if evidence is not None:
                self._discard(evidence)
            raise
        return _outcome(item, decision, public_id, evidence)

    def _seal(self, item: _Item, public_id: str) -> EvidenceItem | None:
        if item.content is None or self.vault is None:
            return None
        try:
            return self.vault.seal(
                item.content, media_type=item.fingerprint.media_type, reference=public_id
            )
        except EvidenceTooLarge:
            log.warning("record %s: content too large to keep as evidence", public_id)
            return None

    def _discard(self, evidence: EvidenceItem) -> None:
        """Delete the blob of a record that did not commit. If this fails too, the blob is
        an orphan nobody can decrypt (its key was never committed); sweep_orphans removes it."""
        assert self.vault is not None
        try:
            self.vault.backend.delete(evidence.blob_id)
        except Exception:
            log.warning("could not delete the uncommitted evidence blob; sweep_orphans will")

    def _save(
        self,
        session: Session,
        item: _Item,
        decision: VerdictDecision,
        public_id: str,
        evidence: EvidenceItem | None,
    ) -> MatchRecord:
        return save_record(
            session,
            source=_record_source(item),
            verdict=decision.verdict,
            reasons=decision.reasons,
            submitted_by=item.submitted_by,
            content_id=item.submission.content_id,
            account_id=item.submission.account_id,
            context=item.submission.context.to_dict(),
            media=_media(item.fingerprint),
            hits=[_hit_row(m, item.list_ids, item.fingerprint) for m in item.screening.matches],
            classifier=_classifier_summary(item),
            note=item.note,
            evidence_item_id=evidence.id if evidence is not None else None,
            public_id=public_id,
        )


# --- pure pieces ---------------------------------------------------------------------------


def _escalation(item: _Item, decision: VerdictDecision) -> str | None:
    """What escalates the item's case at intake, in words; None when it is no escalation."""
    if item.source is not RecordSource.ESCALATION:
        return None
    return intake_escalation_reason(
        content_id=item.submission.content_id,
        note=item.note,
        reasons=decision.reasons,
        matches=item.screening.matches,
    )


def _submitter(submitted_by: str) -> str:
    if not isinstance(submitted_by, str) or not 1 <= len(submitted_by) <= MAX_SUBMITTER:
        raise ValueError(f"submitted_by must be 1 to {MAX_SUBMITTER} characters")
    return submitted_by


def _record_source(item: _Item) -> RecordSource:
    """How the item reached Vigil; an upload kept only for a classifier's score says so."""
    only_classifier = (
        item.source is RecordSource.UPLOAD
        and not item.screening.matches
        and any(r.needs_review for r in item.results)
    )
    return RecordSource.CLASSIFIER if only_classifier else item.source


def _media(fingerprint: Fingerprint) -> MediaFields:
    return MediaFields(
        media_type=fingerprint.media_type,
        size=fingerprint.size,
        md5=fingerprint.md5,
        sha1=fingerprint.sha1,
        sha256=fingerprint.sha256,
        pdq=fingerprint.pdq,
        pdq_quality=fingerprint.pdq_quality,
        frame_count=len(fingerprint.frames) if fingerprint.frames else None,
    )


def _fingerprint_summary(fingerprint: Fingerprint) -> dict[str, Any]:
    media = _media(fingerprint)
    return {
        "media_type": media.media_type,
        "size": media.size,
        "md5": media.md5,
        "sha1": media.sha1,
        "sha256": media.sha256,
        "pdq": media.pdq,
        "pdq_quality": media.pdq_quality,
        "frame_count": media.frame_count,
        "partial": fingerprint.partial,
        "partial_reason": fingerprint.partial_reason,
    }


def _hit_row(match: ListMatch, list_ids: dict[str, int], fingerprint: Fingerprint) -> HitRow:
    return HitRow(
        entry_id=match.entry_id,
        list_id=list_ids[match.list],
        signal_type=match.signal_type,
        distance=match.distance,
        variant=match.variant,
        share=_share(match, fingerprint),
        suspect=match.suspect,
    )


def _share(match: ListMatch, fingerprint: Fingerprint) -> float | None:
    """Videos: the share of the query's frames inside the matching segments."""
    if match.signal_type != VIDEO or not fingerprint.frames:
        return None
    matched = sum(segment.frames for segment in match.segments)
    return min(1.0, matched / len(fingerprint.frames))


def _classifier_summary(item: _Item) -> dict[str, Any] | None:
    if not item.results and not item.errors:
        return None
    return {"results": [r.to_dict() for r in item.results], "errors": list(item.errors)}


def _event_payload(record: MatchRecord) -> dict[str, Any]:
    """The webhook's body: the platform's own ids and what matched; no upload context (IP,
    email, ...), hashes or media."""
    summary = record_summary(record)
    hits = [
        {
            key: hit[key]
            for key in (
                "list",
                "list_version",
                "external_id",
                "signal_type",
                "distance",
                "classification",
                "suspect",
            )
        }
        for hit in summary["hits"]
    ]
    return {
        "record_id": summary["record_id"],
        "source": summary["source"],
        "verdict": summary["verdict"],
        "reasons": summary["reasons"],
        "received_at": summary["received_at"],
        "content_id": summary["content_id"],
        "account_id": summary["account_id"],
        "media_type": summary["media_type"],
        "evidence_kept": summary["evidence_item_id"] is not None,
        "hits": hits,
    }


def _outcome(
    item: _Item, decision: VerdictDecision, record_id: str | None, evidence: EvidenceItem | None
) -> ScreeningOutcome:
    fingerprint = item.fingerprint
    return ScreeningOutcome(
        record_id=record_id,
        verdict=decision.verdict,
        reasons=tuple(decision.reasons),
        fingerprint=_fingerprint_summary(fingerprint),
        matches=tuple(item.screening.matches),
        suppressed_by=tuple(item.screening.suppressed_by),
        held_matches=tuple(item.screening.held),
        classifier=tuple(item.results),
        classifier_errors=tuple(item.errors),
        evidence_item_id=evidence.id if evidence is not None else None,
        evidence_kept=evidence is not None,
        error=fingerprint.error,
        error_reason=fingerprint.error_reason,
    )
