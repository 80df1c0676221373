"""The freshness contract inside one machine: a process that is not the index's writer
answers from what the database has committed, not from what the writer has logged.

An idle writer (a service with no requests) never reads the feed; before the contract its
readers matched the writer's stale log. Each test fails when a reader waits for the writer.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.screening.listed import fingerprint, make_list
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.lists.catalogue import set_list_enabled
from vigil.store.lists.entry_status import change_status, disable_entry
from vigil.store.models import EntryStatus, ListEntry


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


def _names(matcher: Matcher, photo: object) -> list[str]:
    return sorted(m.list for m in matcher.match(photo))  # type: ignore[arg-type]


def test_reader_matches_a_new_list_while_the_writer_is_idle(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[30])
    with (
        LiveIndex.open(database, index_dir) as writer,
        LiveIndex.open(database, index_dir) as reader,
    ):
        assert writer.writer and not reader.writer
        make_list(database, "bank", [("sha256", photo.sha256, "x")], tmp_path)
        assert _names(Matcher(reader), photo) == ["bank"]  # the writer never polled


def test_reader_stops_matching_disabled_entries_and_lists_at_once(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[31])
    make_list(database, "bank", [("sha1", photo.sha1, "a")], tmp_path)
    make_list(database, "other", [("md5", photo.md5, "b")], tmp_path)
    with (
        LiveIndex.open(database, index_dir) as writer,
        LiveIndex.open(database, index_dir) as reader,
    ):
        assert not reader.writer
        matcher = Matcher(reader)
        [bank] = [m for m in matcher.match(photo) if m.list == "bank"]
        with database.transaction(write=True) as session:
            disable_entry(session, bank.entry_id, actor="test", reason="false positive")
        assert _names(matcher, photo) == ["other"]
        with database.transaction(write=True) as session:
            set_list_enabled(session, "other", False, actor="test")
        assert _names(matcher, photo) == []
        assert writer.index.seq < reader.index.seq  # the reader did not wait for the writer


def test_reader_ahead_of_the_log_skips_what_the_writer_logs_later(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    """The reader applies add then quarantine from the database; the writer then logs the
    add (and later the quarantine). Replaying the older add must not bring the entry back."""
    photo = fingerprint(corpus_images[32])
    with (
        LiveIndex.open(database, index_dir) as writer,
        LiveIndex.open(database, index_dir) as reader,
    ):
        matcher = Matcher(reader)
        make_list(database, "bank", [("sha256", photo.sha256, "x")], tmp_path)
        assert _names(matcher, photo) == ["bank"]
        writer.poll()  # logs the add
        with database.transaction(write=True) as session:
            entry = session.scalars(select(ListEntry)).one()
            change_status(entry, EntryStatus.QUARANTINED, actor="test", reason="held back")
        assert _names(matcher, photo) == []  # log replay of the add skipped, quarantine read
        writer.poll()  # logs the quarantine
        assert _names(matcher, photo) == []
        make_list(database, "later", [("md5", photo.md5, "y")], tmp_path)
        writer.poll()
        assert _names(matcher, photo) == ["later"]


def test_nothing_new_reads_no_feed(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[33])
    make_list(database, "bank", [("sha256", photo.sha256, "x")], tmp_path)
    with LiveIndex.open(database, index_dir) as live:
        seq = live.index.seq
        lists = live.lists
        live.ensure_current()
        assert live.index.seq == seq and live.lists is lists  # no poll: nothing was new


def test_an_install_without_lists_reads_no_feed_either(database: Database, index_dir: Path) -> None:
    """No lists is a state like any other: it must not make every lookup poll."""
    with LiveIndex.open(database, index_dir) as live:
        lists = live.lists
        live.ensure_current()
        assert live.lists == {} and live.lists is lists


def test_one_check_per_request(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    """A change committed after a request started may or may not show in it; a change
    committed before it always does."""
    photo = fingerprint(corpus_images[34])
    with LiveIndex.open(database, index_dir) as live:
        matcher = Matcher(live)
        started = time.monotonic()
        assert matcher.screen(photo, started).matches == []
        make_list(database, "bank", [("sha256", photo.sha256, "x")], tmp_path)
        assert matcher.screen(photo, started).matches == []  # same request: checked already
        assert [m.list for m in matcher.screen(photo, time.monotonic()).matches] == ["bank"]
