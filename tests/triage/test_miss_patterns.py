"""The misses issue 20 found, each as a pair: a report that must not be level 1 and one that
must. Level 1 means a child may be in danger now (docs/triage.md); every level-1 report's
reasons name the facts that put it there, quoting the words when text did."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.store.models import Disposition, FileVerdict
from vigil.triage.facts import FileFacts, ReportFacts
from vigil.triage.scoring import TriageResult, score
from vigil.triage.weights import load_weights

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WEIGHTS = load_weights()
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
NEW = FileFacts(FileVerdict.NEW, None)
NEW_B1 = FileFacts(FileVerdict.NEW, "B1")
KNOWN_A1 = FileFacts(FileVerdict.KNOWN, "A1")
SEEN_A2 = FileFacts(FileVerdict.SEEN, "A2")
SCREENSHOT = FileFacts(FileVerdict.NEW, None, supplemental=True)
REPORT = ReportFacts(
    report_id=1,
    now=NOW,
    received_at=NOW - timedelta(hours=1),
    incident_time=NOW - timedelta(days=2),
)
SIGNS_OF_DANGER_NOW = {"contact", "danger_now", "live_streaming"}


def _scored(**changes: object) -> TriageResult:
    return score(replace(REPORT, **changes), WEIGHTS)


def _reasons(result: TriageResult) -> dict[str, str]:
    return {reason.name: reason.detail for reason in result.reasons}


def _explained_level_1(result: TriageResult) -> None:
    """Level 1, and a sign of danger now among the reasons, with what was found."""
    assert result.priority == 1
    signs = {r.name: r for r in result.reasons if r.name in SIGNS_OF_DANGER_NOW and r.points}
    assert signs and all(reason.detail for reason in signs.values())


# --- the escalation is read, not counted ---------------------------------------------------


def test_an_escalation_saying_the_material_is_an_old_meme_is_not_urgent() -> None:
    result = _scored(
        escalation="Escalating: this is an old meme that has been widely circulated.",
        files=(SEEN_A2,),
    )
    assert result.priority > 1
    reasons = _reasons(result)
    assert "escalation" not in reasons and '"old meme"' in reasons["old_material"]


def test_an_escalation_saying_the_child_is_with_the_uploader_now_is_level_1() -> None:
    result = _scored(escalation="The child is with the uploader now.", files=(NEW,))
    _explained_level_1(result)
    assert '"child is with the uploader now"' in _reasons(result)["danger_now"]


def test_an_escalation_about_volume_or_a_repeat_offender_is_serious_not_imminent() -> None:
    result = _scored(
        escalation="Large volume of files; the user is a repeat offender.",
        files=(NEW_B1, SEEN_A2, SEEN_A2),
        linked_reports=3,
        entity_linked=3,
    )
    assert result.priority == 2
    assert "repeat offender" in _reasons(result)["serious"]


def test_a_negated_escalation_does_not_raise_the_report() -> None:
    result = _scored(
        escalation="No indication the abuse is ongoing; the child is safe now.", files=(NEW,)
    )
    assert result.priority > 1 and "resolved" in _reasons(result)
    assert "danger_now" not in _reasons(result)


# --- viral is spread among unrelated people, not a second copy -----------------------------


def test_new_pictures_reposted_by_a_linked_account_are_not_viral() -> None:
    result = _scored(
        files=(NEW,), viral_bundle_size=2, bundle_companies=1, bundle_linked=1, entity_linked=1
    )
    assert result.disposition is Disposition.REFERRAL and result.priority <= 2
    assert "viral_bundle" not in _reasons(result)


def test_linked_offenders_sharing_known_pictures_are_referred_not_informational() -> None:
    result = _scored(
        files=(KNOWN_A1,), viral_bundle_size=4, bundle_companies=1, bundle_linked=3, entity_linked=3
    )
    assert result.disposition is Disposition.REFERRAL


def test_a_file_spread_by_many_unrelated_reporters_is_informational() -> None:
    result = _scored(
        files=(FileFacts(FileVerdict.KNOWN, "B2"),), viral_bundle_size=40, bundle_companies=4
    )
    assert result.disposition is Disposition.INFORMATIONAL and result.priority == 4
    assert "40 reports from 4 companies" in _reasons(result)["viral_bundle"]


def test_a_second_copy_from_an_unrelated_reporter_is_not_viral() -> None:
    result = _scored(files=(SEEN_A2,), viral_bundle_size=2, bundle_companies=2)
    assert result.disposition is Disposition.REFERRAL and "viral_bundle" not in _reasons(result)


def test_catalogued_material_is_weighed_by_its_classification_and_context() -> None:
    plain = _scored(files=(KNOWN_A1,) * 3)
    assert plain.priority == 3 and plain.disposition is Disposition.REFERRAL
    serious = _scored(files=(KNOWN_A1,) * 3, texts=(("additional information", "repeat offender"),))
    assert serious.priority == 2  # the known-only cap is lifted by what the text says


# --- contact needs strength and freshness --------------------------------------------------


def test_a_named_victim_or_a_solicitation_alone_is_not_level_1() -> None:
    for changes in ({"victim": True}, {"report_annotations": frozenset({"csamSolicitation"})}):
        result = _scored(files=(NEW_B1,), **changes)
        assert result.priority > 1
        assert next(r for r in result.reasons if r.name == "contact").value < 0.5


def test_an_exchange_between_minors_of_similar_age_is_not_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        victim=True,
        files=(NEW_B1,),
        report_annotations=frozenset({"minorToMinorInteraction"}),
        texts=(("incident content", "Two minors of similar age exchanged pictures."),),
    )
    assert result.priority > 1 and "peer_minors" in _reasons(result)


def test_a_coerced_teen_now_safe_with_police_involved_is_not_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"sextortion"}),
        victim=True,
        files=(NEW_B1,),
        escalation="Sextortion of a 15-year-old; the victim is now safe and police are involved.",
    )
    assert result.priority > 1
    assert "now safe" in _reasons(result)["resolved"]


def test_fresh_enticement_is_level_1_and_named() -> None:
    result = _scored(incident_type=ENTICEMENT, victim=True, files=(NEW_B1,))
    _explained_level_1(result)
    assert ENTICEMENT in _reasons(result)["contact"]


# --- time lowers urgency -------------------------------------------------------------------


def test_sextortion_ended_months_ago_with_a_chat_screenshot_is_not_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"sextortion"}),
        victim=True,
        incident_time=NOW - timedelta(days=150),
        files=(SCREENSHOT,),
    )
    assert result.priority > 1
    reasons = _reasons(result)
    assert "new_material" not in reasons  # the screenshot is context, not new material
    assert "150 days ago" in reasons["contact"]


def test_the_text_saying_contact_ended_months_ago_fades_a_recent_incident() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        victim=True,
        files=(NEW_B1,),
        texts=(("additional information", "Last contact was 4 months ago."),),
    )
    assert result.priority > 1
    assert "120 days ago (from the text)" in _reasons(result)["contact"]


def test_sextortion_today_with_a_new_picture_is_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"sextortion"}),
        incident_time=NOW - timedelta(hours=5),
        files=(NEW_B1, SCREENSHOT),
    )
    _explained_level_1(result)
    assert "supplemental" in _reasons(result)["new_material"]


def test_threats_in_a_chat_that_ended_months_ago_are_not_level_1() -> None:
    chat = "He threatened to publish the pictures. The chat stopped 5 months ago."
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"sextortion"}),
        files=(NEW_B1, FileFacts(FileVerdict.NEW, "A1", frozenset({"infant", "physicalHarm"}))),
        texts=(("incident content", chat),),
    )
    assert result.score >= WEIGHTS.level_1 and result.priority == 2
    assert "150 days ago (from the text)" in _reasons(result)["danger_now"]


def test_time_spent_waiting_in_the_queue_does_not_lower_a_report() -> None:
    facts = replace(REPORT, incident_type=ENTICEMENT, victim=True, files=(NEW_B1,))
    later = replace(facts, now=NOW + timedelta(days=60))
    assert score(later, WEIGHTS) == score(facts, WEIGHTS)


# --- thresholds where real cases fall ------------------------------------------------------


def test_new_material_with_no_other_context_is_level_2() -> None:
    result = _scored(files=(NEW,), incident_time=NOW - timedelta(days=300))
    assert result.priority == 2


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("additional information", "The uploader lives with the child."),
        ("incident content", "He says he is meeting her tonight."),
        ("reported person", "The user has access to a child and the abuse is ongoing."),
    ],
)
def test_new_material_with_signs_the_child_is_in_danger_only_in_free_text_is_level_1(
    where: str, text: str
) -> None:
    result = _scored(files=(NEW,), incident_time=NOW - timedelta(days=300), texts=((where, text),))
    _explained_level_1(result)
    assert where in _reasons(result)["danger_now"]


def test_new_material_alone_is_not_level_1_however_many_files() -> None:
    many = (FileFacts(FileVerdict.NEW, "A1", frozenset({"infant", "physicalHarm"})),) * 50
    result = _scored(files=many, linked_reports=5, entity_linked=5, other_companies=3)
    assert result.score >= WEIGHTS.level_1 and result.priority == 2
    assert "rule_level_1_needs" in _reasons(result)


def test_what_level_1_needs_is_the_weights_files_choice() -> None:
    lenient = replace(WEIGHTS, level_1_needs=frozenset({"new_material"}))
    many = (FileFacts(FileVerdict.NEW, "A1", frozenset({"infant"})),) * 5
    assert score(replace(REPORT, files=many), WEIGHTS).priority == 2
    assert score(replace(REPORT, files=many), lenient).priority == 1
    faded = replace(REPORT, incident_type=ENTICEMENT, incident_time=NOW - timedelta(days=200))
    contact_only = replace(WEIGHTS, level_1_needs=frozenset({"contact"}))
    assert score(replace(faded, files=many), contact_only).priority == 2  # contact is old


PHRASES = [
    "",
    "The child is with the uploader now.",
    "This is an old meme.",
    "The victim is now safe.",
    "No indication the abuse is ongoing.",
    "Repeat offender.",
    "Two minors of similar age.",
    "Last contact was 5 months ago.",
]
any_report = st.builds(
    replace,
    st.just(REPORT),
    escalation=st.sampled_from(PHRASES),
    incident_type=st.sampled_from(["", ENTICEMENT]),
    incident_time=st.sampled_from([None, NOW, NOW - timedelta(days=90)]),
    report_annotations=st.frozensets(
        st.sampled_from(["sextortion", "csamSolicitation", "minorToMinorInteraction"])
    ),
    victim=st.booleans(),
    files=st.lists(
        st.sampled_from(
            [
                NEW,
                NEW_B1,
                KNOWN_A1,
                SEEN_A2,
                SCREENSHOT,
                FileFacts(FileVerdict.NEW, None, frozenset({"liveStreaming"})),
            ]
        ),
        max_size=4,
    ).map(tuple),
    texts=st.lists(
        st.tuples(st.just("additional information"), st.sampled_from(PHRASES)), max_size=2
    ).map(tuple),
    viral_bundle_size=st.sampled_from([0, 2, 40]),
    bundle_companies=st.sampled_from([1, 4]),
    bundle_linked=st.sampled_from([0, 1]),
)


@settings(max_examples=300, deadline=None)
@given(any_report)
def test_every_level_1_report_names_the_facts_that_put_it_there(facts: ReportFacts) -> None:
    result = score(facts, WEIGHTS)
    if result.priority == 1:
        _explained_level_1(result)
        assert (
            "resolved" not in _reasons(result)
            or "danger_now" in _reasons(result)
            or any(r.name == "live_streaming" for r in result.reasons)
        )


# --- issue 20, second round: what contact alone needs, and safety outweighing danger --------


def test_a_fresh_request_for_images_alone_is_not_level_1_but_a_threat_is() -> None:
    asked = {"incident_type": ENTICEMENT, "victim": True, "files": (NEW, NEW_B1)}
    result = _scored(report_annotations=frozenset({"csamSolicitation"}), **asked)
    assert result.priority == 2
    threatened = _scored(report_annotations=frozenset({"csamSolicitation", "sextortion"}), **asked)
    _explained_level_1(threatened)


def test_a_request_for_images_with_the_child_with_the_suspect_is_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"csamSolicitation"}),
        texts=(("chat", "he wrote: she is with me all weekend"),),
    )
    _explained_level_1(result)
    assert "with me all weekend" in _reasons(result)["danger_now"]


def test_a_request_for_images_with_a_journey_arranged_is_level_1() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"csamSolicitation"}),
        texts=(("chat", "he offered to buy her train ticket for friday"),),
    )
    _explained_level_1(result)


def test_contact_two_weeks_old_is_not_a_sign_of_danger_now_but_days_old_is() -> None:
    trafficking = {"incident_type": "Child Sex Trafficking", "files": (NEW,)}
    old = _scored(incident_time=NOW - timedelta(days=14), **trafficking)
    assert old.priority == 2
    _explained_level_1(_scored(incident_time=NOW - timedelta(days=3), **trafficking))


def test_the_text_saying_the_child_is_safe_outweighs_danger_words() -> None:
    danger = "The account is still messaging other minors."
    safe = _scored(files=(NEW, NEW_B1), texts=(("info", "Victim is safe. " + danger),))
    assert safe.priority > 1 and "danger_now" in _reasons(safe)
    alone = _scored(files=(NEW, NEW_B1), texts=(("info", danger),))
    _explained_level_1(alone)


def test_a_negated_danger_does_not_calm_another_danger_phrase() -> None:
    text = "No indication the abuse is ongoing; but the girl is here w me now."
    result = _scored(files=(NEW, NEW_B1), texts=(("chat", text),))
    _explained_level_1(result)


def test_threats_that_stopped_in_a_past_season_after_police_are_not_urgent() -> None:
    result = _scored(
        incident_type=ENTICEMENT,
        report_annotations=frozenset({"sextortion"}),
        incident_time=None,
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        files=(SCREENSHOT,),
        texts=(("info", "Threats ended over the summer once the family went to the police."),),
    )
    assert result.priority == 3
    reasons = _reasons(result)
    assert "went to the police" in reasons["resolved"] and "from the text" in reasons["contact"]


@pytest.mark.parametrize(
    "text",
    [
        "chat: this isnt an old meme, hes here rn",
        "note: boy sleeping over tonite",
        "caption: round 2 tomorrow",
        "Escalation: material produced today, the child is in the uploader's home.",
    ],
)
def test_new_material_with_the_child_with_the_suspect_in_informal_words_is_level_1(
    text: str,
) -> None:
    result = _scored(files=(NEW, NEW_B1), texts=(("chat", text),))
    _explained_level_1(result)
    assert "old_material" not in _reasons(result)
