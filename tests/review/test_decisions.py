"""Decisions end to end: cases opened by the real screening service, decided, audited, and
fed back into the lists, checked by screening the same content again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.review.review_env import ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.review.decisions import (
    FalsePositiveFeedback,
    add_to_platform_list,
    approve_request,
    classify_item,
    confirm_known,
    decide,
    pending_requests,
    reject_request,
    set_incident_type,
)
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownCase
from vigil.review.exposure import record_reveal
from vigil.review.queue import assign
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.evidence import MasterKey
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    CasePriority,
    CaseStatus,
    DecisionKind,
    EntryStatus,
    HashList,
    ItemStatus,
    ListEntry,
    RecordSource,
    RequestStatus,
    ReviewDecision,
    Verdict,
    WebhookDelivery,
)
from vigil.store.records.outbox import register_endpoint
from vigil.store.shared.vocabulary import (
    FILE_ANNOTATIONS,
    INCIDENT_TYPES,
    SHORTCUTS,
    clashing_keys,
)

SETTINGS = ReviewSettings()
TWO_REVIEWERS = ReviewSettings(two_reviewers_to_disable=True)
UNLISTED = 8  # a corpus image on no list, its PDQ of quality 100
WEAK_PDQ = 5  # on no list, PDQ quality 28: below the default minimum of 50


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


def reported(
    env: ReviewEnv, image: int = UNLISTED, account: str = "acct-1", content: str = "r-1"
) -> tuple[str, int]:
    """A user report of content no list knows: a likely-new case."""
    outcome = env.service().flag(
        Submission(content, account, UploadContext()),
        source=RecordSource.USER_REPORT,
        submitted_by="key:test0001",
        content=env.images[image].read_bytes(),
    )
    return env.case_of(outcome.record_id)


def matched(env: ReviewEnv, image: int = 0, account: str = "acct-1") -> tuple[str, int]:
    outcome = env.upload(image, account)
    assert outcome.verdict is Verdict.MATCH
    return env.case_of(outcome.record_id)


def decisions(env: ReviewEnv) -> list[ReviewDecision]:
    with env.database.transaction() as session:
        return list(session.scalars(select(ReviewDecision).order_by(ReviewDecision.id)))


def audit_records(env: ReviewEnv) -> list[AuditRecord]:
    with env.database.transaction() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == AuditAction.DECISION)
                .order_by(AuditRecord.seq)
            )
        )


def entry(env: ReviewEnv, external_id: str) -> ListEntry:
    with env.database.transaction() as session:
        return session.scalars(select(ListEntry).where(ListEntry.external_id == external_id)).one()


def run(env: ReviewEnv, function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with env.database.transaction(write=True) as session:
        return function(session, *args, **kwargs)


# --- confirm -------------------------------------------------------------------------------


def test_known_material_is_confirmed_without_a_reveal(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    result = run(
        env,
        decide,
        case_id,
        DecisionKind.CONFIRM,
        item_id=item_id,
        reviewer=env.alice,
        settings=SETTINGS,
    )
    assert (result.case_status, result.reveals_needed) == (CaseStatus.CONFIRMED, 0)
    assert result.feedback["classification"] == "A1"
    assert result.feedback["inherited_from"] == "list ncmec entry case-1"
    item, case = env.item(item_id), env.case(case_id)
    assert (item.status, item.classification, item.decided_by) == (
        ItemStatus.CONFIRMED,
        "A1",
        "user:alice",
    )
    assert case.closed_at is not None
    [decision] = decisions(env)
    assert (decision.kind, decision.reviewer, decision.reveals_needed, decision.item_id) == (
        DecisionKind.CONFIRM,
        "user:alice",
        0,
        item_id,
    )
    [audit] = audit_records(env)
    assert (audit.actor, audit.subject_type, audit.subject_id) == (
        "user:alice",
        "review_case",
        case_id,
    )
    assert audit.details["decision_id"] == decision.id
    assert audit.details["kind"] == "confirm"


def test_a_decision_is_announced_to_the_platform(env: ReviewEnv) -> None:
    with env.database.transaction(write=True) as session:
        register_endpoint(
            session,
            "https://platform.example/hook",
            ["decision"],
            created_by="test",
            master_key=MasterKey.generate(),
        )
    case_id, item_id = matched(env, account="acct-77")
    result = run(
        env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS
    )
    with env.database.transaction() as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert delivery.event == "decision"
    assert delivery.payload["decision_id"] == result.decision_id
    assert (delivery.payload["kind"], delivery.payload["account_id"]) == ("confirm", "acct-77")
    assert delivery.payload["case_status"] == "confirmed"
    assert "reason" not in delivery.payload


def test_new_material_needs_a_classification_first(env: ReviewEnv) -> None:
    case_id, item_id = reported(env)
    with pytest.raises(DecisionRefused, match="classify"):
        run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    assert decisions(env) == [] and audit_records(env) == []
    for _ in range(2):
        run(env, record_reveal, env.alice.id, item_id)
    run(
        env, classify_item, item_id, "A2", ["generativeAi", "viral", "viral"], actor=env.alice.actor
    )
    result = run(
        env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS
    )
    assert result.reveals_needed == 2 and result.feedback["classification"] == "A2"
    assert env.item(item_id).annotations == ["viral", "generativeAi"]  # schema order, once
    assert decisions(env)[-1].reveals_needed == 2


def test_a_case_stays_open_until_every_item_is_decided(env: ReviewEnv) -> None:
    case_id, known = matched(env)
    same_case, unknown = reported(env)
    assert same_case == case_id
    result = run(
        env, decide, case_id, "confirm", item_id=known, reviewer=env.alice, settings=SETTINGS
    )
    assert result.case_status is CaseStatus.OPEN
    run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=unknown,
        reviewer=env.alice,
        settings=SETTINGS,
        reason="a landscape photo",
    )
    case = env.case(case_id)
    assert case.status is CaseStatus.CONFIRMED and case.closed_at is not None


def test_decided_items_and_closed_cases_refuse_further_decisions(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    for kind in ("confirm", "false_positive", "escalate", "second_opinion"):
        with pytest.raises(DecisionRefused):
            run(
                env,
                decide,
                case_id,
                kind,
                item_id=item_id,
                reviewer=env.bob,
                settings=SETTINGS,
                reason="again",
            )
    assert len(decisions(env)) == 1


def test_an_item_of_another_case_is_refused(env: ReviewEnv) -> None:
    case_id, _ = matched(env, account="acct-1")
    _, other_item = reported(env, account="acct-2")
    with pytest.raises(InvalidReviewInput, match="not in case"):
        run(
            env,
            decide,
            case_id,
            "confirm",
            item_id=other_item,
            reviewer=env.alice,
            settings=SETTINGS,
        )


@pytest.mark.parametrize("case_id", ["", "x" * 33, "0" * 32])
def test_unknown_cases_are_refused(env: ReviewEnv, case_id: str) -> None:
    with pytest.raises(UnknownCase):
        run(env, decide, case_id, "escalate", reviewer=env.alice, settings=SETTINGS, reason="r")


@pytest.mark.parametrize("kind", ["approve", "", "CONFIRM", "delete"])
def test_unknown_decision_kinds_are_refused(env: ReviewEnv, kind: str) -> None:
    case_id, item_id = matched(env)
    with pytest.raises(InvalidReviewInput):
        run(env, decide, case_id, kind, item_id=item_id, reviewer=env.alice, settings=SETTINGS)


def test_item_decisions_need_an_item(env: ReviewEnv) -> None:
    case_id, _ = matched(env)
    with pytest.raises(InvalidReviewInput, match="needs an item"):
        run(env, decide, case_id, "confirm", reviewer=env.alice, settings=SETTINGS)


# --- false positive ------------------------------------------------------------------------


def test_false_positive_needs_a_reason(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidReviewInput):
            run(
                env,
                decide,
                case_id,
                "false_positive",
                item_id=item_id,
                reviewer=env.alice,
                settings=SETTINGS,
                reason=reason,
            )
    assert env.item(item_id).status is ItemStatus.PENDING


def test_false_positive_disabling_the_entry_stops_the_match(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    listed = entry(env, "case-1")
    result = run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=SETTINGS,
        reason="stock wallpaper",
        feedback=FalsePositiveFeedback(disable_entries=True),
    )
    assert result.feedback == {"disabled_entries": [listed.id]}
    assert result.case_status is CaseStatus.DISMISSED
    disabled = entry(env, "case-1")
    assert disabled.status is EntryStatus.DISABLED and disabled.status_by == "user:alice"
    assert "stock wallpaper" in (disabled.status_reason or "")
    assert env.upload(0, "acct-9").verdict is Verdict.NO_MATCH
    [audit] = audit_records(env)
    assert audit.details["feedback"] == {"disabled_entries": [listed.id]}


def test_false_positive_without_feedback_changes_no_list(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    result = run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=SETTINGS,
        reason="not abuse",
    )
    assert result.feedback == {}
    assert entry(env, "case-1").status is EntryStatus.ACTIVE
    assert env.upload(0, "acct-9").verdict is Verdict.MATCH


def test_false_positive_may_only_disable_what_the_item_matched(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    other = entry(env, "case-2")
    with pytest.raises(InvalidReviewInput, match="matched"):
        run(
            env,
            decide,
            case_id,
            "false_positive",
            item_id=item_id,
            reviewer=env.alice,
            settings=SETTINGS,
            reason="x",
            feedback=FalsePositiveFeedback(disable_entries=True, entry_ids=(other.id,)),
        )
    assert entry(env, "case-2").status is EntryStatus.ACTIVE
    assert env.item(item_id).status is ItemStatus.PENDING
    reported_case, reported_item = reported(env, account="acct-2")
    with pytest.raises(InvalidReviewInput, match="no list entry"):
        run(
            env,
            decide,
            reported_case,
            "false_positive",
            item_id=reported_item,
            reviewer=env.alice,
            settings=SETTINGS,
            reason="x",
            feedback=FalsePositiveFeedback(disable_entries=True),
        )


def test_false_positive_on_the_allow_list_suppresses_it(env: ReviewEnv) -> None:
    case_id, item_id = matched(env, image=1)  # a PDQ match
    result = run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=SETTINGS,
        reason="a benign photo",
        feedback=FalsePositiveFeedback(allow_list=True),
    )
    assert result.feedback["allow_list"] == "platform-confirmed-allow"
    assert len(result.feedback["allow_entries"]) == 3  # sha256, md5, pdq
    with env.database.transaction() as session:
        allow = session.scalars(
            select(HashList).where(HashList.name == "platform-confirmed-allow")
        ).one()
        assert allow.is_allow_list
    assert entry(env, "case-2").status is EntryStatus.ACTIVE  # the list itself is untouched
    again = env.upload(1, "acct-9")
    assert again.verdict is Verdict.NO_MATCH and again.record_id is None
    assert {m.list for m in again.suppressed_by} == {"platform-confirmed-allow"}


def test_a_block_list_is_never_used_as_the_allow_list(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    with pytest.raises(InvalidReviewInput, match="not an allow-list"):
        run(
            env,
            decide,
            case_id,
            "false_positive",
            item_id=item_id,
            reviewer=env.alice,
            settings=SETTINGS,
            reason="x",
            feedback=FalsePositiveFeedback(allow_list=True, allow_list_name="ncmec"),
        )
    assert env.item(item_id).status is ItemStatus.PENDING


# --- the two-reviewer rule -----------------------------------------------------------------


def test_two_reviewers_are_needed_to_disable_an_entry(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    result = run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=TWO_REVIEWERS,
        reason="stock wallpaper",
        feedback=FalsePositiveFeedback(disable_entries=True),
    )
    [request_id] = result.feedback["disable_requests"]
    assert entry(env, "case-1").status is EntryStatus.ACTIVE
    assert env.upload(0, "acct-9").verdict is Verdict.MATCH  # not yet
    with env.database.transaction() as session:
        [pending] = pending_requests(session)
    assert (pending.id, pending.list_name, pending.requested_by) == (
        request_id,
        "ncmec",
        "user:alice",
    )

    with pytest.raises(DecisionRefused, match="second reviewer"):
        run(env, approve_request, request_id, reviewer=env.alice)
    assert entry(env, "case-1").status is EntryStatus.ACTIVE

    approved = run(env, approve_request, request_id, reviewer=env.bob)
    assert (approved.status, approved.resolved_by) == (RequestStatus.APPROVED, "user:bob")
    disabled = entry(env, "case-1")
    assert disabled.status is EntryStatus.DISABLED and disabled.status_by == "user:bob"
    assert env.upload(0, "acct-10").verdict is Verdict.NO_MATCH
    assert audit_records(env)[-1].subject_type == "entry_disable_request"
    with pytest.raises(DecisionRefused, match="already"):
        run(env, approve_request, request_id, reviewer=env.bob)


def test_a_rejected_request_leaves_the_entry_active(env: ReviewEnv) -> None:
    case_id, item_id = matched(env)
    result = run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=TWO_REVIEWERS,
        reason="stock wallpaper",
        feedback=FalsePositiveFeedback(disable_entries=True),
    )
    [request_id] = result.feedback["disable_requests"]
    rejected = run(env, reject_request, request_id, reviewer=env.bob, reason="it is listed")
    assert rejected.status is RequestStatus.REJECTED
    with pytest.raises(DecisionRefused):
        run(env, approve_request, request_id, reviewer=env.bob)
    assert entry(env, "case-1").status is EntryStatus.ACTIVE
    with env.database.transaction() as session:
        assert pending_requests(session) == []


# --- second opinion, escalation ------------------------------------------------------------


def test_second_opinion_keeps_the_case_open_and_unassigns_it(env: ReviewEnv) -> None:
    case_id, item_id = reported(env)
    _, second_item = reported(env, image=UNLISTED + 1, content="r-2")
    run(env, assign, case_id, env.alice.id, actor=env.alice.actor)
    run(env, record_reveal, env.alice.id, item_id)
    run(env, record_reveal, env.alice.id, second_item)
    run(env, record_reveal, env.alice.id, second_item)
    result = run(
        env,
        decide,
        case_id,
        "second_opinion",
        reviewer=env.alice,
        settings=SETTINGS,
        reason="unsure about the age",
    )
    assert result.reveals_needed == 3 and result.item_id is None  # the case's sum
    case = env.case(case_id)
    assert case.status is CaseStatus.OPEN and case.second_opinion
    assert case.assigned_to_id is None
    run(env, classify_item, item_id, "B2", [], actor=env.bob.actor)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.bob, settings=SETTINGS)
    assert not env.case(case_id).second_opinion


def test_escalation_makes_the_case_urgent(env: ReviewEnv) -> None:
    case_id, _ = matched(env)
    assert env.case(case_id).priority == CasePriority.KNOWN
    result = run(
        env,
        decide,
        case_id,
        "escalate",
        reviewer=env.alice,
        settings=SETTINGS,
        reason="recent abuse, child may be at risk",
        imminent_danger=True,
    )
    case = env.case(case_id)
    assert (case.priority, case.escalated, case.imminent_danger) == (
        CasePriority.URGENT,
        True,
        True,
    )
    assert case.status is CaseStatus.OPEN and "imminent" in case.priority_reason
    assert result.feedback == {"escalated": True, "imminent_danger": True}
    assert audit_records(env)[-1].details["kind"] == "escalate"
    assert case.escalation_reason == "recent abuse, child may be at risk"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_escalation_without_a_reason_is_refused(env: ReviewEnv, reason: str) -> None:
    case_id, _ = matched(env)
    with pytest.raises(InvalidReviewInput, match="give a reason"):
        run(env, decide, case_id, "escalate", reviewer=env.alice, settings=SETTINGS, reason=reason)
    case = env.case(case_id)
    assert not case.escalated and case.escalation_reason is None and decisions(env) == []


def test_de_escalation_undoes_the_escalation_and_is_audited(env: ReviewEnv) -> None:
    case_id, _ = matched(env)
    run(
        env,
        decide,
        case_id,
        "escalate",
        reviewer=env.alice,
        settings=SETTINGS,
        reason="said in chat the child is alone tonight",
        imminent_danger=True,
    )
    result = run(
        env, decide, case_id, "de_escalate", reviewer=env.bob, settings=SETTINGS, reason="mistake"
    )
    case = env.case(case_id)
    assert (case.escalated, case.imminent_danger, case.escalation_reason) == (False, False, None)
    assert case.priority == CasePriority.KNOWN
    assert result.feedback["undone_reason"] == "said in chat the child is alone tonight"
    record = audit_records(env)[-1]
    assert (record.actor, record.details["kind"]) == (env.bob.actor, "de_escalate")
    with pytest.raises(DecisionRefused, match="not escalated"):
        run(env, decide, case_id, "de_escalate", reviewer=env.bob, settings=SETTINGS)


def test_confirm_known_confirms_only_the_known_items(env: ReviewEnv) -> None:
    case_id, known_item = matched(env)
    _, unknown_item = reported(env)
    results = run(env, confirm_known, case_id, reviewer=env.alice, settings=SETTINGS)
    assert [each.item_id for each in results] == [known_item]
    statuses = {item.id: item.status for item in env.case(case_id).items}
    assert statuses == {known_item: ItemStatus.CONFIRMED, unknown_item: ItemStatus.PENDING}
    with pytest.raises(DecisionRefused, match="no pending item"):
        run(env, confirm_known, case_id, reviewer=env.alice, settings=SETTINGS)


# --- vocabulary ----------------------------------------------------------------------------


@pytest.mark.parametrize("classification", ["C3", "a1", "A1 ", "", "A"])
def test_invalid_classifications_are_refused(env: ReviewEnv, classification: str) -> None:
    _, item_id = reported(env)
    with pytest.raises(InvalidReviewInput, match="classification"):
        run(env, classify_item, item_id, classification, [], actor=env.alice.actor)
    assert env.item(item_id).classification is None


@pytest.mark.parametrize(
    "annotations", [["selfie"], ["viral", "VIRAL"], "viral", [None], ["viral"] * 41, [1]]
)
def test_invalid_annotations_are_refused(env: ReviewEnv, annotations: object) -> None:
    _, item_id = reported(env)
    with pytest.raises(InvalidReviewInput):
        run(env, classify_item, item_id, "A1", annotations, actor=env.alice.actor)
    assert env.item(item_id).classification is None


def test_incident_type_must_be_a_cybertipline_type(env: ReviewEnv) -> None:
    case_id, _ = reported(env)
    for value in ("Child Pornography", "child sex trafficking", "", "x" * 500):
        with pytest.raises(InvalidReviewInput, match="incident type"):
            run(env, set_incident_type, case_id, value, actor=env.alice.actor)
    run(env, set_incident_type, case_id, INCIDENT_TYPES[6], actor=env.alice.actor)
    assert env.case(case_id).incident_type == "Online Enticement of Children for Sexual Acts"
    assert audit_records(env)[-1].details["change"] == "incident_type"


def test_the_vocabulary_matches_the_cybertipline_schema() -> None:
    assert len(INCIDENT_TYPES) == 8 and len(FILE_ANNOTATIONS) == 10
    assert clashing_keys() == set()
    assert set(SHORTCUTS["annotation"].values()) == set(FILE_ANNOTATIONS)
    assert set(SHORTCUTS["incident_type"].values()) == set(INCIDENT_TYPES)
    assert all(len(key) == 1 for group in SHORTCUTS.values() for key in group)
    assert clashing_keys({"a": {"x": "1"}, "b": {"x": "2"}}) == {"x"}


# --- the platform's own list ---------------------------------------------------------------


def test_a_confirmed_item_on_the_platform_list_catches_re_uploads(env: ReviewEnv) -> None:
    case_id, item_id = reported(env)
    assert env.upload(UNLISTED, "acct-2").verdict is Verdict.NO_MATCH
    with pytest.raises(DecisionRefused, match="not confirmed"):
        run(env, add_to_platform_list, item_id, actor=env.alice.actor, settings=SETTINGS)
    run(env, classify_item, item_id, "B1", [], actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    added = run(env, add_to_platform_list, item_id, actor=env.alice.actor, settings=SETTINGS)
    assert added.list_name == "platform-confirmed" and len(added.added) == 3
    again = env.upload(UNLISTED, "acct-3", content="re-upload")
    assert again.verdict is Verdict.MATCH
    assert {(m.list, m.classification) for m in again.matches} == {("platform-confirmed", "B1")}
    new_case, new_item = env.case_of(again.record_id)
    assert new_case != case_id
    assert env.item(new_item).inherited_classification == "B1"
    repeat = run(env, add_to_platform_list, item_id, actor=env.alice.actor, settings=SETTINGS)
    assert repeat.added == [] and sorted(repeat.existing) == sorted(added.added)


def test_a_weak_pdq_is_not_added_to_a_list(env: ReviewEnv) -> None:
    case_id, item_id = reported(env, image=WEAK_PDQ)
    run(env, classify_item, item_id, "A1", [], actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    added = run(env, add_to_platform_list, item_id, actor=env.alice.actor, settings=SETTINGS)
    with env.database.transaction() as session:
        kinds = set(
            session.scalars(select(ListEntry.signal_type).where(ListEntry.id.in_(added.added)))
        )
    assert kinds == {"sha256", "md5"}
