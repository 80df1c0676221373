"""Scoring: every reason moves the score the documented way, the levels and disposition
rules hold, and the score stays within its bounds for any facts (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.store.models import Disposition, FileVerdict
from vigil.triage.facts import FileFacts, ReportFacts
from vigil.triage.scoring import score
from vigil.triage.weights import REASON_DIRECTIONS, Weights, load_weights

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WEIGHTS = load_weights()
SEEN = FileFacts(FileVerdict.SEEN, None)
BASE = ReportFacts(
    report_id=1, now=NOW, incident_time=NOW - timedelta(days=200), files=(SEEN, SEEN)
)

# One change to BASE that makes each reason hold.
CHANGES = {
    "escalation": {"escalation": "the child is with the user now"},
    "contact": {"incident_type": "Online Enticement of Children for Sexual Acts"},
    "infant": {"files": (FileFacts(FileVerdict.SEEN, None, frozenset({"infant"})), SEEN)},
    "prepubescent": {"files": (FileFacts(FileVerdict.SEEN, "A1"), SEEN)},
    "pubescent": {"files": (FileFacts(FileVerdict.SEEN, "B2"), SEEN)},
    "new_material": {"files": (FileFacts(FileVerdict.NEW, None), SEEN)},
    "live_streaming": {
        "files": (FileFacts(FileVerdict.SEEN, None, frozenset({"liveStreaming"})), SEEN)
    },
    "physical_harm": {
        "files": (FileFacts(FileVerdict.SEEN, None, frozenset({"physicalHarm"})), SEEN)
    },
    "self_production": {
        "files": (FileFacts(FileVerdict.SEEN, None, frozenset({"possibleSelfProduction"})), SEEN)
    },
    "linked_reports": {"linked_reports": 2},
    "other_companies": {"other_companies": 1},
    "file_count": {"files": (SEEN,) * 30},
    "recent_incident": {"incident_time": NOW - timedelta(days=1)},
    "analyst_note": {"note_texts": ("looked at it",)},
    "danger_now": {"note_texts": ("the meeting is imminent",)},
    "serious": {"texts": (("additional information", "a large volume of files"),)},
    "old_material": {"texts": (("additional information", "an old meme"),)},
    "peer_minors": {"report_annotations": frozenset({"minorToMinorInteraction"})},
    "resolved": {"texts": (("additional information", "the child is now safe"),)},
    "known_only": {"files": (FileFacts(FileVerdict.KNOWN, None),) * 2},
    "viral_bundle": {"viral_bundle_size": 12},
    "generative_ai": {
        "files": (FileFacts(FileVerdict.SEEN, None, frozenset({"generativeAi"})), SEEN)
    },
}


def test_every_weighted_reason_has_a_case_here() -> None:
    assert set(CHANGES) == set(REASON_DIRECTIONS)


@pytest.mark.parametrize("name", sorted(REASON_DIRECTIONS))
def test_each_reason_moves_the_score_in_its_documented_direction(name: str) -> None:
    # Give the base some points first, so a lowering reason has something to lower.
    base = (
        replace(BASE, linked_reports=5, other_companies=3) if REASON_DIRECTIONS[name] < 0 else BASE
    )
    if name in ("linked_reports", "other_companies"):
        base = BASE
    before, after = score(base, WEIGHTS), score(replace(base, **CHANGES[name]), WEIGHTS)
    fired = {reason.name: reason for reason in after.reasons}
    earlier = sum(r.points for r in before.reasons if r.name == name)
    assert name in fired and abs(fired[name].points) > abs(earlier)
    reason = fired[name]
    assert reason.points == pytest.approx(reason.weight * reason.value, abs=0.01)
    assert 0 < reason.value <= 1 and reason.detail
    if REASON_DIRECTIONS[name] > 0:
        assert after.score > before.score
    else:
        assert after.score < before.score and reason.weight < 0


def test_a_zero_weight_reason_changes_nothing() -> None:
    weights = _with(WEIGHTS, escalation=0.0)
    with_text = replace(BASE, escalation="urgent")
    assert score(with_text, weights).score == score(BASE, weights).score


def test_enticement_with_new_material_is_level_one_and_explained() -> None:
    facts = replace(
        BASE,
        incident_type="Online Enticement of Children for Sexual Acts",
        victim=True,
        incident_time=NOW - timedelta(hours=5),
        files=(FileFacts(FileVerdict.NEW, "B1"),),
    )
    result = score(facts, WEIGHTS)
    assert result.priority == 1 and result.disposition is Disposition.REFERRAL
    contact = next(reason for reason in result.reasons if reason.name == "contact")
    assert "Online Enticement" in contact.detail and "victim" in contact.detail
    assert [r.points for r in result.reasons] == sorted(
        (r.points for r in result.reasons), key=lambda p: -abs(p)
    )


def test_a_viral_bundle_with_nothing_new_is_informational() -> None:
    facts = replace(
        BASE,
        viral_bundle_size=40,
        files=(FileFacts(FileVerdict.KNOWN, "B2", frozenset({"viral"})),),
    )
    result = score(facts, WEIGHTS)
    assert result.disposition is Disposition.INFORMATIONAL and result.priority == 4
    assert any(reason.name == "rule_informational" for reason in result.reasons)


@pytest.mark.parametrize(
    "urgent",
    [
        {"escalation": "a child is at risk"},
        # A named victim alone is no longer a sign of danger now (issue 20): fresh contact is.
        {"incident_type": "Online Enticement of Children for Sexual Acts", "incident_time": NOW},
        {"files": (FileFacts(FileVerdict.NEW, None, frozenset({"viral"})),)},
    ],
)
def test_viral_with_something_new_or_urgent_is_still_referred(urgent: dict) -> None:
    facts = replace(
        BASE,
        viral_bundle_size=40,
        files=(FileFacts(FileVerdict.KNOWN, "B2", frozenset({"viral"})),),
    )
    assert score(replace(facts, **urgent), WEIGHTS).disposition is Disposition.REFERRAL


def test_the_informational_rule_can_be_switched_off() -> None:
    facts = replace(BASE, viral_bundle_size=40, files=(FileFacts(FileVerdict.KNOWN, "B2"),))
    weights = _with_content(
        WEIGHTS,
        b"viral_without_new_is_informational = true",
        b"viral_without_new_is_informational = false",
    )
    assert score(facts, weights).disposition is Disposition.REFERRAL


def test_known_only_material_is_at_best_the_configured_level() -> None:
    known = (FileFacts(FileVerdict.KNOWN, "A1", frozenset({"infant", "physicalHarm"})),) * 3
    facts = replace(BASE, files=known, linked_reports=5, other_companies=3, incident_time=NOW)
    result = score(facts, WEIGHTS)
    assert result.score >= WEIGHTS.level_2  # high enough for level 2 on points alone
    assert result.priority == WEIGHTS.known_only_best_level == 3
    assert any(reason.name == "rule_known_only_level" for reason in result.reasons)
    escalated = score(replace(facts, escalation="abuse is ongoing"), WEIGHTS)
    assert escalated.priority < 3  # an escalation lifts the cap


def test_level_one_needs_a_sign_of_danger_now() -> None:
    many = (FileFacts(FileVerdict.SEEN, "A1", frozenset({"infant", "physicalHarm"})),) * 100
    facts = replace(BASE, files=many, linked_reports=5, other_companies=3)
    result = score(facts, WEIGHTS)
    assert result.score >= WEIGHTS.level_1 and result.priority == 2
    assert any(reason.name == "rule_level_1_needs" for reason in result.reasons)


def test_the_incident_age_fades_and_a_future_time_counts_as_now() -> None:
    points = [
        _points(replace(BASE, incident_time=NOW - timedelta(days=days)), "recent_incident")
        for days in (0, 10, 20, 29)
    ]
    assert points == sorted(points, reverse=True) and points[-1] > 0
    assert _points(replace(BASE, incident_time=NOW - timedelta(days=31)), "recent_incident") == 0
    assert (
        _points(replace(BASE, incident_time=NOW + timedelta(days=300)), "recent_incident")
        == WEIGHTS.weights["recent_incident"]
    )


def test_an_analysts_label_is_named_in_the_age_reason() -> None:
    facts = replace(BASE, files=(FileFacts(FileVerdict.KNOWN, "A2", analyst_label=True),))
    reason = next(r for r in score(facts, WEIGHTS).reasons if r.name == "prepubescent")
    assert "analyst's label" in reason.detail


files = st.lists(
    st.builds(
        FileFacts,
        st.sampled_from([*FileVerdict, None]),
        st.sampled_from([None, "A1", "A2", "B1", "B2"]),
        st.frozensets(
            st.sampled_from(
                [
                    "infant",
                    "viral",
                    "potentialMeme",
                    "liveStreaming",
                    "physicalHarm",
                    "generativeAi",
                    "possibleSelfProduction",
                ]
            )
        ),
        st.booleans(),
    ),
    max_size=8,
)
facts_strategy = st.builds(
    ReportFacts,
    report_id=st.just(1),
    now=st.just(NOW),
    escalation=st.sampled_from(["", "urgent"]),
    incident_type=st.sampled_from(
        [
            "",
            "Online Enticement of Children for Sexual Acts",
            "Child Pornography (possession, manufacture, and distribution)",
        ]
    ),
    incident_time=st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
    ),
    victim=st.booleans(),
    files=files.map(tuple),
    viral_bundle_size=st.integers(0, 10**6),
    linked_reports=st.integers(0, 10**6),
    other_companies=st.integers(0, 10**4),
    note_texts=st.lists(st.text(max_size=40), max_size=3).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(facts_strategy)
def test_score_bounds_and_level_for_any_facts(facts: ReportFacts) -> None:
    result = score(facts, WEIGHTS)
    ceiling = sum(weight for name, weight in WEIGHTS.weights.items() if REASON_DIRECTIONS[name] > 0)
    assert 0 <= result.score <= ceiling + 0.01
    assert result.priority in (1, 2, 3, 4)
    assert (result.priority == 4) == (result.disposition is Disposition.INFORMATIONAL)
    if result.priority == 1:
        assert result.score >= WEIGHTS.level_1


@settings(max_examples=300, deadline=None)
@given(facts_strategy, st.sampled_from(["escalation", "victim", "linked", "new"]))
def test_adding_a_raising_fact_never_lowers_score_or_urgency(facts: ReportFacts, fact: str) -> None:
    more = {
        "escalation": replace(facts, escalation="a child is at risk now"),
        "victim": replace(facts, victim=True),
        "linked": replace(facts, linked_reports=facts.linked_reports + 1),
        "new": replace(facts, files=(*facts.files, FileFacts(FileVerdict.NEW, None))),
    }[fact]
    before, after = score(facts, WEIGHTS), score(more, WEIGHTS)
    if fact != "new":  # one more file also changes the known-only and viral shares
        assert after.score >= before.score
        assert after.priority <= before.priority


def _points(facts: ReportFacts, name: str) -> float:
    return sum(r.points for r in score(facts, WEIGHTS).reasons if r.name == name)


def _with(weights: Weights, **changes: float) -> Weights:
    return replace(weights, weights={**weights.weights, **changes})


def _with_content(weights: Weights, old: bytes, new: bytes) -> Weights:
    from vigil.triage.weights import parse_weights

    assert old in weights.content
    return parse_weights(weights.content.replace(old, new))
