"""Hourly match counts for the flood guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list
from vigil.store.lists.match_counts import (
    bucket_start,
    match_history,
    prune_match_stats,
    record_matches,
)

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_bucket_start_is_the_utc_hour() -> None:
    local = datetime(2024, 5, 1, 14, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    assert bucket_start(local) == NOON
    with pytest.raises(ValueError, match="aware"):
        bucket_start(datetime(2024, 5, 1, 12))


def test_matches_add_up_per_hour_and_in_total(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    session.commit()
    record_matches(session, entry.id, NOON + timedelta(minutes=5))
    record_matches(session, entry.id, NOON + timedelta(minutes=50), count=2)
    record_matches(session, entry.id, NOON + timedelta(hours=1, minutes=1), count=4)
    session.commit()
    session.refresh(entry)

    assert entry.match_count == 7
    assert match_history(session, entry.id, since=NOON) == [
        (NOON, 3),
        (NOON + timedelta(hours=1), 4),
    ]
    assert match_history(session, entry.id, since=NOON, until=NOON + timedelta(hours=1)) == [
        (NOON, 3)
    ]


def test_old_buckets_can_be_pruned(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    record_matches(session, entry.id, NOON - timedelta(days=30))
    record_matches(session, entry.id, NOON)
    assert prune_match_stats(session, before=NOON - timedelta(days=7)) == 1
    assert match_history(session, entry.id, since=NOON - timedelta(days=60)) == [(NOON, 1)]


def test_counts_must_be_positive(session: Session) -> None:
    with pytest.raises(ValueError, match="positive"):
        record_matches(session, 1, NOON, count=0)
