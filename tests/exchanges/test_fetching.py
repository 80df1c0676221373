"""Fetching an exchange into its lists (vigil.exchanges.fetching) with an in-memory client, on
SQLite and PostgreSQL: whole fetches, crashes and errors at every page, pages applied twice,
deletions and updates of entries sent earlier, one fetch at a time, and the match index
seeing fetched entries at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.exchanges.memory_exchange import Crash, MemoryExchange, deletion, md5, record
from tests.screening.listed import fingerprint
from vigil.exchanges import fetching
from vigil.exchanges.fetching import (
    MAX_KEPT_ERRORS,
    FetchAlreadyRunning,
    FetchProgress,
    FetchRefused,
    FetchReport,
    ProgressCallback,
    fetch_exchange,
)
from vigil.exchanges.protocol import ExchangeError, FailureKind
from vigil.lists.formats import ListRecord, RecordError, SignalType
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange, set_exchange_enabled
from vigil.store.exchanges.fetch_state import reset_checkpoint
from vigil.store.lists.catalogue import create_list
from vigil.store.models import (
    ChangeCounter,
    EntryStatus,
    FetchState,
    HashList,
    ImportJob,
    ImportStatus,
    ListEntry,
)

KEY = MasterKey.generate()
CREDENTIALS = {"username": "platform", "password": "correct horse battery staple"}

Snapshot = set[tuple[object, ...]]

# Four pages: additions, an update of a classification and of an entry's hashes, a deletion
# of an entry sent earlier, entries listed again.
PAGES: list[list[ListRecord | RecordError]] = [
    [record("e1", md5(1)), record("e2", md5(2)), record("e3", md5(3), tags=("csam",))],
    [
        record("e2", md5(2), classification="B1", member="member-2", tags=("x", "y")),
        record("e4", md5(4)),
        record("e4", "4" * 40, SignalType.SHA1),
    ],
    [deletion("e1"), record("e4", md5(40)), record("e5", md5(5))],
    [record("e6", md5(6)), record("e1", md5(1))],
]


def _exchange(database: Database, name: str, *lists: str) -> None:
    with database.transaction(write=True) as session:
        for list_name in lists:
            if session.scalar(select(HashList.id).where(HashList.name == list_name)) is None:
                create_list(session, list_name, actor="admin")
        create_exchange(
            session,
            name,
            kind="ncmec",
            base_url="https://exchange.example/hashsharing",
            credentials=CREDENTIALS,
            list_names=list(lists),
            master_key=KEY,
            actor="admin",
        )


def _entries(database: Database, list_name: str) -> Snapshot:
    """What a list holds, as a fetch leaves it (row ids and job stamps aside)."""
    with database.session() as session:
        rows = session.execute(
            select(
                ListEntry.external_id,
                ListEntry.signal_type,
                ListEntry.signal,
                ListEntry.status,
                ListEntry.classification,
                ListEntry.member,
                ListEntry.tags,
            )
            .join(HashList)
            .where(HashList.name == list_name)
        ).all()
    return {(*row[:6], tuple(row[6] or ())) for row in rows}


def _active(database: Database, list_name: str) -> set[tuple[object, ...]]:
    return {row[:3] for row in _entries(database, list_name) if row[3] == EntryStatus.ACTIVE}


def _fetch(
    database: Database,
    name: str,
    client: MemoryExchange,
    on_progress: ProgressCallback | None = None,
) -> FetchReport:
    return fetch_exchange(database, name, client, actor="operator", on_progress=on_progress)


def test_a_whole_fetch_stores_every_page_with_its_provenance(database: Database) -> None:
    _exchange(database, "ncmec", "known", "mirror")
    progress: list[FetchProgress] = []
    report = _fetch(database, "ncmec", MemoryExchange(PAGES), on_progress=progress.append)

    assert report.succeeded and report.pages == 4 and report.error_count == 0
    expected = {
        ("e1", SignalType.MD5, md5(1)),
        ("e2", SignalType.MD5, md5(2)),
        ("e3", SignalType.MD5, md5(3)),
        ("e4", SignalType.MD5, md5(40)),  # the update of e4 dropped its first hashes
        ("e5", SignalType.MD5, md5(5)),
        ("e6", SignalType.MD5, md5(6)),
    }
    assert _active(database, "known") == expected
    assert _entries(database, "known") == _entries(database, "mirror")
    rows = {row[0]: row for row in _entries(database, "known") if row[3] == EntryStatus.ACTIVE}
    assert rows["e2"][4:] == ("B1", "member-2", ("x", "y"))  # the update won
    assert rows["e3"][4:] == ("A1", "member-1", ("csam",))
    assert [(p.entries, p.pages) for p in progress] == [(3, 1), (6, 2), (9, 3), (11, 4)]
    assert progress[-1].estimated_total == 11 and progress[-1].through is not None

    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert exchange.fetch_state is FetchState.SUCCEEDED
        assert exchange.checkpoint == "4"
        assert (exchange.entries_fetched, exchange.entries_deleted) == (10, 1)
        assert exchange.last_fetch_succeeded_at is not None and exchange.last_error is None
        [audit] = _fetch_audits(database)
        assert audit.details["pages"] == 4 and audit.details["state"] == "succeeded"


def test_a_fetch_resumes_from_the_checkpoint_and_an_empty_one_changes_nothing(
    database: Database,
) -> None:
    _exchange(database, "ncmec", "known")
    client = MemoryExchange(PAGES)
    _fetch(database, "ncmec", client)
    before = _entries(database, "known")
    report = _fetch(database, "ncmec", client)
    assert client.fetched_from == [None, "4"]
    assert report.succeeded and report.pages == 0
    assert _entries(database, "known") == before
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 1  # none for it
    assert len(_fetch_audits(database)) == 2  # one per fetch


@pytest.mark.parametrize("crash_after", [0, 1, 2, 3])
def test_a_crash_after_any_page_then_a_resume_gives_the_same_list(
    database: Database, crash_after: int
) -> None:
    _exchange(database, "whole", "whole-list")
    _fetch(database, "whole", MemoryExchange(PAGES))
    _exchange(database, "crashed", "crashed-list")
    with pytest.raises(Crash):
        _fetch(database, "crashed", MemoryExchange(PAGES, crash_after=crash_after))
    with database.session() as session:
        exchange = get_exchange(session, "crashed")
        assert exchange.checkpoint == (str(crash_after) if crash_after else None)
        assert exchange.fetch_state is FetchState.RUNNING  # the process died mid-fetch
    resumed = MemoryExchange(PAGES)
    report = _fetch(database, "crashed", resumed)
    assert report.succeeded and report.pages == 4 - crash_after
    assert _entries(database, "crashed-list") == _entries(database, "whole-list")
    with database.session() as session:
        jobs = session.scalars(
            select(ImportJob.status).join(HashList).where(HashList.name == "crashed-list")
        ).all()
    assert ImportStatus.RUNNING not in jobs  # the crashed fetch's job was closed
    assert jobs.count(ImportStatus.COMPLETED) == 1


def test_a_crash_at_every_page_in_turn_gives_the_same_list(database: Database) -> None:
    _exchange(database, "whole", "whole-list")
    _fetch(database, "whole", MemoryExchange(PAGES))
    _exchange(database, "crashy", "crashy-list")
    for _ in PAGES:
        with pytest.raises(Crash):
            _fetch(database, "crashy", MemoryExchange(PAGES, crash_after=1))
    assert _fetch(database, "crashy", MemoryExchange(PAGES)).pages == 0
    assert _entries(database, "crashy-list") == _entries(database, "whole-list")


@pytest.mark.parametrize("fail_at", [0, 2, 3])
def test_an_exchange_error_is_recorded_and_nothing_stored_is_lost(
    database: Database, fail_at: int
) -> None:
    _exchange(database, "whole", "whole-list")
    _fetch(database, "whole", MemoryExchange(PAGES[:fail_at]))
    _exchange(database, "ncmec", "known")
    failure = ExchangeError(FailureKind.CREDENTIALS, "the service refused the credentials (401)")
    report = _fetch(database, "ncmec", MemoryExchange(PAGES, fail_at=fail_at, failure=failure))

    assert report.failure is failure and report.pages == fail_at
    assert _entries(database, "known") == _entries(database, "whole-list")
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert exchange.fetch_state is FetchState.FAILED
        assert exchange.last_error_kind == "credentials"
        assert exchange.last_error == "the service refused the credentials (401)"
        assert exchange.checkpoint == (str(fail_at) if fail_at else None)
        assert exchange.last_fetch_succeeded_at is None
    audit = _fetch_audits(database)[-1]
    assert (audit.details["state"], audit.details["failure_kind"]) == ("failed", "credentials")

    report = _fetch(database, "ncmec", MemoryExchange(PAGES))
    assert report.succeeded and report.pages == 4 - fail_at
    _fetch(database, "whole", MemoryExchange(PAGES))
    assert _entries(database, "known") == _entries(database, "whole-list")
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert exchange.fetch_state is FetchState.SUCCEEDED and exchange.last_error is None


def test_an_internal_failure_is_recorded_and_raised(database: Database) -> None:
    _exchange(database, "ncmec", "known")

    def broken(index: int) -> None:
        if index == 1:
            raise ValueError("a bug in the client")

    with pytest.raises(ValueError, match="a bug"):
        _fetch(database, "ncmec", MemoryExchange(PAGES, on_page=broken))
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        assert (exchange.fetch_state, exchange.last_error_kind) == (FetchState.FAILED, "internal")
        assert exchange.last_error == "ValueError"  # only the type: messages may hold data
        assert exchange.checkpoint == "1"


def _checkpoint(database: Database, name: str) -> str | None:
    with database.session() as session:
        return get_exchange(session, name).checkpoint


def test_pages_are_stored_in_groups_with_the_last_pages_checkpoint(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four records a group: pages 1-2 (six records), then 3-4. Each progress call comes
    # after its group committed, with the group's last checkpoint already stored.
    monkeypatch.setattr(fetching, "GROUP_RECORDS", 4)
    _exchange(database, "ncmec", "known")
    stored: list[tuple[int, str | None]] = []

    def progress(done: FetchProgress) -> None:
        stored.append((done.pages, _checkpoint(database, "ncmec")))

    report = _fetch(database, "ncmec", MemoryExchange(PAGES), on_progress=progress)
    assert report.succeeded and report.pages == 4
    assert stored == [(1, "2"), (2, "2"), (3, "4"), (4, "4")]


@pytest.mark.parametrize("dies_in_page", [1, 2, 3, 4])
def test_a_crash_inside_a_group_loses_nothing_and_resumes_to_the_same_list(
    database: Database, monkeypatch: pytest.MonkeyPatch, dies_in_page: int
) -> None:
    # The process dies while writing a page of a group: the whole group is rolled back,
    # the checkpoint is the previous group's, and the resumed fetch ends with the same list.
    _exchange(database, "whole", "whole-list")
    _fetch(database, "whole", MemoryExchange(PAGES))
    monkeypatch.setattr(fetching, "GROUP_RECORDS", 4)
    _exchange(database, "crashed", "crashed-list")
    write_page = fetching._write_page
    written: list[int] = []

    def dying(*arguments: Any) -> None:
        written.append(1)
        if len(written) == dies_in_page:
            raise Crash
        write_page(*arguments)

    monkeypatch.setattr(fetching, "_write_page", dying)
    with pytest.raises(Crash):
        _fetch(database, "crashed", MemoryExchange(PAGES))
    assert _checkpoint(database, "crashed") == (None if dies_in_page <= 2 else "2")
    monkeypatch.setattr(fetching, "_write_page", write_page)
    report = _fetch(database, "crashed", MemoryExchange(PAGES))
    assert report.succeeded and report.pages == (4 if dies_in_page <= 2 else 2)
    assert _entries(database, "crashed-list") == _entries(database, "whole-list")


def test_a_page_applied_twice_changes_nothing(database: Database) -> None:
    _exchange(database, "ncmec", "known")
    for count in range(1, len(PAGES) + 1):
        _fetch(database, "ncmec", MemoryExchange(PAGES[:count]))
        before, seq = _entries(database, "known"), _feed_position(database)
        with database.transaction(write=True) as session:
            reset_checkpoint(session, "ncmec", str(count - 1), actor="operator")
        assert _fetch(database, "ncmec", MemoryExchange(PAGES[:count])).pages == 1
        assert _entries(database, "known") == before
        assert _feed_position(database) == seq  # nothing reached the change feed either


def test_deletions_remove_entries_sent_earlier_and_listing_again_restores(
    database: Database,
) -> None:
    _exchange(database, "ncmec", "known")
    _fetch(database, "ncmec", MemoryExchange(PAGES[:3]))
    statuses = {(row[0], row[2]): row[3] for row in _entries(database, "known")}
    assert statuses["e1", md5(1)] is EntryStatus.DELETED
    assert statuses["e4", md5(4)] is EntryStatus.DELETED  # superseded by e4's update
    assert statuses["e4", "4" * 40] is EntryStatus.DELETED
    assert statuses["e2", md5(2)] is EntryStatus.ACTIVE
    _fetch(database, "ncmec", MemoryExchange(PAGES))
    statuses = {(row[0], row[2]): row[3] for row in _entries(database, "known")}
    assert statuses["e1", md5(1)] is EntryStatus.ACTIVE  # listed again in the last page


def test_repeats_within_a_page_end_with_the_last(database: Database) -> None:
    _exchange(database, "ncmec", "known")
    page = [
        record("e1", md5(1), classification="A1"),
        record("e1", md5(1), classification="B2", tags=("t",)),
        deletion("e2"),
        record("e2", md5(2)),
        record("e3", md5(3)),
        deletion("e3"),
    ]
    _fetch(database, "ncmec", MemoryExchange([page]))
    rows = {row[0]: row for row in _entries(database, "known")}
    assert rows["e1"][3:5] == (EntryStatus.ACTIVE, "B2") and rows["e1"][6] == ("t",)
    assert rows["e2"][3] is EntryStatus.ACTIVE
    assert rows["e3"][3] is EntryStatus.DELETED


def test_bad_records_are_counted_and_the_rest_is_stored(database: Database) -> None:
    _exchange(database, "ncmec", "known")
    errors: list[ListRecord | RecordError] = [
        RecordError(position, "not a hash") for position in range(MAX_KEPT_ERRORS + 5)
    ]
    too_long = record("x" * 300, md5(9), position=7)  # longer than the column
    page = [*errors, too_long, record("e1", md5(1))]
    report = _fetch(database, "ncmec", MemoryExchange([page]))
    assert report.succeeded and report.error_count == MAX_KEPT_ERRORS + 6
    assert len(report.errors) == MAX_KEPT_ERRORS
    assert _active(database, "known") == {("e1", SignalType.MD5, md5(1))}
    with database.session() as session:
        assert get_exchange(session, "ncmec").record_errors == MAX_KEPT_ERRORS + 6


def test_a_second_fetch_of_the_same_exchange_is_refused_while_one_runs(
    database: Database,
) -> None:
    _exchange(database, "ncmec", "known")
    _exchange(database, "other", "other-list")
    refused: list[str] = []

    def meanwhile(index: int) -> None:
        if index == 1:
            with pytest.raises(FetchAlreadyRunning) as caught:
                _fetch(database, "ncmec", MemoryExchange(PAGES))
            refused.append(str(caught.value))
            assert _fetch(database, "other", MemoryExchange(PAGES)).succeeded  # not blocked

    assert _fetch(database, "ncmec", MemoryExchange(PAGES, on_page=meanwhile)).succeeded
    assert len(refused) == 1 and "another process" in refused[0]
    assert _fetch(database, "ncmec", MemoryExchange(PAGES)).succeeded  # the lock was freed


def test_a_disabled_exchange_is_not_fetched(database: Database) -> None:
    _exchange(database, "ncmec", "known")
    with database.transaction(write=True) as session:
        set_exchange_enabled(session, "ncmec", False, actor="admin")
    client = MemoryExchange(PAGES)
    with pytest.raises(FetchRefused, match="disabled"):
        _fetch(database, "ncmec", client)
    assert client.fetched_from == [] and _entries(database, "known") == set()


def test_a_fetched_entry_matches_at_once_without_a_rebuild(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[40])
    assert photo.sha256 is not None
    _exchange(database, "ncmec", "known")
    _fetch(database, "ncmec", MemoryExchange(PAGES[:1]))
    with (
        LiveIndex.open(database, tmp_path / "index") as writer,
        LiveIndex.open(database, tmp_path / "index") as reader,
    ):
        matcher = Matcher(reader)
        assert matcher.match(photo) == []
        page = [record("photo", photo.sha256, SignalType.SHA256, member="member-9")]
        _fetch(database, "ncmec", MemoryExchange([*PAGES[:1], page]))
        [match] = matcher.match(photo)
        assert (match.list, match.external_id) == ("known", "photo")
        with database.session() as session:
            entry = session.get_one(ListEntry, match.entry_id)
            assert (entry.member, entry.source) == ("member-9", "exchange:ncmec")
        _fetch(database, "ncmec", MemoryExchange([*PAGES[:1], page, [deletion("photo")]]))
        assert matcher.match(photo) == []
        assert writer.writer and not reader.writer


def _fetch_audits(database: Database) -> list[AuditRecord]:
    with database.session() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
    return [r for r in records if r.subject_type == "exchange" and r.details["change"] == "fetch"]


def _feed_position(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.max(ChangeCounter.last_seq))) or 0)
