"""The verdict rules, one by one and combined: pure, no database."""

from __future__ import annotations

import pytest

from vigil.core.settings import ScreeningSettings
from vigil.screening.classifiers.base import ClassifierResult
from vigil.screening.matcher import ListMatch
from vigil.screening.rules import decide, judge_match
from vigil.store.models import RecordSource, Verdict

SETTINGS = ScreeningSettings(match_pdq_distance=20)


def hit(
    signal_type: str = "sha256",
    *,
    distance: int | None = None,
    listed: str = "ncmec",
    classification: str | None = "A1",
    variant: str | None = None,
) -> ListMatch:
    return ListMatch(listed, 7, "ext-7", signal_type, distance, variant, classification)


def score(value: float, threshold: float = 0.8) -> ClassifierResult:
    return ClassifierResult("nudity", value, threshold=threshold)


def test_nothing_is_no_match() -> None:
    decision = decide([], SETTINGS)
    assert (decision.verdict, decision.reasons) == (Verdict.NO_MATCH, [])


@pytest.mark.parametrize("kind", ["md5", "sha1", "sha256"])
def test_a_digest_hit_is_a_match(kind: str) -> None:
    decision = decide([hit(kind)], SETTINGS)
    assert decision.verdict is Verdict.MATCH
    assert decision.reasons == [f"{kind} digest on list ncmec"]


def test_close_pdq_hit_is_a_match_and_the_boundary_counts() -> None:
    at_limit = decide([hit("pdq", distance=20)], SETTINGS)
    assert at_limit.verdict is Verdict.MATCH
    assert at_limit.reasons == ["pdq distance 20 <= 20 on list ncmec"]
    assert decide([hit("pdq", distance=0)], SETTINGS).verdict is Verdict.MATCH


def test_farther_pdq_hit_is_a_near_match_for_review() -> None:
    decision = decide([hit("pdq", distance=21)], SETTINGS)
    assert decision.verdict is Verdict.REVIEW
    assert decision.reasons == ["near match: pdq distance 21 > 20 on list ncmec"]


def test_the_setting_moves_the_boundary() -> None:
    strict = ScreeningSettings(match_pdq_distance=0)
    assert decide([hit("pdq", distance=1)], strict).verdict is Verdict.REVIEW
    assert decide([hit("pdq", distance=0)], strict).verdict is Verdict.MATCH


def test_reason_names_the_variant() -> None:
    [reason] = decide([hit("pdq", distance=3, variant="rotate90")], SETTINGS).reasons
    assert "rotate90" in reason and "on list ncmec" in reason


def test_a_video_hit_is_a_match() -> None:
    decision = decide([hit("video_pdq")], SETTINGS)
    assert decision.verdict is Verdict.MATCH
    assert decision.reasons == ["video frames on list ncmec"]


def test_unknown_signal_goes_to_review() -> None:
    assert decide([hit("tmk")], SETTINGS).verdict is Verdict.REVIEW


def test_a_review_list_turns_a_match_into_review() -> None:
    settings = ScreeningSettings(review_lists=["partner"])
    decision = decide([hit("sha256", listed="partner")], settings)
    assert decision.verdict is Verdict.REVIEW
    assert decision.reasons == ["sha256 digest on list partner; list partner is a review list"]
    assert decide([hit("sha256", listed="ncmec")], settings).verdict is Verdict.MATCH


@pytest.mark.parametrize("classification", [None, ""])
def test_an_unclassified_entry_goes_to_review(classification: str | None) -> None:
    decision = decide([hit("md5", classification=classification)], SETTINGS)
    assert decision.verdict is Verdict.REVIEW
    assert decision.reasons == ["md5 digest on list ncmec; entry has no classification"]


def test_a_near_match_on_a_review_list_stays_review_with_one_reason() -> None:
    verdict, reason = judge_match(
        hit("pdq", distance=25, listed="partner"), ScreeningSettings(review_lists=["partner"])
    )
    assert verdict is Verdict.REVIEW and reason.startswith("near match")


@pytest.mark.parametrize(
    ("flag", "reason"),
    [(RecordSource.USER_REPORT, "user report"), (RecordSource.ESCALATION, "escalation")],
)
def test_reports_and_escalations_are_at_least_review(flag: RecordSource, reason: str) -> None:
    alone = decide([], SETTINGS, flag=flag)
    assert (alone.verdict, alone.reasons) == (Verdict.REVIEW, [reason])
    with_match = decide([hit("sha1")], SETTINGS, flag=flag)
    assert with_match.verdict is Verdict.MATCH
    assert with_match.reasons == ["sha1 digest on list ncmec", reason]


@pytest.mark.parametrize(
    "source", [RecordSource.UPLOAD, RecordSource.HASHES, RecordSource.CLASSIFIER]
)
def test_other_sources_are_not_flags(source: RecordSource) -> None:
    with pytest.raises(ValueError, match="not a flag"):
        decide([], SETTINGS, flag=source)


def test_classifier_above_threshold_sends_to_review_never_match() -> None:
    decision = decide([], SETTINGS, classifier_results=[score(0.95)])
    assert decision.verdict is Verdict.REVIEW
    assert decision.reasons == ["classifier nudity score 0.95 > 0.80"]
    certain = decide([], SETTINGS, classifier_results=[score(1.0, threshold=0.0)])
    assert certain.verdict is Verdict.REVIEW


def test_classifier_at_or_below_threshold_changes_nothing() -> None:
    assert decide([], SETTINGS, classifier_results=[score(0.8), score(0.1)]).verdict is (
        Verdict.NO_MATCH
    )


def test_match_beats_review_and_every_rule_gives_its_reason() -> None:
    matches = [hit("pdq", distance=30), hit("md5", classification=None), hit("sha256")]
    decision = decide(
        matches, SETTINGS, flag=RecordSource.USER_REPORT, classifier_results=[score(0.99)]
    )
    assert decision.verdict is Verdict.MATCH
    assert len(decision.reasons) == 5
    assert decision.reasons[2] == "sha256 digest on list ncmec"


def test_only_review_rules_give_review() -> None:
    matches = [hit("pdq", distance=30), hit("md5", classification=None)]
    decision = decide(matches, SETTINGS, classifier_results=[score(0.99)])
    assert decision.verdict is Verdict.REVIEW
    assert [r.split(":")[0].split(" ")[0] for r in decision.reasons] == [
        "near",
        "md5",
        "classifier",
    ]


def test_a_hit_on_a_suspect_entry_goes_to_review_naming_it() -> None:
    suspect = ListMatch("ncmec", 7, "ext-7", "sha256", None, None, "A1", suspect=True)
    decision = decide([suspect], SETTINGS)
    assert decision.verdict is Verdict.REVIEW
    [reason] = decision.reasons
    assert reason.startswith("sha256 digest on list ncmec") and "entry 7 is suspect" in reason


def test_a_suspect_hit_beside_a_sound_one_is_still_a_match() -> None:
    suspect = ListMatch("ncmec", 7, "ext-7", "sha256", None, None, "A1", suspect=True)
    decision = decide([suspect, hit("md5")], SETTINGS)
    assert decision.verdict is Verdict.MATCH and len(decision.reasons) == 2
