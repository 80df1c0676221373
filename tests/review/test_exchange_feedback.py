"""Reviewers' decisions on matches of exchange entries, end to end on SQLite and PostgreSQL:
screening says where each match came from, the match record keeps it, and a confirmation or
a false positive queues feedback for the exchange that shared the entry (in the decision's
transaction, audited), only where that exchange takes feedback and has it on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.exchanges.shared_entries import feed_list
from tests.review.review_env import ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.review.decisions import decide
from vigil.review.errors import DecisionRefused
from vigil.store import Database
from vigil.store.exchanges.catalogue import set_feedback_enabled
from vigil.store.exchanges.entry_feedback import feedback_lines
from vigil.store.exchanges.feedback_queue import mark_feedback_failed, mark_feedback_sent
from vigil.store.models import (
    AuditRecord,
    DecisionKind,
    ExchangeFeedback,
    FeedbackState,
    FeedbackVerdict,
    ListEntry,
    Verdict,
)
from vigil.store.records.matches import get_record, record_summary

SETTINGS = ReviewSettings()
SHARED = 2  # a corpus image the exchange shares by SHA-256 (images 0 and 1 are a file's)


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        sha256 = made.fingerprint(SHARED).sha256
        assert sha256 is not None
        feed_list(database, "hub", "shared", [("sha256", sha256, "hub-entry-2")])
        yield made


def matched(env: ReviewEnv, image: int) -> tuple[str, int]:
    outcome = env.upload(image, content=f"c-{image}")
    assert outcome.verdict is Verdict.MATCH
    return env.case_of(outcome.record_id)


def queued(env: ReviewEnv) -> list[ExchangeFeedback]:
    with env.database.transaction() as session:
        return list(session.scalars(select(ExchangeFeedback).order_by(ExchangeFeedback.id)))


def run(env: ReviewEnv, kind: DecisionKind, case_id: str, item_id: int, reason: str = "") -> None:
    with env.database.transaction(write=True) as session:
        decide(
            session,
            case_id,
            kind,
            item_id=item_id,
            reviewer=env.alice,
            settings=SETTINGS,
            reason=reason,
        )


def shared_entry_id(env: ReviewEnv) -> int:
    with env.database.transaction() as session:
        return session.scalars(
            select(ListEntry.id).where(ListEntry.external_id == "hub-entry-2")
        ).one()


def test_screening_and_the_record_say_where_a_match_came_from(env: ReviewEnv) -> None:
    outcome = env.upload(SHARED, content="c-2")
    [match] = outcome.matches
    assert (match.list, match.external_id, match.classification) == ("shared", "hub-entry-2", "A1")
    assert (match.exchange, match.exchange_kind, match.member) == ("hub", "ncmec", "member-7")
    assert (match.tags, match.source) == (("csam", "verified"), "exchange:hub")
    answer = outcome.to_dict()["matches"][0]
    assert answer["exchange"] == "hub" and list(answer["tags"]) == ["csam", "verified"]

    assert outcome.record_id is not None
    with env.database.transaction() as session:
        record = get_record(session, outcome.record_id)
        assert record is not None
        [hit] = record_summary(record)["hits"]
    assert {key: hit[key] for key in ("exchange", "exchange_kind", "member", "tags", "source")} == {
        "exchange": "hub",
        "exchange_kind": "ncmec",
        "member": "member-7",
        "tags": ["csam", "verified"],
        "source": "exchange:hub",
    }
    assert (hit["external_id"], hit["classification"]) == ("hub-entry-2", "A1")


def test_a_file_entry_has_no_exchange(env: ReviewEnv) -> None:
    [match] = env.upload(0).matches
    assert (match.exchange, match.exchange_kind, match.member, match.tags) == (None, None, None, ())
    assert match.source == "ncmec.csv" and match.external_id == "case-1"


def test_a_confirmation_queues_affirmative_feedback_for_the_exchange_entry(
    env: ReviewEnv,
) -> None:
    case_id, item_id = matched(env, SHARED)
    run(env, DecisionKind.CONFIRM, case_id, item_id)

    [item] = queued(env)
    assert (item.verdict, item.state, item.external_id) == (
        FeedbackVerdict.AFFIRMATIVE,
        FeedbackState.PENDING,
        "hub-entry-2",
    )
    assert (item.entry_id, item.reason, item.created_by) == (
        shared_entry_id(env),
        None,
        "user:alice",
    )
    assert item.signal == env.fingerprint(SHARED).sha256
    with env.database.transaction() as session:
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.subject_type == "exchange_feedback")
        ).one()
        [line] = feedback_lines(session, [shared_entry_id(env)])[shared_entry_id(env)]
    assert audit.details["change"] == "feedback_queued" and audit.actor == "user:alice"
    assert line.text == "affirmative feedback: pending"


def test_a_confirmation_of_a_file_entry_queues_nothing(env: ReviewEnv) -> None:
    case_id, item_id = matched(env, 0)
    run(env, DecisionKind.CONFIRM, case_id, item_id)
    assert queued(env) == []


def test_a_false_positive_queues_negative_feedback_with_the_reason(env: ReviewEnv) -> None:
    case_id, item_id = matched(env, SHARED)
    run(env, DecisionKind.FALSE_POSITIVE, case_id, item_id, reason="a stock photo of a beach")

    [item] = queued(env)
    assert (item.verdict, item.reason) == (FeedbackVerdict.NEGATIVE, "a stock photo of a beach")
    with env.database.transaction() as session:
        [line] = feedback_lines(session, [shared_entry_id(env)])[shared_entry_id(env)]
    assert line.text == "negative feedback: pending (a stock photo of a beach)"


def test_feedback_turned_off_queues_nothing(env: ReviewEnv) -> None:
    with env.database.transaction(write=True) as session:
        assert set_feedback_enabled(session, "hub", False, actor="admin")
    case_id, item_id = matched(env, SHARED)
    run(env, DecisionKind.CONFIRM, case_id, item_id)
    assert queued(env) == []


def test_an_exchange_that_takes_no_feedback_is_sent_none(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    with review_env(database, tmp_path, corpus_images) as env:
        sha256 = env.fingerprint(SHARED).sha256
        assert sha256 is not None
        feed_list(database, "tat", "terror", [("sha256", sha256, "tat-1")], kind="tat")
        [match] = env.upload(SHARED).matches
        assert (match.exchange, match.exchange_kind) == ("tat", "tat")
        case_id, item_id = matched(env, SHARED)
        run(env, DecisionKind.CONFIRM, case_id, item_id)
        assert queued(env) == []


def test_a_refused_decision_queues_no_feedback(env: ReviewEnv) -> None:
    case_id, item_id = matched(env, SHARED)
    run(env, DecisionKind.CONFIRM, case_id, item_id)
    with pytest.raises(DecisionRefused):  # decided already: nothing written, nothing queued
        run(env, DecisionKind.FALSE_POSITIVE, case_id, item_id, reason="changed my mind")
    assert [item.verdict for item in queued(env)] == [FeedbackVerdict.AFFIRMATIVE]


def test_the_entry_shows_what_became_of_its_feedback(env: ReviewEnv) -> None:
    for image, content in ((SHARED, "c-a"), (SHARED, "c-b")):
        outcome = env.upload(image, account=content, content=content)
        case_id, item_id = env.case_of(outcome.record_id)
        run(env, DecisionKind.CONFIRM, case_id, item_id)
    first, second = (item.id for item in queued(env))
    with env.database.transaction(write=True) as session:
        mark_feedback_sent(session, first)
        mark_feedback_failed(session, second, error="refused: unknown entry", retryable=False)
    entry_id = shared_entry_id(env)
    with env.database.transaction() as session:
        lines = [line.text for line in feedback_lines(session, [entry_id])[entry_id]]
    assert lines == [
        "affirmative feedback: sent",
        "affirmative feedback: failed (refused: unknown entry)",
    ]
