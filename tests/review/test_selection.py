"""A label for a selection (issue 18): several items of one case classified at once, on
cases the real screening service opened, on SQLite and PostgreSQL. Each item is classified
and audited as the single classify does; every refusal leaves every item as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.review.review_env import ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.review.decisions import classify_item, decide
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownCase
from vigil.review.selection import MAX_SELECTION, classify_selection
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, ItemStatus, RecordSource

SETTINGS = ReviewSettings()
UNLISTED = (8, 9, 10, 11)  # corpus images on no list


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


def reported_case(env: ReviewEnv, account: str, images: tuple[int, ...]) -> tuple[str, list[int]]:
    """A case of user reports (nothing known): its public id and item ids."""
    found = []
    for number, image in enumerate(images):
        outcome = env.service().flag(
            Submission(f"{account}-{number}", account, UploadContext()),
            source=RecordSource.USER_REPORT,
            submitted_by="key:test0001",
            content=env.images[image].read_bytes(),
        )
        found.append(env.case_of(outcome.record_id))
    assert len({case_id for case_id, _ in found}) == 1, "one account, one case"
    return found[0][0], [item_id for _, item_id in found]


def run(env: ReviewEnv, function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with env.database.transaction(write=True) as session:
        return function(session, *args, **kwargs)


def classification_changes(env: ReviewEnv) -> list[AuditRecord]:
    with env.database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.DECISION)
            .order_by(AuditRecord.seq)
        )
        return [row for row in rows if row.details.get("change") == "classification"]


def labels(env: ReviewEnv, item_ids: list[int]) -> list[tuple[str | None, list[str]]]:
    return [
        (env.item(item_id).classification, list(env.item(item_id).annotations or []))
        for item_id in item_ids
    ]


@pytest.fixture
def case(env: ReviewEnv) -> tuple[str, list[int]]:
    return reported_case(env, "acct-sel", UNLISTED)


def test_three_of_four_items_labelled_at_once_each_audited_as_alone(
    env: ReviewEnv, case: tuple[str, list[int]]
) -> None:
    case_id, items = case
    run(env, classify_item, items[1], None, ["viral"], actor=env.alice.actor)
    before = len(classification_changes(env))
    labelled = run(
        env,
        classify_selection,
        case_id,
        [items[2], items[0], items[1], items[2]],  # a repeated id counts once
        "B1",
        actor=env.alice.actor,
    )
    assert [item.id for item in labelled] == [items[2], items[0], items[1]]
    assert labels(env, items) == [("B1", []), ("B1", ["viral"]), ("B1", []), (None, [])]
    changes = classification_changes(env)[before:]
    assert [(r.details["item_id"], r.actor, r.subject_id) for r in changes] == [
        (items[2], env.alice.actor, case_id),
        (items[0], env.alice.actor, case_id),
        (items[1], env.alice.actor, case_id),
    ]
    assert changes[2].details == {
        "change": "classification",
        "item_id": items[1],
        "classification": "B1",
        "annotations": ["viral"],  # kept: the selection gives a classification only
    }
    # Labelled items are confirmed as any classified item is.
    result = run(
        env, decide, case_id, "confirm", item_id=items[0], reviewer=env.alice, settings=SETTINGS
    )
    assert result.feedback["classification"] == "B1"


def _refused(
    env: ReviewEnv,
    case_id: str,
    items: list[int],
    selection: object,
    classification: object,
    error: type[Exception],
    message: str,
) -> None:
    before = labels(env, items), len(classification_changes(env))
    with pytest.raises(error, match=message):
        run(env, classify_selection, case_id, selection, classification, actor=env.alice.actor)
    assert (labels(env, items), len(classification_changes(env))) == before


def test_refusals_name_the_fault_and_label_nothing(
    env: ReviewEnv, case: tuple[str, list[int]]
) -> None:
    case_id, items = case
    other_case, other_items = reported_case(env, "acct-other", (12,))
    for selection, classification, error, message in [
        ([], "A1", InvalidReviewInput, "select at least one item"),
        ([items[0]], None, InvalidReviewInput, "choose the classification"),
        ([items[0]], "", InvalidReviewInput, "choose the classification"),
        (items[:2], "Z9", InvalidReviewInput, "classification must be one of A1, A2, B1, B2"),
        (items[:2], "a1", InvalidReviewInput, "classification must be one of"),
        ([items[0], other_items[0]], "A1", InvalidReviewInput, rf"item {other_items[0]} is not"),
        ([items[0], 10**12, 10**12 + 1], "A1", InvalidReviewInput, "items .* are not in case"),
        ([items[0], True], "A1", InvalidReviewInput, "a list of item ids"),
        ([items[0], -1], "A1", InvalidReviewInput, "a list of item ids"),
        ([str(items[0])], "A1", InvalidReviewInput, "a list of item ids"),
        ("12", "A1", InvalidReviewInput, "a list of item ids"),
        (list(range(1, MAX_SELECTION + 2)), "A1", InvalidReviewInput, "at most 500"),
    ]:
        _refused(env, case_id, items, selection, classification, error, message)
    _refused(env, other_case, items, items[:1], "A1", InvalidReviewInput, "not in case")
    _refused(env, "0" * 32, items, items[:1], "A1", UnknownCase, "no such case")
    _refused(env, "x\x00", items, items[:1], "A1", UnknownCase, "no such case")


def test_a_selection_with_decided_items_is_refused_naming_them(
    env: ReviewEnv, case: tuple[str, list[int]]
) -> None:
    case_id, items = case
    run(env, classify_item, items[1], "A2", actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=items[1], reviewer=env.alice, settings=SETTINGS)
    run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=items[3],
        reason="a beach photo",
        reviewer=env.alice,
        settings=SETTINGS,
    )
    _refused(
        env,
        case_id,
        items,
        [items[0], items[1], items[2], items[3]],
        "B2",
        DecisionRefused,
        rf"items {items[1]} \(confirmed\), {items[3]} \(false_positive\) were already decided",
    )
    _refused(env, case_id, items, [items[1]], "B2", DecisionRefused, "was already decided")
    assert env.item(items[1]).status is ItemStatus.CONFIRMED


def test_the_single_classify_refuses_a_decided_item_too(
    env: ReviewEnv, case: tuple[str, list[int]]
) -> None:
    """The rule the selection reuses: a confirmed item's classification (which its decision
    recorded and its report carries) is not changed afterwards."""
    case_id, items = case
    run(env, classify_item, items[0], "A2", actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=items[0], reviewer=env.alice, settings=SETTINGS)
    with pytest.raises(DecisionRefused, match=rf"item {items[0]} \(confirmed\) was already"):
        run(env, classify_item, items[0], "B2", actor=env.alice.actor)
    assert env.item(items[0]).classification == "A2"


def test_a_closed_case_labels_nothing(env: ReviewEnv) -> None:
    case_id, items = reported_case(env, "acct-closed", (8,))
    run(env, classify_item, items[0], "A1", actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=items[0], reviewer=env.alice, settings=SETTINGS)
    assert env.case(case_id).status.value == "confirmed"
    _refused(env, case_id, items, items, "B1", DecisionRefused, "already decided")


def test_an_invalid_actor_is_refused(env: ReviewEnv, case: tuple[str, list[int]]) -> None:
    case_id, items = case
    with pytest.raises(InvalidReviewInput):
        run(env, classify_selection, case_id, items, "A1", actor="")
    assert labels(env, items) == [(None, [])] * len(items)
