"""Quarantining entries whose matches surge, from the recorded hourly counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list
from vigil.store.change_feed import read_changes
from vigil.store.config import FloodGuardSettings
from vigil.store.flood_guard_enforcement import FLOOD_GUARD_ACTOR, enforce_flood_guard
from vigil.store.list_activity import entry_events
from vigil.store.match_stats import record_matches
from vigil.store.models import EntryStatus

NOW = datetime(2024, 5, 1, 13, 25, tzinfo=UTC)
SETTINGS = FloodGuardSettings(threshold=10.0, min_matches=50, baseline_hours=24)


def _matches(session: Session, entry_id: int, count: int, hours_ago: int = 0) -> None:
    record_matches(session, entry_id, NOW - timedelta(hours=hours_ago), count)


def test_a_surging_entry_is_quarantined_with_the_reason(session: Session) -> None:
    hash_list = add_list(session, "bank")
    surging, quiet = add_entry(session, hash_list, 1), add_entry(session, hash_list, 2)
    _matches(session, surging.id, 51)
    _matches(session, quiet.id, 50)
    session.commit()
    cursor = read_changes(session, after=0).next_seq

    [flagged] = enforce_flood_guard(session, SETTINGS, now=NOW)
    session.commit()
    assert (flagged.entry_id, flagged.list_name, flagged.signal) == (
        surging.id, "bank", surging.signal)
    assert flagged.verdict.matches == 51 and flagged.verdict.limit == 50
    assert surging.status is EntryStatus.QUARANTINED and quiet.status is EntryStatus.ACTIVE
    [event] = entry_events(session, surging.id)
    assert event.actor == FLOOD_GUARD_ACTOR and event.reason == flagged.verdict.explanation
    assert "51 matches" in (event.reason or "")
    assert [c.entry_id for c in read_changes(session, after=cursor).entries] == [surging.id]


def test_a_busy_entry_at_its_usual_rate_is_left_alone(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    for hours_ago in range(1, 25):
        _matches(session, entry.id, 40, hours_ago)
    _matches(session, entry.id, 400)  # the limit is 10 x 40
    session.commit()
    assert enforce_flood_guard(session, SETTINGS, now=NOW) == []
    _matches(session, entry.id, 1)
    session.commit()
    assert [q.entry_id for q in enforce_flood_guard(session, SETTINGS, now=NOW)] == [entry.id]


def test_only_active_block_list_entries_are_judged(session: Session) -> None:
    allow = add_list(session, "allow", is_allow_list=True)
    bank = add_list(session, "bank")
    allowed = add_entry(session, allow, 1)
    disabled = add_entry(session, bank, 2)
    disabled.set_status(EntryStatus.DISABLED, actor="t", reason="fp")
    for entry in (allowed, disabled):
        _matches(session, entry.id, 500)
    session.commit()
    assert enforce_flood_guard(session, SETTINGS, now=NOW) == []
    assert allowed.status is EntryStatus.ACTIVE


def test_last_hour_surges_are_not_judged_as_this_hour(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    _matches(session, entry.id, 500, hours_ago=1)
    session.commit()
    assert enforce_flood_guard(session, SETTINGS, now=NOW) == []


def test_entry_ids_narrow_the_check(session: Session) -> None:
    hash_list = add_list(session)
    first, second = add_entry(session, hash_list, 1), add_entry(session, hash_list, 2)
    for entry in (first, second):
        _matches(session, entry.id, 100)
    session.commit()
    flagged = enforce_flood_guard(session, SETTINGS, now=NOW, entry_ids=[second.id])
    assert [q.entry_id for q in flagged] == [second.id]
    assert first.status is EntryStatus.ACTIVE


def test_a_disabled_guard_does_nothing(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    _matches(session, entry.id, 10_000)
    session.commit()
    off = FloodGuardSettings(enabled=False)
    assert enforce_flood_guard(session, off, now=NOW) == []
    assert entry.status is EntryStatus.ACTIVE
