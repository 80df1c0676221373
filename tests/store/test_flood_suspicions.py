"""A person's decision on a suspect entry, on SQLite and PostgreSQL: confirm (normal again,
its surge rate accepted) or quarantine (stops matching), each audited with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list
from vigil.core.settings import FloodGuardSettings
from vigil.store.audit import AuditRecord
from vigil.store.lists.activity import entry_events
from vigil.store.lists.change_feed import read_changes
from vigil.store.lists.errors import StatusChangeRefused, UnknownEntry
from vigil.store.lists.flood_guard import enforce_flood_guard
from vigil.store.lists.match_counts import record_matches
from vigil.store.lists.suspicions import (
    NotSuspect,
    confirm_suspect,
    open_suspicions,
    quarantine_suspect,
    suspect_entry_ids,
)
from vigil.store.models import EntryStatus, ListEntry, SuspicionState

NOW = datetime(2024, 5, 1, 13, 25, tzinfo=UTC)
SETTINGS = FloodGuardSettings(
    threshold=10.0, min_matches=50, baseline_hours=24, min_history_hours=0
)


def _suspect(session: Session, list_name: str = "bank", number: int = 1) -> ListEntry:
    entry = add_entry(session, add_list(session, list_name), number)
    record_matches(session, entry.id, NOW, 51)
    session.commit()
    assert [s.entry_id for s in enforce_flood_guard(session, SETTINGS, now=NOW)] == [entry.id]
    session.commit()
    return entry


def _audit(session: Session) -> list[AuditRecord]:
    return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def test_confirming_accepts_the_surge_rate(session: Session) -> None:
    entry = _suspect(session)
    record_matches(session, entry.id, NOW, 29)  # the surge went on: 80 in the hour
    suspicion = confirm_suspect(
        session, entry.id, actor="carol", reason="known series", list_name="bank"
    )
    session.commit()
    assert suspicion.state is SuspicionState.CONFIRMED and suspicion.accepted_rate == 80
    assert (suspicion.decided_by, suspicion.decision_reason) == ("carol", "known series")
    assert entry.status is EntryStatus.ACTIVE and open_suspicions(session) == []
    record = _audit(session)[-1]
    assert (
        record.actor,
        record.subject_id,
        record.details["change"],
        record.details["reason"],
    ) == ("carol", str(entry.id), "suspect_confirmed", "known series")
    # The same rate later is not a surge again; a higher one is.
    later = NOW + timedelta(hours=2)
    record_matches(session, entry.id, later, 80)
    session.commit()
    assert enforce_flood_guard(session, SETTINGS, now=later) == []
    record_matches(session, entry.id, later, 1)
    session.commit()
    assert [s.entry_id for s in enforce_flood_guard(session, SETTINGS, now=later)] == [entry.id]


def test_quarantining_stops_matching_with_the_audit_trail(session: Session) -> None:
    entry = _suspect(session)
    cursor = read_changes(session, after=0).next_seq
    change = quarantine_suspect(session, entry.id, actor="carol", reason="stock photo")
    session.commit()
    assert (change.old_status, change.new_status) == (EntryStatus.ACTIVE, EntryStatus.QUARANTINED)
    assert entry.status is EntryStatus.QUARANTINED
    assert suspect_entry_ids(session, [entry.id]) == set()
    [event] = entry_events(session, entry.id)
    assert (event.actor, event.reason) == ("carol", "stock photo")
    # The index learns it through the change feed.
    assert [c.entry_id for c in read_changes(session, after=cursor).entries] == [entry.id]
    changes = [r.details["change"] for r in _audit(session)]
    assert changes == ["suspect", "status", "suspect_quarantined"]


@pytest.mark.parametrize("decide", [confirm_suspect, quarantine_suspect])
def test_a_decision_needs_a_reason(session: Session, decide: object) -> None:
    entry = _suspect(session)
    with pytest.raises(StatusChangeRefused, match="reason"):
        decide(session, entry.id, actor="carol", reason="  ")  # type: ignore[operator]
    session.rollback()
    assert suspect_entry_ids(session, [entry.id]) == {entry.id}


@pytest.mark.parametrize("decide", [confirm_suspect, quarantine_suspect])
def test_only_suspect_entries_can_be_decided(session: Session, decide: object) -> None:
    entry = add_entry(session, add_list(session, "bank"), 1)
    with pytest.raises(NotSuspect, match="not suspect"):
        decide(session, entry.id, actor="carol", reason="x")  # type: ignore[operator]
    with pytest.raises(UnknownEntry):
        decide(
            session,
            entry.id,
            actor="carol",
            reason="x",  # type: ignore[operator]
            list_name="another-list",
        )


def test_a_decided_suspicion_cannot_be_decided_again(session: Session) -> None:
    entry = _suspect(session)
    confirm_suspect(session, entry.id, actor="carol", reason="known")
    session.commit()
    with pytest.raises(NotSuspect):
        quarantine_suspect(session, entry.id, actor="dave", reason="changed my mind")
    assert entry.status is EntryStatus.ACTIVE


def test_suspects_are_listed_per_list(session: Session) -> None:
    first = _suspect(session, "bank", 1)
    second = _suspect(session, "other", 2)
    assert [v.entry_id for v in open_suspicions(session)] == [first.id, second.id]
    [view] = open_suspicions(session, "other")
    assert (view.list_name, view.entry_id, view.entry_status, view.total_matches) == (
        "other",
        second.id,
        EntryStatus.ACTIVE,
        51,
    )
