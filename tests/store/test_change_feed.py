"""The change feed: every index-relevant change gets a new number, in commit order."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list, fake_hex
from vigil.store import Database
from vigil.store.lists.change_feed import (
    EntryChange,
    allocate_change_seqs,
    last_committed_seq,
    read_changes,
)
from vigil.store.lists.match_counts import record_matches
from vigil.store.models import (
    EntryFrame,
    EntryStatus,
    HashList,
    ListEntry,
    SignalType,
    frame_set_signal,
)


def test_inserts_get_increasing_numbers_and_are_read_once(session: Session) -> None:
    hash_list = add_list(session)
    entries = [add_entry(session, hash_list, n) for n in range(3)]
    session.commit()
    seqs = [hash_list.change_seq] + [entry.change_seq for entry in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4

    batch = read_changes(session, after=0)
    assert [change.list_id for change in batch.lists] == [hash_list.id]
    assert [change.entry_id for change in batch.entries] == [entry.id for entry in entries]
    assert batch.complete and batch.next_seq == last_committed_seq(session) == max(seqs)
    assert read_changes(session, after=batch.next_seq).entries == []


def test_status_change_moves_the_entry_to_the_head_of_the_feed(session: Session) -> None:
    hash_list = add_list(session)
    first, second = add_entry(session, hash_list, 1), add_entry(session, hash_list, 2)
    session.commit()
    cursor = read_changes(session, after=0).next_seq

    first.set_status(EntryStatus.QUARANTINED, actor="flood-guard", reason="surge")
    session.commit()
    batch = read_changes(session, after=cursor)
    assert batch.entries == [
        EntryChange(
            first.change_seq,
            first.id,
            hash_list.id,
            SignalType.MD5,
            first.signal,
            EntryStatus.QUARANTINED,
        )
    ]
    assert first.change_seq > second.change_seq


def test_changes_the_index_ignores_do_not_enter_the_feed(session: Session) -> None:
    hash_list = add_list(session)
    entry = add_entry(session, hash_list, 1)
    session.commit()
    before = last_committed_seq(session)

    entry.note = "reviewed"
    hash_list.description = "renamed bank"
    record_matches(session, entry.id, datetime.now(UTC))
    session.commit()
    assert last_committed_seq(session) == before


def test_list_settings_changes_enter_the_feed(session: Session) -> None:
    hash_list = add_list(session)
    session.commit()
    cursor = read_changes(session, after=0).next_seq
    hash_list.enabled = False
    hash_list.pdq_distance = 20
    session.commit()
    (change,) = read_changes(session, after=cursor).lists
    assert (change.enabled, change.pdq_distance, change.seq) == (False, 20, hash_list.change_seq)


def test_moving_an_entry_to_another_list_enters_the_feed(session: Session) -> None:
    entry = add_entry(session, add_list(session, "one"), 1)
    other = add_list(session, "two")
    session.commit()
    cursor = read_changes(session, after=0).next_seq
    entry.hash_list = other
    session.commit()
    (change,) = read_changes(session, after=cursor).entries
    assert change.list_id == other.id


def test_batches_resume_where_they_stopped(session: Session) -> None:
    hash_list = add_list(session)
    ids = [add_entry(session, hash_list, n).id for n in range(5)]
    session.commit()
    seen, cursor, complete = [], 0, False
    while not complete:
        batch = read_changes(session, after=cursor, limit=2)
        seen += [change.entry_id for change in batch.entries]
        cursor, complete = batch.next_seq, batch.complete
    assert seen == ids


def test_video_entries_carry_their_frames(session: Session) -> None:
    pdqs = [fake_hex(n) for n in (5, 6)]
    session.add(
        ListEntry(
            hash_list=add_list(session),
            signal_type=SignalType.VIDEO_PDQ,
            signal=frame_set_signal(pdqs),
            frames=[EntryFrame(position=i, pdq=p, quality=80) for i, p in enumerate(pdqs)],
        )
    )
    session.commit()
    (change,) = read_changes(session, after=0).entries
    assert [(frame.pdq, frame.quality) for frame in change.frames] == [(p, 80) for p in pdqs]


def test_core_bulk_inserts_allocate_numbers_themselves(session: Session) -> None:
    hash_list = add_list(session)
    seqs = allocate_change_seqs(session, 3)
    session.execute(
        insert(ListEntry),
        [
            {
                "list_id": hash_list.id,
                "signal_type": SignalType.SHA256,
                "signal": fake_hex(n),
                "change_seq": seq,
            }
            for n, seq in enumerate(seqs)
        ],
    )
    session.commit()
    assert [change.seq for change in read_changes(session, after=0).entries] == list(seqs)


def test_rolled_back_numbers_are_never_seen(database: Database) -> None:
    with database.session(write=True) as session:
        add_entry(session, add_list(session), 1)
        session.rollback()
    with database.transaction() as session:
        assert last_committed_seq(session) == 0
        assert read_changes(session, after=0).entries == []


def test_numbers_are_handed_out_in_commit_order(database: Database) -> None:
    """A later transaction cannot take a number until the earlier one has committed, so a
    reader that saw number N can never meet a number below N afterwards."""
    with database.transaction(write=True) as session:
        add_list(session)
    first = database.session(write=True)
    hash_list = first.scalars(select(HashList)).one()
    early = add_entry(first, hash_list, 1)  # flushed: number taken, not committed

    second_done = threading.Event()
    second_seq: list[int] = []

    def second_writer() -> None:
        with database.transaction(write=True) as session:
            late_list = session.scalars(select(HashList)).one()
            second_seq.append(add_entry(session, late_list, 2).change_seq)
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.3)
    assert not second_done.is_set(), "second writer got a number while the first was open"
    with database.transaction() as reader:
        assert read_changes(reader, after=1).entries == []  # nothing committed yet
    first.commit()
    thread.join(timeout=10)
    first.close()

    assert second_done.is_set() and second_seq[0] > early.change_seq
    with database.transaction() as reader:
        seen = [change.seq for change in read_changes(reader, after=1).entries]
    assert seen == [early.change_seq, second_seq[0]]
