"""Tables: defaults, idempotent re-import, signal validation, video frames, audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list, fake_hex
from vigil.store import AppendOnlyViolation, Database, InvalidSignal
from vigil.store.models import (
    EntryEvent,
    EntryFrame,
    EntryStatus,
    ImportJob,
    ImportStatus,
    ListEntry,
    ScanItem,
    ScanItemStatus,
    ScanRun,
    SignalType,
    frame_set_signal,
)


def test_new_list_gets_the_documented_defaults(session: Session) -> None:
    hash_list = add_list(session)
    assert (hash_list.enabled, hash_list.pdq_distance, hash_list.min_quality) == (True, 31, 50)
    assert hash_list.is_allow_list is False
    assert hash_list.source_config == {}
    assert hash_list.created_at.tzinfo is not None


def test_entry_defaults(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    assert entry.status is EntryStatus.ACTIVE
    assert entry.match_count == 0
    assert entry.victim_identified is None


def test_same_hash_twice_in_a_list_is_rejected(session: Session) -> None:
    hash_list = add_list(session)
    add_entry(session, hash_list, 7, external_id="a")
    with pytest.raises(IntegrityError):
        add_entry(session, hash_list, 7, external_id="b")


def test_same_hash_in_two_lists_is_fine(session: Session) -> None:
    add_entry(session, add_list(session, "one"), 7)
    add_entry(session, add_list(session, "two"), 7)
    assert len(session.scalars(select(ListEntry)).all()) == 2


@pytest.mark.parametrize(
    ("signal_type", "signal"),
    [
        (SignalType.MD5, "abc"),  # too short
        (SignalType.SHA1, "z" * 40),  # not hex
        (SignalType.PDQ, "0" * 63),
        ("sha512", "0" * 128),  # unknown type
    ],
)
def test_bad_signals_are_refused_before_the_database(signal_type: str, signal: str) -> None:
    with pytest.raises((InvalidSignal, ValueError)):
        ListEntry(signal_type=signal_type, signal=signal)


def test_signals_are_stored_lower_case(session: Session) -> None:
    entry = ListEntry(
        hash_list=add_list(session), signal=fake_hex(255, 32).upper(), signal_type="md5"
    )
    assert entry.signal == fake_hex(255, 32)
    assert entry.signal_type is SignalType.MD5


def test_video_entry_keeps_its_frames_in_order(session: Session) -> None:
    pdqs = [fake_hex(n) for n in (3, 1, 2)]
    entry = ListEntry(
        hash_list=add_list(session),
        signal_type=SignalType.VIDEO_PDQ,
        signal=frame_set_signal(pdqs),
        frames=[
            EntryFrame(position=i, pdq=p, quality=90, time_offset=float(i))
            for i, p in enumerate(pdqs)
        ],
    )
    session.add(entry)
    session.commit()
    session.expire_all()
    assert [frame.pdq for frame in session.get_one(ListEntry, entry.id).frames] == pdqs
    assert frame_set_signal(pdqs) != frame_set_signal(sorted(pdqs))


def test_set_status_writes_the_audit_trail(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    event = entry.set_status(EntryStatus.DELETED, actor="import:3", reason="gone from source")
    assert event is not None
    assert entry.set_status(EntryStatus.DELETED, actor="import:3") is None  # no-op
    session.commit()
    events = session.scalars(select(EntryEvent)).all()
    assert events == [event]
    assert (event.old_status, event.new_status, event.actor) == (
        EntryStatus.ACTIVE,
        EntryStatus.DELETED,
        "import:3",
    )
    assert (entry.status, entry.status_by, entry.status_reason) == (
        EntryStatus.DELETED,
        "import:3",
        "gone from source",
    )


def test_the_orm_refuses_to_rewrite_history(session: Session) -> None:
    entry = add_entry(session, add_list(session), 1)
    event = entry.set_status(EntryStatus.DISABLED, actor="alice")
    session.commit()
    assert event is not None
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(entry)
    with pytest.raises(AppendOnlyViolation, match="never deleted"):
        session.flush()


@pytest.mark.parametrize(
    "statement",
    [delete(EntryEvent), update(EntryEvent).values(actor="mallory"), delete(ListEntry)],
    ids=["delete-events", "update-events", "delete-entries"],
)
def test_the_database_refuses_to_rewrite_history(database: Database, statement: object) -> None:
    with database.transaction(write=True) as session:
        entry = add_entry(session, add_list(session), 1)
        entry.set_status(EntryStatus.DISABLED, actor="alice")
    with pytest.raises(DBAPIError, match="append-only"), database.transaction(write=True) as s:
        s.execute(statement)  # type: ignore[call-overload]


def test_scan_items_are_keyed_on_run_and_path(session: Session) -> None:
    run = ScanRun(root="/srv/uploads", options={"recursive": True})
    session.add(run)
    session.flush()
    session.add_all(
        [
            ScanItem(
                run_id=run.id,
                path="a.jpg",
                size=10,
                mtime_ns=1,
                status=ScanItemStatus.DONE,
                result={"md5": fake_hex(1, 32), "matches": []},
            ),
            ScanItem(run_id=run.id, path="b.jpg", size=20, mtime_ns=2),
        ]
    )
    session.commit()
    pending = session.scalars(
        select(ScanItem.path).where(
            ScanItem.run_id == run.id, ScanItem.status == ScanItemStatus.PENDING
        )
    ).all()
    assert pending == ["b.jpg"]
    assert session.get_one(ScanItem, (run.id, "a.jpg")).result == {
        "md5": fake_hex(1, 32),
        "matches": [],
    }
    session.add(ScanItem(run_id=run.id, path="a.jpg"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_import_job_links_entries_and_resumes(session: Session) -> None:
    hash_list = add_list(session)
    job = ImportJob(
        list_id=hash_list.id,
        file_name="bank.csv",
        file_sha256=fake_hex(9),
        format="csv",
        status=ImportStatus.RUNNING,
        records_done=500,
    )
    session.add(job)
    session.flush()
    entry = add_entry(
        session, hash_list, 1, import_job=job, source="bank.csv", list_version="2024-05"
    )
    session.commit()
    assert entry.import_job_id == job.id
    assert job.records_done == 500 and job.errors == 0
