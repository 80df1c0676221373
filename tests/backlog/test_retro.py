"""Retroactive matching on SQLite and PostgreSQL: stored fingerprints of benign corpus images
(and a generated clip) against what the lists gained since a checkpoint, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.screening.listed import (
    fingerprint,
    flipped_bits,
    list_video,
    make_clip,
    make_list,
    rotated_copy,
)
from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.fingerprint_store import FingerprintStore
from vigil.screening.backlog.objects import ObjectError, ObjectRef
from vigil.screening.backlog.retro import RetroMatch, RetroResult, job_stores, run_retro
from vigil.screening.backlog.scan_job import job_store_dir
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.lists.catalogue import get_list, set_list_enabled, update_list_settings
from vigil.store.lists.entry_status import disable_entry
from vigil.store.lists.manual_entries import NewSignal, add_entries
from vigil.store.models import SignalType


def ref(name: str) -> ObjectRef:
    return ObjectRef("s3", "media", name, "v1", None)


class Backlog:
    """Fingerprints of five corpus images stored in two parts of one job."""

    def __init__(self, corpus: list[Path], folder: Path) -> None:
        self.prints = {f"img{i}": fingerprint(p) for i, p in enumerate(corpus[:4])}
        self.prints["turned"] = fingerprint(rotated_copy(corpus[4], folder / "turned.jpg"))
        self.original = fingerprint(corpus[4])  # listed; the backlog holds it turned
        failed = Fingerprint(path="broken", size=3, md5=self.prints["img2"].md5, error="truncated")
        self.store = FingerprintStore(job_store_dir(folder / "data", 1))
        names = list(self.prints)
        self.store.write_part(1, [(ref(n), self.prints[n]) for n in names[:3]])
        self.store.write_part(
            2,
            [
                *((ref(n), self.prints[n]) for n in names[3:]),
                (ref("broken"), failed),
                (ObjectError("s3", "media", "odd/", "listing refused"), Fingerprint(path="odd/")),
            ],
        )

    def identity(self, name: str) -> str:
        return ref(name).identity


def add(database: Database, list_name: str, *signals: tuple[SignalType, str | None]) -> list[int]:
    with database.transaction(write=True) as session:
        hash_list = get_list(session, list_name)
        wanted = [NewSignal(kind, value or "") for kind, value in signals]
        return add_entries(session, hash_list, wanted, actor="test", reason="test").added


def found(result: RetroResult) -> set[tuple[str, int, str, int | None, str | None]]:
    return {(m.identity, m.entry_id, m.signal_type, m.distance, m.variant) for m in result.matches}


def retro(database: Database, backlog: Backlog, since: int) -> RetroResult:
    return run_retro(database, [backlog.store], since, block_rows=3)


@pytest.fixture
def backlog(corpus_images: list[Path], tmp_path: Path) -> Backlog:
    return Backlog(corpus_images, tmp_path)


def test_only_entries_added_since_the_checkpoint_match(
    database: Database, backlog: Backlog, tmp_path: Path
) -> None:
    img0, img1 = backlog.prints["img0"], backlog.prints["img1"]
    make_list(database, "bank", [("pdq", img0.pdq, "old")], tmp_path)
    first = retro(database, backlog, 0)
    [old] = first.matches
    assert (old.identity, old.signal_type, old.distance) == (backlog.identity("img0"), "pdq", 0)

    img2, img3 = backlog.prints["img2"], backlog.prints["img3"]
    assert (img2.pdq_quality or 0) < 50  # the lists' default minimum quality
    sha, near, turned, _weak = add(
        database,
        "bank",
        (SignalType.SHA256, img1.sha256),
        (SignalType.PDQ, flipped_bits(img3.pdq, 9)),
        (SignalType.PDQ, backlog.original.pdq),
        (SignalType.PDQ, img2.pdq),
    )
    [by_md5] = add(database, "bank", (SignalType.MD5, img2.md5))
    second = retro(database, backlog, first.checkpoint)
    assert second.since == first.checkpoint and second.checkpoint > first.checkpoint
    assert second.entries == 5
    turned_match = next(m for m in second.matches if m.entry_id == turned)
    assert turned_match.variant not in (None, "original") and turned_match.distance is not None
    assert found(second) == {
        (backlog.identity("img1"), sha, "sha256", None, None),
        (backlog.identity("img3"), near, "pdq", 9, "original"),
        (backlog.identity("turned"), turned, "pdq", turned_match.distance, turned_match.variant),
        (backlog.identity("img2"), by_md5, "md5", None, None),
        (backlog.identity("broken"), by_md5, "md5", None, None),  # its digests still count
    }
    assert retro(database, backlog, second.checkpoint).matches == []


def test_removed_entries_and_allow_lists_make_no_match(
    database: Database, backlog: Backlog, tmp_path: Path
) -> None:
    img0 = backlog.prints["img0"]
    make_list(database, "bank", [], tmp_path)
    make_list(database, "allowed", [("pdq", img0.pdq, "known-good")], tmp_path, is_allow_list=True)
    start = retro(database, backlog, 0)
    assert start.matches == []
    [entry] = add(database, "bank", (SignalType.SHA1, img0.sha1))
    with database.transaction(write=True) as session:
        disable_entry(session, entry, actor="test", reason="false positive")
    assert retro(database, backlog, start.checkpoint).matches == []


def test_allow_lists_silence_new_matches_as_live_screening_does(
    database: Database, backlog: Backlog, tmp_path: Path
) -> None:
    img0, img1 = backlog.prints["img0"], backlog.prints["img1"]
    make_list(
        database, "allowed", [("sha256", img0.sha256, "stock photo")], tmp_path, is_allow_list=True
    )
    make_list(database, "bank", [], tmp_path)
    start = retro(database, backlog, 0)
    add(database, "bank", (SignalType.PDQ, img0.pdq), (SignalType.PDQ, img1.pdq))
    plain = retro(database, backlog, start.checkpoint)
    assert {m.identity for m in plain.matches} == {
        backlog.identity("img0"),
        backlog.identity("img1"),
    }
    with LiveIndex.open(database, tmp_path / "index") as live:
        checked = run_retro(database, [backlog.store], start.checkpoint, matcher=Matcher(live))
    assert [m.identity for m in checked.matches] == [backlog.identity("img1")]
    assert [m.identity for m in checked.suppressed] == [backlog.identity("img0")]


def test_each_list_keeps_its_distance_and_minimum_quality(
    database: Database, backlog: Backlog, tmp_path: Path
) -> None:
    img0, img2 = backlog.prints["img0"], backlog.prints["img2"]
    quality = img2.pdq_quality or 0
    far = flipped_bits(img0.pdq, 12)
    make_list(database, "strict", [("pdq", far, "far")], tmp_path, pdq_distance=10)
    make_list(database, "loose", [("pdq", far, "far")], tmp_path, pdq_distance=20)
    make_list(database, "fussy", [("pdq", img2.pdq, "a")], tmp_path, min_quality=quality + 1)
    make_list(database, "lenient", [("pdq", img2.pdq, "b")], tmp_path, min_quality=quality)
    result = retro(database, backlog, 0)
    with database.transaction() as session:
        names = {get_list(session, n).id: n for n in ("strict", "loose", "fussy", "lenient")}
    assert sorted((names[m.list_id], m.identity, m.distance) for m in result.matches) == [
        ("lenient", backlog.identity("img2"), 0),
        ("loose", backlog.identity("img0"), 12),
    ]


def test_a_list_enabled_again_matches_everything_it_holds(
    database: Database, backlog: Backlog, tmp_path: Path
) -> None:
    img0 = backlog.prints["img0"]
    make_list(database, "bank", [("sha256", img0.sha256, "a"), ("pdq", img0.pdq, "b")], tmp_path)
    with database.transaction(write=True) as session:
        set_list_enabled(session, "bank", False, actor="test")
    off = retro(database, backlog, 0)
    assert off.matches == []
    with database.transaction(write=True) as session:
        set_list_enabled(session, "bank", True, actor="test")
    again = retro(database, backlog, off.checkpoint)
    assert {(m.identity, m.signal_type) for m in again.matches} == {
        (backlog.identity("img0"), "sha256"),
        (backlog.identity("img0"), "pdq"),
    }
    with database.transaction(write=True) as session:
        update_list_settings(session, "bank", actor="test", pdq_distance=40)
    wider = retro(database, backlog, again.checkpoint)
    assert {m.signal_type for m in wider.matches} == {"sha256", "pdq"}


def test_stored_videos_match_a_listed_clip(
    database: Database, corpus_images: list[Path], tmp_path: Path
) -> None:
    clip = fingerprint(make_clip(corpus_images[:3], tmp_path / "clip.mp4"))
    other = fingerprint(make_clip(corpus_images[5:8], tmp_path / "other.mp4"))
    store = FingerprintStore(job_store_dir(tmp_path / "data", 4))
    store.write_part(1, [(ref("clip.mp4"), clip), (ref("other.mp4"), other)])
    make_list(database, "videos", [], tmp_path)
    start = run_retro(database, [store], 0)
    entry = list_video(database, "videos", clip, "v-1")
    result = run_retro(database, job_stores(tmp_path / "data"), start.checkpoint)
    assert [(m.identity, m.entry_id, m.signal_type) for m in result.matches] == [
        (ref("clip.mp4").identity, entry, "video_pdq")
    ]


def test_no_stores_and_a_bad_checkpoint(database: Database, tmp_path: Path) -> None:
    assert job_stores(tmp_path / "nowhere") == []
    assert run_retro(database, [], 0).matches == []
    with pytest.raises(ValueError, match="checkpoint"):
        run_retro(database, [], -1)


def test_matches_are_plain_values() -> None:
    match = RetroMatch("s3://b/k#v", 1, 2, "md5")
    assert (match.distance, match.variant) == (None, None)
