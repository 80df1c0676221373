"""Security audit records of list acts, on SQLite and PostgreSQL: creating a list, changing its
settings, switching it or one entry off and on, importing and exporting. Each act writes
exactly one record in its own transaction; a failed or rolled-back act writes none; the chain
stays intact. Hashes are counters rendered as hex, never real content."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.lists.format_samples import md5_of
from tests.store.samples import add_entry, add_list
from vigil.core.settings import FloodGuardSettings
from vigil.lists.sources import LocalFileSource
from vigil.store import Database
from vigil.store.audit import AuditAction, AuditRecord, verify_chain
from vigil.store.lists.catalogue import create_list, set_list_enabled, update_list_settings
from vigil.store.lists.entry_status import disable_entry, enable_entry, quarantine_entry
from vigil.store.lists.errors import (
    DuplicateList,
    ImportRefused,
    InvalidListSetting,
    StatusChangeRefused,
)
from vigil.store.lists.export import ExportFormat, export_list
from vigil.store.lists.flood_guard import FLOOD_GUARD_ACTOR, enforce_flood_guard
from vigil.store.lists.importing import ImportOptions, ImportProgress, import_file, sync_list
from vigil.store.lists.match_counts import record_matches
from vigil.store.models import HashList, ImportJob, ImportStatus, ListEntry

CSV_HEADER = "signal_type,signal,external_id,classification,series,victim_identified,note,deleted"


class Interrupted(Exception):
    """Stands in for a crash between an import's batches."""


def _records(database: Database) -> list[AuditRecord]:
    with database.transaction() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _new_records(database: Database, before: int) -> list[AuditRecord]:
    return [record for record in _records(database) if record.seq > before]


def _last_seq(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.coalesce(func.max(AuditRecord.seq), 0))) or 0


def _assert_intact(database: Database) -> None:
    with database.transaction() as session:
        report = verify_chain(session)
    assert report.intact, report


def _bank(database: Database, name: str = "bank") -> None:
    with database.transaction(write=True) as session:
        create_list(session, name, actor="setup")


def _entry(database: Database) -> int:
    with database.transaction(write=True) as session:
        return add_entry(session, add_list(session, "entries"), 1).id


def _csv(tmp_path: Path, count: int, name: str = "bank.csv") -> Path:
    path = tmp_path / name
    rows = "".join(f"md5,{md5_of(n)},e{n},,,,,\n" for n in range(count))
    path.write_text(f"{CSV_HEADER}\n{rows}", encoding="utf-8")
    return path


# --- lists ---------------------------------------------------------------------------------


def test_creating_a_list_is_audited_with_its_settings(database: Database) -> None:
    with database.transaction(write=True) as session:
        create_list(
            session,
            " bank ",
            actor=" alice ",
            description="benign test list",
            pdq_distance=20,
            min_quality=60,
            is_allow_list=True,
        )
    [record] = _records(database)
    assert (record.action, record.actor, record.subject_type, record.subject_id) == (
        AuditAction.SETTING_CHANGED,
        "alice",
        "hash_list",
        "bank",
    )
    assert record.details == {
        "change": "created",
        "old": {},
        "new": {
            "enabled": True,
            "description": "benign test list",
            "pdq_distance": 20,
            "min_quality": 60,
            "is_allow_list": True,
        },
    }
    _assert_intact(database)


def test_a_settings_change_records_only_what_changed(database: Database) -> None:
    _bank(database)
    before = _last_seq(database)
    with database.transaction(write=True) as session:
        update_list_settings(
            session, "bank", actor="bob", pdq_distance=12, min_quality=50, is_allow_list=True
        )
    [record] = _new_records(database, before)
    assert (record.action, record.actor, record.subject_id) == (
        AuditAction.SETTING_CHANGED,
        "bob",
        "bank",
    )
    # min_quality 50 is the default already: not a change.
    assert record.details == {
        "change": "settings",
        "old": {"pdq_distance": 31, "is_allow_list": False},
        "new": {"pdq_distance": 12, "is_allow_list": True},
    }
    with database.transaction(write=True) as session:
        update_list_settings(session, "bank", actor="bob", pdq_distance=12)
    assert len(_new_records(database, before)) == 1  # nothing changed, nothing recorded
    _assert_intact(database)


def test_a_long_description_is_bounded_in_the_record(database: Database) -> None:
    _bank(database)
    before = _last_seq(database)
    with database.transaction(write=True) as session:
        update_list_settings(session, "bank", actor="bob", description="d" * 5000)
    [record] = _new_records(database, before)
    assert record.details["new"]["description"] == "d" * 500
    with database.transaction() as session:
        assert len(session.scalars(select(HashList.description)).one()) == 5000


