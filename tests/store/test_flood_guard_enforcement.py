"""Making entries suspect whose matches surge, from the recorded hourly counts: they keep
matching (no status change, nothing on the change feed) until a person decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list
from vigil.core.settings import FloodGuardSettings
from vigil.lists.flood_guard import FloodGuardRule, judge_hour
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.lists.activity import entry_events
from vigil.store.lists.change_feed import read_changes
from vigil.store.lists.flood_guard import enforce_flood_guard, raise_suspicion
from vigil.store.lists.match_counts import record_matches
from vigil.store.lists.suspicions import open_suspicions, suspect_entry_ids
from vigil.store.models import EntryStatus, FloodSuspicion, ListEntry

NOW = datetime(2024, 5, 1, 13, 25, tzinfo=UTC)
SETTINGS = FloodGuardSettings(
    threshold=10.0, min_matches=50, baseline_hours=24, min_history_hours=0
)


def _matches(session: Session, entry_id: int, count: int, hours_ago: int = 0) -> None:
    record_matches(session, entry_id, NOW - timedelta(hours=hours_ago), count)


def test_a_surging_entry_becomes_suspect_and_keeps_matching(session: Session) -> None:
    hash_list = add_list(session, "bank")
    surging, quiet = add_entry(session, hash_list, 1), add_entry(session, hash_list, 2)
    _matches(session, surging.id, 51)
    _matches(session, quiet.id, 50)
    session.commit()
    cursor = read_changes(session, after=0).next_seq

    [flagged] = enforce_flood_guard(session, SETTINGS, now=NOW)
    session.commit()
    assert (flagged.entry_id, flagged.list_name, flagged.signal) == (
        surging.id,
        "bank",
        surging.signal,
    )
    assert flagged.verdict.matches == 51 and flagged.verdict.limit == 50
    # Still active: the match index keeps it, and nothing reached the change feed.
    assert surging.status is EntryStatus.ACTIVE and quiet.status is EntryStatus.ACTIVE
    assert entry_events(session, surging.id) == []
    assert read_changes(session, after=cursor).entries == []
    assert suspect_entry_ids(session, [surging.id, quiet.id]) == {surging.id}
    [view] = open_suspicions(session, "bank")
    assert (view.entry_id, view.matches, view.explanation) == (
        surging.id,
        51,
        flagged.verdict.explanation,
    )
    assert "51 matches" in view.explanation


def test_a_suspect_is_raised_once(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    _matches(session, entry.id, 60)
    session.commit()
    assert len(enforce_flood_guard(session, SETTINGS, now=NOW)) == 1
    _matches(session, entry.id, 40)
    session.commit()
    assert enforce_flood_guard(session, SETTINGS, now=NOW) == []
    assert len(session.scalars(select(FloodSuspicion)).all()) == 1


def test_a_new_install_judges_nothing_until_it_has_history(session: Session) -> None:
    # Live matches were first counted 23 hours ago: 500 this hour is not judged yet.
    settings = SETTINGS.model_copy(update={"min_history_hours": 24})
    entry = add_entry(session, add_list(session), 1)
    _matches(session, entry.id, 1, hours_ago=23)
    _matches(session, entry.id, 500)
    session.commit()
    assert enforce_flood_guard(session, settings, now=NOW) == []
    assert suspect_entry_ids(session, [entry.id]) == set()
    later = NOW + timedelta(hours=1)
    record_matches(session, entry.id, later, 500)
    session.commit()
    assert [s.entry_id for s in enforce_flood_guard(session, settings, now=later)] == [entry.id]


def test_history_of_any_entry_counts_for_a_new_entry(session: Session) -> None:
    # The install has watched for a day; a freshly listed entry that floods at once is
    # exactly the poisoned hash the guard is for.
    settings = SETTINGS.model_copy(update={"min_history_hours": 24})
    hash_list = add_list(session)
    old, new = add_entry(session, hash_list, 1), add_entry(session, hash_list, 2)
    _matches(session, old.id, 1, hours_ago=30)
    _matches(session, new.id, 51)
    session.commit()
    assert [s.entry_id for s in enforce_flood_guard(session, settings, now=NOW)] == [new.id]


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
    assert suspect_entry_ids(session, [first.id, second.id]) == {second.id}


def test_a_disabled_guard_does_nothing(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    _matches(session, entry.id, 10_000)
    session.commit()
    off = FloodGuardSettings(enabled=False, min_history_hours=0)
    assert enforce_flood_guard(session, off, now=NOW) == []
    assert suspect_entry_ids(session, [entry.id]) == set()


def test_two_guards_racing_open_one_suspicion(database: Database) -> None:
    # Two screeners judge the same surge: the second insert meets the open suspicion (one
    # per entry) and does nothing, instead of failing the upload it was screening.
    with database.transaction(write=True) as session:
        entry_id = add_entry(session, add_list(session), 1).id
    verdict = judge_hour(NOW, 60, [], FloodGuardRule(min_history_hours=0))
    opened = []
    for _ in range(2):
        with database.transaction(write=True) as session:
            entry = session.get_one(ListEntry, entry_id)
            opened.append(raise_suspicion(session, entry, NOW, verdict, "flood-guard"))
    assert opened == [True, False]
    with database.transaction() as session:
        assert len(session.scalars(select(FloodSuspicion)).all()) == 1
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 1
