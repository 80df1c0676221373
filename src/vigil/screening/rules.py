"""The verdict on one screened item, from its list matches, how it arrived and classifier
scores: a pure function of its inputs and the [screening] settings.

A match is only what is safe to act on without a person: an exact digest, a video, or a PDQ hit
close enough (``match_pdq_distance``) on a list not named in ``review_lists``, whose entry says
what it is (a classification). Everything doubtful goes to review: near PDQ hits, unclassified
entries, entries the flood guard holds as suspect (their matches surged: possibly a colliding
or poisoned hash), user reports, escalations and classifier scores. A classifier never makes a
match. Media that could not be judged (not decoded: corrupt, over a limit; or decoded only in
part: truncated) goes to review too when nothing else decides (``review_undecodable``): a
picture Vigil cannot hash is not one it found clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.core.settings import ScreeningSettings
from vigil.fingerprint.errors import FailureReason
from vigil.fingerprint.record import Fingerprint
from vigil.screening.classifiers.base import ClassifierResult
from vigil.screening.held_scan import HeldMatch
from vigil.screening.matcher import ListMatch
from vigil.store.models import RecordSource, Verdict

DIGESTS = frozenset({"md5", "sha1", "sha256"})
PDQ = "pdq"
VIDEO = "video_pdq"
FLAGS = {RecordSource.USER_REPORT: "user report", RecordSource.ESCALATION: "escalation"}
# Failures that leave media unjudged. Not: empty files and files that are no media (nothing
# to see), media without a video stream (audio): digests judged them as far as anything can.
UNJUDGED = frozenset(
    {
        FailureReason.CORRUPT,
        FailureReason.TOO_MANY_PIXELS,
        FailureReason.DECODE_BUDGET,
        FailureReason.TIMEOUT,
        FailureReason.TOO_LARGE,
        FailureReason.UNREADABLE,
    }
)
MAX_UNJUDGED_DETAIL = 200


@dataclass(frozen=True, slots=True)
class VerdictDecision:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)  # one per rule that fired, in order


def decide(
    matches: Sequence[ListMatch],
    settings: ScreeningSettings,
    *,
    flag: RecordSource | None = None,
    classifier_results: Sequence[ClassifierResult] = (),
    unjudged: str | None = None,
    held: Sequence[HeldMatch] = (),
) -> VerdictDecision:
    """``matches`` are the matcher's (allow-list suppression already applied); ``unjudged``
    says why the content could not be judged in full (:func:`unjudged_reason`); ``held``
    are the second stage's matches with pictures Vigil holds, which send the item to review
    (a region of a picture is less than the whole: a person judges it)."""
    judged = [judge_match(match, settings) for match in matches]
    judged.extend((Verdict.REVIEW, held_reason(match)) for match in held)
    if unjudged is not None and settings.review_undecodable:
        judged.append((Verdict.REVIEW, unjudged))
    if flag is not None:
        judged.append((Verdict.REVIEW, _flag_reason(flag)))
    judged.extend(
        (Verdict.REVIEW, _classifier_reason(result))
        for result in classifier_results
        if result.needs_review
    )
    if not judged:
        return VerdictDecision(Verdict.NO_MATCH, [])
    verdict = Verdict.MATCH if any(v is Verdict.MATCH for v, _ in judged) else Verdict.REVIEW
    return VerdictDecision(verdict, [reason for _, reason in judged])


def held_reason(match: HeldMatch) -> str:
    owner = (
        f"confirmed review item {match.case_item_id}"
        if match.case_item_id is not None
        else f"labelled intake file {match.intake_file_id}"
    )
    if match.similarity is None:
        return f"{match.signal}: region {match.region} at distance {match.distance} of {owner}"
    return (
        f"{match.signal}: {match.region} at distance {match.distance}, colour layout "
        f"{match.similarity:.2f}, of {owner}"
    )


def judge_match(match: ListMatch, settings: ScreeningSettings) -> tuple[Verdict, str]:
    """What one list match alone calls for, and why."""
    verdict, reason = _by_signal(match, settings)
    if match.suspect:
        # Still reported, never silenced: a person decides whether the entry is right.
        return Verdict.REVIEW, (
            f"{reason}; entry {match.entry_id} is suspect: the flood guard saw its matches surge"
        )
    if verdict is Verdict.MATCH and match.list in settings.review_lists:
        return Verdict.REVIEW, f"{reason}; list {match.list} is a review list"
    if verdict is Verdict.MATCH and not match.classification:
        # Nothing says what the content is, so nothing can be done about it automatically.
        return Verdict.REVIEW, f"{reason}; entry has no classification"
    return verdict, reason


def _by_signal(match: ListMatch, settings: ScreeningSettings) -> tuple[Verdict, str]:
    where = f"on list {match.list}"
    if match.signal_type in DIGESTS:
        return Verdict.MATCH, f"{match.signal_type} digest {where}"
    if match.signal_type == PDQ:
        distance = match.distance if match.distance is not None else 0
        variant = f" ({match.variant})" if match.variant not in (None, "original") else ""
        if distance <= settings.match_pdq_distance:
            return Verdict.MATCH, (
                f"pdq distance {distance} <= {settings.match_pdq_distance}{variant} {where}"
            )
        return Verdict.REVIEW, (
            f"near match: pdq distance {distance} > {settings.match_pdq_distance}{variant} {where}"
        )
    if match.signal_type == VIDEO:
        return Verdict.MATCH, f"video frames {where}"  # the matcher applied vPDQ's share rule
    return Verdict.REVIEW, f"{match.signal_type} signal {where} has no automatic rule"


def _flag_reason(flag: RecordSource) -> str:
    if flag not in FLAGS:
        raise ValueError(f"{flag.value} is not a flag; flags are {sorted(FLAGS)}")
    return FLAGS[flag]


def _classifier_reason(result: ClassifierResult) -> str:
    return f"classifier {result.name} score {result.score:.2f} > {result.threshold:.2f}"


def unjudged_reason(fingerprint: Fingerprint) -> str | None:
    """Why the perceptual hashes of this content are missing or incomplete; None when they
    are whole (or were never expected: hashes sent by the platform, files that are not media)."""
    if fingerprint.partial:
        return f"only part of the content could be decoded ({fingerprint.partial_reason})"
    if fingerprint.error_reason not in UNJUDGED:
        return None
    detail = (fingerprint.error or "")[:MAX_UNJUDGED_DETAIL]
    return f"content could not be decoded ({fingerprint.error_reason}: {detail})"