def test_switching_a_list_off_and_on_is_audited_once_per_change(database: Database) -> None:
    _bank(database)
    before = _last_seq(database)
    for enabled in (False, False, True):
        with database.transaction(write=True) as session:
            set_list_enabled(session, "bank", enabled, actor="carol")
    records = _new_records(database, before)
    assert [(r.action, r.actor, r.subject_type, r.subject_id) for r in records] == [
        (AuditAction.SETTING_CHANGED, "carol", "hash_list", "bank")
    ] * 2
    assert [r.details for r in records] == [
        {"change": "disabled", "old": {"enabled": True}, "new": {"enabled": False}},
        {"change": "enabled", "old": {"enabled": False}, "new": {"enabled": True}},
    ]
    _assert_intact(database)


def test_rolled_back_and_refused_list_changes_leave_no_record(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction(write=True) as session:
        create_list(session, "bank", actor="alice")
        raise RuntimeError("a later step of the same transaction failed")
    assert _records(database) == []
    _bank(database)
    before = _last_seq(database)
    with pytest.raises(DuplicateList), database.transaction(write=True) as session:
        create_list(session, "bank", actor="alice")
    with pytest.raises(InvalidListSetting), database.transaction(write=True) as session:
        update_list_settings(session, "bank", actor="alice", description="x", pdq_distance=999)
    with pytest.raises(RuntimeError), database.transaction(write=True) as session:
        set_list_enabled(session, "bank", False, actor="alice")
        raise RuntimeError("rolled back")
    assert _new_records(database, before) == []
    with database.transaction() as session:
        bank = session.scalars(select(HashList)).one()
        assert (bank.enabled, bank.description) == (True, "")
    _assert_intact(database)


@pytest.mark.parametrize("actor", ["", "   ", "\n"])
def test_an_act_without_an_actor_is_refused(database: Database, actor: str) -> None:
    with (
        pytest.raises(InvalidListSetting, match="actor"),
        database.transaction(write=True) as session,
    ):
        create_list(session, "bank", actor=actor)
    _bank(database)
    for act in (
        lambda s: update_list_settings(s, "bank", actor=actor, pdq_distance=1),
        lambda s: set_list_enabled(s, "bank", False, actor=actor),
    ):
        with (
            pytest.raises(InvalidListSetting, match="actor"),
            database.transaction(write=True) as session,
        ):
            act(session)
    assert len(_records(database)) == 1  # the setup's create


def test_a_very_long_actor_is_cut_to_the_column(database: Database) -> None:
    with database.transaction(write=True) as session:
        create_list(session, "bank", actor="a" * 1000)
    [record] = _records(database)
    assert record.actor == "a" * 200


# --- entries -------------------------------------------------------------------------------


def test_entry_switches_are_audited_with_list_status_and_reason(database: Database) -> None:
    entry_id = _entry(database)
    with database.transaction(write=True) as session:
        disable_entry(
            session, entry_id, actor="alice", reason=" false positives ", list_name="entries"
        )
    with database.transaction(write=True) as session:
        enable_entry(session, entry_id, actor="bob", list_name="entries")
    with database.transaction(write=True) as session:
        quarantine_entry(session, entry_id, actor="carol", reason="pending review")
    records = _records(database)
    assert [(r.action, r.actor, r.subject_type, r.subject_id) for r in records] == [
        (AuditAction.SETTING_CHANGED, actor, "list_entry", str(entry_id))
        for actor in ("alice", "bob", "carol")
    ]
    assert [r.details for r in records] == [
        {
            "change": "status",
            "list": "entries",
            "entry_id": entry_id,
            "old_status": old,
            "new_status": new,
            "reason": reason,
        }
        for old, new, reason in [
            ("active", "disabled", "false positives"),
            ("disabled", "active", None),
            ("active", "quarantined", "pending review"),
        ]
    ]
    _assert_intact(database)


def test_entry_non_changes_and_refusals_leave_no_record(database: Database) -> None:
    entry_id = _entry(database)
    with database.transaction(write=True) as session:
        enable_entry(session, entry_id, actor="alice")  # already active
    with pytest.raises(StatusChangeRefused), database.transaction(write=True) as session:
        disable_entry(session, entry_id, actor="alice", reason="  ")
    with pytest.raises(RuntimeError), database.transaction(write=True) as session:
        disable_entry(session, entry_id, actor="alice", reason="fp")
        raise RuntimeError("rolled back")
    assert _records(database) == []
    with database.transaction() as session:
        assert session.get_one(ListEntry, entry_id).status == "active"


def test_flood_guard_suspicions_are_audited_under_its_name(database: Database) -> None:
    now = datetime(2024, 5, 1, 13, 25, tzinfo=UTC)
    entry_id = _entry(database)
    with database.transaction(write=True) as session:
        record_matches(session, entry_id, now, 51)
    with database.transaction(write=True) as session:
        [flagged] = enforce_flood_guard(
            session,
            FloodGuardSettings(
                threshold=10.0, min_matches=50, baseline_hours=24, min_history_hours=0
            ),
            now=now,
        )
    [record] = _records(database)
    assert (record.actor, record.subject_type, record.subject_id) == (
        FLOOD_GUARD_ACTOR,
        "list_entry",
        str(entry_id),
    )
    assert (record.details["change"], record.details["reason"]) == (
        "suspect",
        flagged.verdict.explanation,
    )
    _assert_intact(database)


# --- imports -------------------------------------------------------------------------------


def test_an_import_in_many_batches_is_audited_once_with_its_counts(
    database: Database, tmp_path: Path
) -> None:
    _bank(database)
    before = _last_seq(database)
    report = import_file(
        database,
        "bank",
        LocalFileSource(_csv(tmp_path, 7)),
        actor="dave",
        options=ImportOptions(batch_size=2),
    )
    [record] = _new_records(database, before)
    assert (record.action, record.actor, record.subject_type, record.subject_id) == (
        AuditAction.SETTING_CHANGED,
        "dave",
        "hash_list",
        "bank",
    )
    assert record.details["change"] == "import"
    assert record.details["counts"]["added"] == report.counts.added == 7
    assert (
        record.details["job_id"],
        record.details["source"],
        record.details["format"],
        record.details["records_read"],
        record.details["errors"],
    ) == (report.job_id, "bank.csv", report.format_label, 7, 0)
    assert not any(md5_of(n) in str(record.details) for n in range(7))  # no content
    _assert_intact(database)


def test_an_interrupted_import_is_audited_only_when_it_completes(
    database: Database, tmp_path: Path
) -> None:
    _bank(database)
    before = _last_seq(database)
    path = _csv(tmp_path, 6)

    def crash(progress: ImportProgress) -> None:
        raise Interrupted(f"after {progress.records_done} records")

    with pytest.raises(Interrupted):
        import_file(
            database,
            "bank",
            LocalFileSource(path),
            actor="dave",
            options=ImportOptions(batch_size=2),
            on_progress=crash,
        )
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ListEntry)) == 2  # one batch
    assert _new_records(database, before) == []
    report = import_file(
        database, "bank", LocalFileSource(path), actor="erin", options=ImportOptions(batch_size=2)
    )
    assert report.resumed_after == 2
    [record] = _new_records(database, before)
    assert (record.actor, record.details["job_id"], record.details["counts"]["added"]) == (
        "erin",
        report.job_id,
        4,
    )
    with database.transaction() as session:
        assert session.get_one(ImportJob, report.job_id).status is ImportStatus.COMPLETED
    _assert_intact(database)


