"""Exposure care: reveals and media time counted per reviewer, the daily limit, break
reminders, and the aggregate administrators see (counts only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.review.review_env import ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.review.errors import InvalidReviewInput, UnknownItem
from vigil.review.exposure import (
    MAX_MEDIA_REPORT,
    ReviewerExposure,
    aggregate_exposure,
    exposure_today,
    record_media_time,
    record_reveal,
)
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, ExposureEvent

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


@pytest.fixture
def item_id(env: ReviewEnv) -> int:
    return env.case_of(env.upload(0, "acct-1").record_id)[1]


def reveal(env: ReviewEnv, user_id: int, item: int, at: datetime, actor: str | None = None) -> int:
    with env.database.transaction(write=True) as session:
        return record_reveal(session, user_id, item, now=at, actor=actor)


def media(env: ReviewEnv, user_id: int, seconds: object, at: datetime) -> float:
    with env.database.transaction(write=True) as session:
        return record_media_time(session, user_id, seconds, now=at)  # type: ignore[arg-type]


def today(env: ReviewEnv, user_id: int, at: datetime, **settings: int):  # type: ignore[no-untyped-def]
    with env.database.transaction() as session:
        return exposure_today(session, user_id, now=at, settings=ReviewSettings(**settings))


def test_a_reveal_is_counted_on_the_item_and_the_reviewer(env: ReviewEnv, item_id: int) -> None:
    assert reveal(env, env.alice.id, item_id, NOON) == 1
    assert reveal(env, env.bob.id, item_id, NOON, actor=env.bob.actor) == 2
    assert env.item(item_id).reveals == 2
    assert today(env, env.alice.id, NOON).reveals == 1
    with env.database.transaction() as session:
        [audit] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.MEDIA_VIEWED)
        ).all()
    assert (audit.actor, audit.subject_type, audit.subject_id) == (
        "user:bob",
        "review_item",
        str(item_id),
    )


def test_revealing_an_unknown_item_is_refused(env: ReviewEnv) -> None:
    for bad in (0, -1, 999_999):
        with pytest.raises(UnknownItem), env.database.transaction(write=True) as session:
            record_reveal(session, env.alice.id, bad)


@pytest.mark.parametrize(
    ("seconds", "counted"),
    [
        (42.5, 42.5),
        (-3, 0.0),
        (0, 0.0),
        (float("nan"), 0.0),
        (float("inf"), 0.0),
        (True, 0.0),
        ("60", 0.0),
        (None, 0.0),
        (10_000, MAX_MEDIA_REPORT),
    ],
)
def test_media_time_reports_are_bounded(env: ReviewEnv, seconds: object, counted: float) -> None:
    assert media(env, env.alice.id, seconds, NOON) == counted
    assert today(env, env.alice.id, NOON).media_seconds == counted
    with env.database.transaction() as session:
        stored = session.scalars(select(ExposureEvent)).all()
    assert len(stored) == (1 if counted else 0)


def test_the_daily_reveal_limit_warns(env: ReviewEnv, item_id: int) -> None:
    reveal(env, env.alice.id, item_id, NOON - timedelta(days=1))  # yesterday: not counted
    reveal(env, env.alice.id, item_id, NOON - timedelta(hours=2))
    below = today(env, env.alice.id, NOON, daily_reveal_limit=2)
    assert (below.reveals, below.over_limit, below.warning) == (1, False, None)
    reveal(env, env.alice.id, item_id, NOON - timedelta(hours=1))
    reached = today(env, env.alice.id, NOON, daily_reveal_limit=2)
    assert reached.over_limit and reached.warning and "limit is 2" in reached.warning
    assert not today(env, env.bob.id, NOON, daily_reveal_limit=2).over_limit


def test_a_break_is_due_after_a_long_stretch_on_media(env: ReviewEnv) -> None:
    start = NOON - timedelta(minutes=60)
    for minute in range(0, 50, 5):  # ten reports of five minutes, back to back
        media(env, env.alice.id, 300, start + timedelta(minutes=minute))
    at = start + timedelta(minutes=50)
    due = today(env, env.alice.id, at, break_minutes=50)
    assert due.break_due and due.media_seconds == 3000
    assert due.warning and "break" in due.warning
    assert not today(env, env.alice.id, at, break_minutes=55).break_due
    rested = today(env, env.alice.id, at + timedelta(minutes=15), break_minutes=50)
    assert not rested.break_due  # a pause of ten minutes or more is a break
    media(env, env.alice.id, 300, at + timedelta(minutes=15))
    assert not today(env, env.alice.id, at + timedelta(minutes=16), break_minutes=50).break_due


def test_administrators_see_counts_and_minutes_only(env: ReviewEnv, item_id: int) -> None:
    reveal(env, env.alice.id, item_id, NOON)
    reveal(env, env.alice.id, item_id, NOON - timedelta(days=1))
    reveal(env, env.bob.id, item_id, NOON)
    media(env, env.bob.id, 240, NOON)
    media(env, env.alice.id, 60, NOON - timedelta(days=30))  # outside the window
    with env.database.transaction() as session:
        rows = aggregate_exposure(session, days=7, now=NOON + timedelta(hours=1))
    assert rows == [ReviewerExposure("alice", 2, 0.0, 2), ReviewerExposure("bob", 1, 4.0, 1)]
    assert {f.name for f in fields(ReviewerExposure)} == {
        "username",
        "reveals",
        "media_minutes",
        "days_active",
    }


@pytest.mark.parametrize("days", [0, -1, 367, True, 7.5])
def test_aggregate_window_is_bounded(env: ReviewEnv, days: object) -> None:
    with pytest.raises(InvalidReviewInput), env.database.transaction() as session:
        aggregate_exposure(session, days=days)  # type: ignore[arg-type]
