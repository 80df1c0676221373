"""The review queue: priority order, oldest first, filters, assignment and case age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.review.review_env import ReviewEnv, add_user, review_env
from vigil.core.settings import ReviewSettings
from vigil.review.decisions import decide
from vigil.review.errors import InvalidReviewInput, UnknownCase, UnknownReviewer
from vigil.review.queue import (
    assign,
    case_age,
    case_summary,
    count_cases,
    queue,
    unassign,
)
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.models import Case, CasePriority, CaseStatus, RecordSource, User, utcnow

UNLISTED = 8


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


def flagged(env: ReviewEnv, account: str, source: RecordSource, image: int = UNLISTED) -> str:
    outcome = env.service().flag(
        Submission(f"c-{account}", account, UploadContext()),
        source=source,
        submitted_by="key:test0001",
        content=env.images[image].read_bytes(),
    )
    return env.case_of(outcome.record_id)[0]


def age_case(env: ReviewEnv, public_id: str, hours: float) -> None:
    with env.database.transaction(write=True) as session:
        session.execute(
            update(Case)
            .where(Case.public_id == public_id)
            .values(opened_at=utcnow() - timedelta(hours=hours))
        )


@pytest.fixture
def three(env: ReviewEnv) -> dict[str, str]:
    """A known case (oldest), a likely-new one and an urgent one (newest)."""
    known = env.case_of(env.upload(0, "known-1").record_id)[0]
    new = flagged(env, "new-1", RecordSource.USER_REPORT)
    urgent = flagged(env, "urgent-1", RecordSource.ESCALATION)
    for public_id, hours in ((known, 30), (new, 20), (urgent, 1)):
        age_case(env, public_id, hours)
    return {"known": known, "new": new, "urgent": urgent}


def ids(env: ReviewEnv, **filters: object) -> list[str]:
    with env.database.transaction() as session:
        return [s.public_id for s in queue(session, **filters)]  # type: ignore[arg-type]


def test_priority_first_then_oldest(env: ReviewEnv, three: dict[str, str]) -> None:
    assert ids(env) == [three["urgent"], three["new"], three["known"]]
    older_new = flagged(env, "new-2", RecordSource.USER_REPORT)
    age_case(env, older_new, 25)
    assert ids(env) == [three["urgent"], older_new, three["new"], three["known"]]


def test_summaries_carry_what_the_queue_shows(env: ReviewEnv, three: dict[str, str]) -> None:
    env.upload(0, "known-1", content="second")
    now = utcnow()
    with env.database.transaction() as session:
        summaries = {s.public_id: s for s in queue(session, now=now)}
    known = summaries[three["known"]]
    assert (known.account_id, known.priority, known.item_count, known.pending_count) == (
        "known-1",
        CasePriority.KNOWN,
        2,
        2,
    )
    assert timedelta(hours=29, minutes=59) < known.age < timedelta(hours=30, minutes=1)
    urgent = summaries[three["urgent"]]
    assert urgent.priority == CasePriority.URGENT and urgent.escalated
    assert summaries[three["new"]].priority == CasePriority.LIKELY_NEW
    assert all(s.assigned_to is None for s in summaries.values())


def test_filters(env: ReviewEnv, three: dict[str, str]) -> None:
    assert ids(env, priority=CasePriority.LIKELY_NEW) == [three["new"]]
    assert ids(env, account="urgent") == [three["urgent"]]
    assert ids(env, account="nobody") == []
    assert ids(env, account="%") == [] and ids(env, account="_") == []  # literal, not wildcards
    assert ids(env, limit=1, offset=1) == [three["new"]]
    assert ids(env, status=CaseStatus.CONFIRMED) == []
    with env.database.transaction() as session:
        assert count_cases(session) == 3
        assert count_cases(session, priority=CasePriority.URGENT) == 1


def test_assignment(env: ReviewEnv, three: dict[str, str]) -> None:
    with env.database.transaction(write=True) as session:
        assign(session, three["new"], env.alice.id, actor=env.bob.actor)
    assert ids(env, assigned_to=env.alice.id) == [three["new"]]
    assert ids(env, assigned_to=None) == [three["urgent"], three["known"]]
    assert len(ids(env, assigned_to="any")) == 3
    with env.database.transaction() as session:
        assert case_summary(session, three["new"]).assigned_to == "alice"
    with env.database.transaction(write=True) as session:
        unassign(session, three["new"], actor=env.alice.actor)
    assert ids(env, assigned_to=env.alice.id) == []


def test_assigning_to_an_unknown_or_disabled_user_is_refused(
    env: ReviewEnv, three: dict[str, str]
) -> None:
    carol = add_user(env.database, "carol")
    with env.database.transaction(write=True) as session:
        session.execute(update(User).where(User.id == carol.id).values(disabled_at=utcnow()))
    for user_id in (9999, carol.id):
        with pytest.raises(UnknownReviewer), env.database.transaction(write=True) as session:
            assign(session, three["new"], user_id, actor=env.alice.actor)
    with pytest.raises(UnknownCase), env.database.transaction(write=True) as session:
        assign(session, "nope", env.alice.id, actor=env.alice.actor)


def test_closed_cases_leave_the_open_queue(env: ReviewEnv, three: dict[str, str]) -> None:
    with env.database.transaction() as session:
        [item] = [i.id for i in session.query(Case).filter_by(public_id=three["known"]).one().items]
    with env.database.transaction(write=True) as session:
        decide(
            session,
            three["known"],
            "confirm",
            item_id=item,
            reviewer=env.alice,
            settings=ReviewSettings(),
        )
    assert three["known"] not in ids(env)
    assert ids(env, status=CaseStatus.CONFIRMED) == [three["known"]]
    assert set(ids(env, status=None)) == set(three.values())
    with env.database.transaction() as session:
        closed = case_summary(session, three["known"])
        assert closed.pending_count == 0
        frozen = case_age(
            session.query(Case).filter_by(public_id=three["known"]).one(),
            utcnow() + timedelta(days=5),
        )
    assert frozen < timedelta(hours=31)  # a closed case's age stops at closing


@pytest.mark.parametrize(
    "filters",
    [
        {"priority": 3},
        {"priority": -1},
        {"status": "closed"},
        {"assigned_to": "alice"},
        {"assigned_to": True},
    ],
)
def test_invalid_filters_are_refused(env: ReviewEnv, filters: dict[str, object]) -> None:
    with pytest.raises(InvalidReviewInput):
        ids(env, **filters)


def test_page_size_is_bounded(env: ReviewEnv, three: dict[str, str]) -> None:
    assert len(ids(env, limit=10_000)) == 3
    assert len(ids(env, limit=0)) == 1  # at least one
    assert ids(env, offset=-5) == ids(env)