def test_a_sync_without_news_is_not_audited(database: Database, tmp_path: Path) -> None:
    _bank(database)
    before = _last_seq(database)
    path = _csv(tmp_path, 2)
    sync_list(database, "bank", LocalFileSource(path), actor="feed")
    sync_list(database, "bank", LocalFileSource(path), actor="feed")  # unchanged source
    [record] = _new_records(database, before)
    assert (record.actor, record.details["change"]) == ("feed", "import")


def test_an_import_without_an_actor_is_refused_before_anything_is_stored(
    database: Database, tmp_path: Path
) -> None:
    _bank(database)
    before = _last_seq(database)
    with pytest.raises(ImportRefused, match="actor"):
        import_file(database, "bank", LocalFileSource(_csv(tmp_path, 2)), actor=" ")
    assert _new_records(database, before) == []
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_an_export_is_audited_with_file_name_and_count_only(
    database: Database, tmp_path: Path, export_format: ExportFormat
) -> None:
    _bank(database)
    import_file(database, "bank", LocalFileSource(_csv(tmp_path, 3)), actor="dave")
    before = _last_seq(database)
    out = io.StringIO(newline="")
    count = export_list(
        database,
        "bank",
        out,
        export_format,
        actor="gina",
        destination="/home/gina/private/exports/bank-out.csv",
    )
    [record] = _new_records(database, before)
    assert (record.action, record.actor, record.subject_type, record.subject_id) == (
        AuditAction.EXPORT,
        "gina",
        "hash_list",
        "bank",
    )
    assert record.details == {
        "list": "bank",
        "format": export_format.value,
        "entries": count,
        "destination": "bank-out.csv",
        "include_inactive": False,
    }
    assert count == 3 and md5_of(0) in out.getvalue()
    _assert_intact(database)


class _BrokenOutput(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("disk full")


def test_a_failed_export_leaves_no_record(database: Database, tmp_path: Path) -> None:
    _bank(database)
    import_file(database, "bank", LocalFileSource(_csv(tmp_path, 3)), actor="dave")
    before = _last_seq(database)
    with pytest.raises(OSError, match="disk full"):
        export_list(
            database, "bank", _BrokenOutput(), ExportFormat.CSV, actor="gina", destination="out.csv"
        )
    with pytest.raises(InvalidListSetting, match="actor"):
        export_list(
            database, "bank", io.StringIO(), ExportFormat.CSV, actor="", destination="out.csv"
        )
    assert _new_records(database, before) == []
    _assert_intact(database)
