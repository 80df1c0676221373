"""Matching fingerprints of benign corpus images and clips against real lists, on SQLite and
PostgreSQL: digests, PDQ through variants, per-list settings, allow-lists and video."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.screening.listed import (
    fingerprint,
    flipped_bits,
    list_video,
    make_clip,
    make_list,
    rotated_copy,
)
from vigil.core.settings import FloodGuardSettings
from vigil.index.snapshot import current
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.lists.catalogue import set_list_enabled
from vigil.store.lists.entry_status import disable_entry
from vigil.store.models import EntryStatus, ListEntry, MatchStat


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def matcher(database: Database, index_dir: Path) -> Iterator[Matcher]:
    with LiveIndex.open(database, index_dir) as live:
        yield Matcher(live)


def _open(database: Database, index_dir: Path) -> Matcher:
    return Matcher(LiveIndex.open(database, index_dir))


def test_exact_digests_match(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    first, second, third = (fingerprint(p) for p in corpus_images[:3])
    make_list(
        database,
        "bank",
        [("sha256", first.sha256, "case-1"), ("md5", second.md5, "case-2")],
        tmp_path,
    )
    matcher = _open(database, index_dir)
    [by_sha] = matcher.match(first)
    assert (by_sha.list, by_sha.signal_type, by_sha.external_id, by_sha.classification) == (
        "bank",
        "sha256",
        "case-1",
        "A1",
    )
    assert [m.signal_type for m in matcher.match(second)] == ["md5"]
    assert matcher.match(third) == []
    matcher.live.close()


def test_rotated_copy_matches_through_a_variant(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    original = fingerprint(corpus_images[0])
    make_list(database, "bank", [("pdq", original.pdq, "case-1")], tmp_path)
    rotated = fingerprint(rotated_copy(corpus_images[0], tmp_path / "rotated.jpg"))
    assert rotated.sha256 != original.sha256
    matcher = _open(database, index_dir)
    [match] = matcher.match(rotated)
    assert match.signal_type == "pdq" and match.external_id == "case-1"
    assert match.variant not in (None, "original")
    assert match.distance is not None and match.distance <= 31
    matcher.live.close()


def test_each_list_uses_its_own_distance(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[1])
    near = flipped_bits(photo.pdq, 12)
    make_list(database, "strict", [("pdq", near, "s")], tmp_path, pdq_distance=8)
    make_list(database, "loose", [("pdq", near, "l")], tmp_path, pdq_distance=20)
    matcher = _open(database, index_dir)
    [match] = [m for m in matcher.match(photo) if m.variant == "original"] or matcher.match(photo)
    assert match.list == "loose"
    assert {m.list for m in matcher.match(photo)} == {"loose"}
    matcher.live.close()


def test_low_quality_hash_skips_a_demanding_list(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[2])
    assert photo.pdq_quality is not None and photo.pdq_quality < 100
    make_list(
        database, "picky", [("pdq", photo.pdq, "p")], tmp_path, min_quality=photo.pdq_quality + 1
    )
    make_list(database, "plain", [("pdq", photo.pdq, "q")], tmp_path, min_quality=0)
    matcher = _open(database, index_dir)
    assert {m.list for m in matcher.match(photo)} == {"plain"}
    matcher.live.close()


def test_disabled_list_and_entry_stop_matching_at_once(
    database: Database, matcher: Matcher, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[3])
    make_list(database, "bank", [("sha1", photo.sha1, "e")], tmp_path)
    make_list(database, "other", [("pdq", photo.pdq, "o")], tmp_path)
    [one, two] = sorted(matcher.match(photo), key=lambda m: m.list)
    assert (one.list, two.list) == ("bank", "other")
    snapshot = current(index_dir)
    with database.transaction(write=True) as session:
        disable_entry(session, one.entry_id, actor="test", reason="false positive")
        set_list_enabled(session, "other", False, actor="test")
    assert matcher.match(photo) == []  # the very next lookup: committed before it started
    assert current(index_dir) == snapshot  # followed the feed: no rebuild


def test_allow_list_suppresses_other_matches(
    database: Database, matcher: Matcher, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[4])
    make_list(database, "bank", [("sha256", photo.sha256, "b")], tmp_path)
    make_list(database, "stock", [("pdq", photo.pdq, "s")], tmp_path, is_allow_list=True)
    screening = matcher.screen(photo)
    assert screening.matches == []
    assert [(m.list, m.external_id) for m in screening.suppressed_by] == [("stock", "s")]


def test_listed_video_matches_its_frames(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    clip = fingerprint(make_clip(corpus_images[8:12], tmp_path / "clip.mp4"))
    make_list(database, "videos", [], tmp_path)
    entry_id = list_video(database, "videos", clip, "v-1")
    unrelated = fingerprint(make_clip(corpus_images[17:21], tmp_path / "other.mp4"))
    matcher = _open(database, index_dir)
    [match] = matcher.match(clip)
    assert (match.entry_id, match.signal_type, match.external_id) == (entry_id, "video_pdq", "v-1")
    assert match.segments and match.segments[0].frames >= 3
    assert matcher.match(unrelated) == []
    matcher.live.close()


def test_second_open_reuses_the_snapshot_and_catches_up(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    first, second = fingerprint(corpus_images[10]), fingerprint(corpus_images[11])
    make_list(database, "bank", [("md5", first.md5, "1")], tmp_path)
    with LiveIndex.open(database, index_dir) as live:
        assert live.built_from_feed and live.writer
    make_list(database, "later", [("md5", second.md5, "2")], tmp_path)
    with LiveIndex.open(database, index_dir) as live:
        assert not live.built_from_feed
        matcher = Matcher(live)
        assert [m.list for m in matcher.match(first)] == ["bank"]
        assert [m.list for m in matcher.match(second)] == ["later"]


def test_second_process_follows_the_writer(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[12])
    with (
        LiveIndex.open(database, index_dir) as writer,
        LiveIndex.open(database, index_dir) as reader,
    ):
        assert writer.writer and not reader.writer
        make_list(database, "bank", [("sha256", photo.sha256, "x")], tmp_path)
        writer.poll()  # the writer logs the change; the reader picks it up from the log
        assert [m.list for m in Matcher(reader).match(photo)] == ["bank"]


def test_feed_read_in_small_batches(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photos = [fingerprint(p) for p in corpus_images[13:16]]
    make_list(
        database, "bank", [("sha256", p.sha256, str(n)) for n, p in enumerate(photos)], tmp_path
    )
    with LiveIndex.open(database, index_dir, batch=1) as live:
        make_list(database, "more", [("md5", photos[0].md5, "m")], tmp_path)
        live.poll()
        matcher = Matcher(live)
        assert [sorted(m.list for m in matcher.match(p)) for p in photos] == [
            ["bank", "more"],
            ["bank"],
            ["bank"],
        ]


def test_reader_takes_over_when_the_writer_goes(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[16])
    writer = LiveIndex.open(database, index_dir)
    with LiveIndex.open(database, index_dir) as reader:
        assert not reader.writer
        writer.close()
        make_list(database, "bank", [("sha1", photo.sha1, "x")], tmp_path)
        assert [m.list for m in Matcher(reader).match(photo)] == ["bank"]
        assert reader.writer


def test_torn_log_tail_after_a_crash_is_cut_off(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    photo = fingerprint(corpus_images[18])
    with LiveIndex.open(database, index_dir) as live:
        make_list(database, "bank", [("md5", photo.md5, "x")], tmp_path)
        live.poll()  # logged, not yet in a snapshot
    [log] = index_dir.glob("changes-*.log")
    with log.open("ab") as torn:
        torn.write(b"\x07\x00\x00")  # a record the crashed writer did not finish
    with LiveIndex.open(database, index_dir) as live:
        assert not live.built_from_feed
        assert [m.external_id for m in Matcher(live).match(photo)] == ["x"]


def test_narrowed_search_still_honours_allow_lists(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    listed, allowed = fingerprint(corpus_images[19]), fingerprint(corpus_images[20])
    make_list(database, "bank", [("md5", listed.md5, "b"), ("md5", allowed.md5, "b2")], tmp_path)
    make_list(database, "other", [("sha1", listed.sha1, "o")], tmp_path)
    make_list(database, "stock", [("sha256", allowed.sha256, "s")], tmp_path, is_allow_list=True)
    with LiveIndex.open(database, index_dir) as live:
        narrowed = Matcher(live, only_lists=["bank"])
        assert [m.list for m in narrowed.match(listed)] == ["bank"]
        screening = narrowed.screen(allowed)
        assert screening.matches == [] and [m.list for m in screening.suppressed_by] == ["stock"]


GUARD = FloodGuardSettings(threshold=2, min_matches=3, baseline_hours=24, min_history_hours=0)


def test_a_surging_entry_becomes_suspect_and_keeps_matching(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    # Live screenings count their matches; an entry that suddenly matches far more than
    # usual (a colliding or poisoned hash) becomes suspect and goes on matching, flagged.
    photo = fingerprint(corpus_images[5])
    make_list(database, "bank", [("sha256", photo.sha256, "entry-1")], tmp_path)
    matcher = Matcher(
        LiveIndex.open(database, index_dir), flood_guard=GUARD, count_for_flood_guard=True
    )
    outcomes = [matcher.screen(photo) for _ in range(5)]
    assert [len(o.matches) for o in outcomes] == [1, 1, 1, 1, 1]
    assert [len(o.suspected) for o in outcomes] == [0, 0, 0, 1, 0]
    assert outcomes[3].suspected[0].list_name == "bank"
    # The match that tipped it over already carries the flag, and so do later ones.
    assert [o.matches[0].suspect for o in outcomes] == [False, False, False, True, True]
    assert outcomes[4].matches[0].to_dict()["suspect"] is True
    matcher.live.close()
    with database.transaction() as session:
        entry = session.scalars(select(ListEntry)).one()
        assert entry.status is EntryStatus.ACTIVE
        assert entry.match_count == 5


def test_backlog_matching_never_feeds_the_flood_guard(
    database: Database, index_dir: Path, tmp_path: Path, corpus_images: list[Path]
) -> None:
    # A scan of 60 copies is a backlog, not a surge of uploads: counted, it would stop a
    # listed picture from matching (or flag it) for everybody.
    photo = fingerprint(corpus_images[5])
    make_list(database, "bank", [("sha256", photo.sha256, "entry-1")], tmp_path)
    matcher = Matcher(LiveIndex.open(database, index_dir), flood_guard=GUARD)
    outcomes = [matcher.screen(photo) for _ in range(60)]
    assert all(len(o.matches) == 1 and not o.matches[0].suspect for o in outcomes)
    assert not any(o.suspected for o in outcomes)
    matcher.live.close()
    with database.transaction() as session:
        assert session.scalars(select(ListEntry)).one().match_count == 0
        assert session.scalars(select(MatchStat)).all() == []
