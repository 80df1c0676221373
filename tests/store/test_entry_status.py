"""Switching single entries off and on, always with who and why in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list, fake_hex
from vigil.store.lists.activity import entry_events, recent_events
from vigil.store.lists.change_feed import read_changes
from vigil.store.lists.entry_status import (
    disable_entry,
    enable_entry,
    quarantine_entry,
    resolve_entry_id,
)
from vigil.store.lists.errors import StatusChangeRefused, UnknownEntry
from vigil.store.models import EntryEvent, EntryStatus, ListEntry, SignalType


def test_disable_and_enable_are_audited_and_reach_the_index(session: Session) -> None:
    entry = add_entry(session, add_list(session, "bank"), 1)
    session.commit()
    cursor = read_changes(session, after=0).next_seq

    change = disable_entry(
        session, entry.id, actor="alice", reason=" false positives ", list_name="bank"
    )
    session.commit()
    assert change.changed and change.old_status is EntryStatus.ACTIVE
    assert (entry.status, entry.status_reason, entry.status_by) == (
        EntryStatus.DISABLED,
        "false positives",
        "alice",
    )
    [feed] = read_changes(session, after=cursor).entries
    assert feed.entry_id == entry.id and feed.status is EntryStatus.DISABLED

    enable_entry(session, entry.id, actor="bob", list_name="bank")
    session.commit()
    events = entry_events(session, entry.id)
    assert [(e.old_status, e.new_status, e.actor, e.reason) for e in events] == [
        (EntryStatus.ACTIVE, EntryStatus.DISABLED, "alice", "false positives"),
        (EntryStatus.DISABLED, EntryStatus.ACTIVE, "bob", None),
    ]
    assert [e.event_id for e in recent_events(session, entry.list_id)] == [
        events[1].event_id,
        events[0].event_id,
    ]


def test_quarantine_then_release(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    quarantine_entry(session, entry.id, actor="reviewer", reason="suspicious import")
    assert entry.status is EntryStatus.QUARANTINED
    enable_entry(session, entry.id, actor="reviewer", reason="checked")
    assert entry.status is EntryStatus.ACTIVE


def test_repeating_a_change_writes_no_event(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    disable_entry(session, entry.id, actor="alice", reason="fp")
    change = disable_entry(session, entry.id, actor="alice", reason="fp again")
    session.commit()
    assert not change.changed
    assert session.scalar(select(func.count()).select_from(EntryEvent)) == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_switching_off_needs_a_reason(session: Session, reason: str) -> None:
    entry = add_entry(session, add_list(session), 1)
    with pytest.raises(StatusChangeRefused, match="give a reason"):
        disable_entry(session, entry.id, actor="alice", reason=reason)
    with pytest.raises(StatusChangeRefused, match="give a reason"):
        quarantine_entry(session, entry.id, actor="alice", reason=reason)
    assert entry.status is EntryStatus.ACTIVE


def test_an_actor_is_required(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    with pytest.raises(StatusChangeRefused, match="actor"):
        disable_entry(session, entry.id, actor=" ", reason="fp")


def test_an_entry_deleted_by_its_source_stays_deleted(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    entry.set_status(EntryStatus.DELETED, actor="import:bank.csv", reason="withdrawn")
    session.commit()
    with pytest.raises(StatusChangeRefused, match="deleted by its source"):
        enable_entry(session, entry.id, actor="alice")
    with pytest.raises(StatusChangeRefused, match="deleted by its source"):
        disable_entry(session, entry.id, actor="alice", reason="fp")
    assert session.get_one(ListEntry, entry.id).status is EntryStatus.DELETED


def test_the_entry_must_belong_to_the_named_list(session: Session) -> None:
    entry = add_entry(session, add_list(session, "bank"), 1)
    add_list(session, "other")
    with pytest.raises(UnknownEntry, match=r"no entry \d+ in list 'other'"):
        disable_entry(session, entry.id, actor="alice", reason="fp", list_name="other")
    with pytest.raises(UnknownEntry, match="no entry 999"):
        enable_entry(session, 999, actor="alice")
    assert entry.status is EntryStatus.ACTIVE


def test_entries_are_found_by_id_or_by_hash(session: Session) -> None:
    hash_list = add_list(session, "bank")
    md5 = add_entry(session, hash_list, 1)
    sha256 = add_entry(session, hash_list, 7, SignalType.SHA256)
    add_entry(session, hash_list, 7, SignalType.PDQ)  # the same 64 hex digits
    assert resolve_entry_id(session, "bank", str(md5.id)) == md5.id
    assert resolve_entry_id(session, "bank", f" {md5.signal.upper()} ") == md5.id
    with pytest.raises(UnknownEntry, match="several entries"):
        resolve_entry_id(session, "bank", sha256.signal)
    with pytest.raises(UnknownEntry, match="no entry with hash"):
        resolve_entry_id(session, "bank", fake_hex(99, 32))
