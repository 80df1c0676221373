"""Snapshot + change log: round trips, memory-mapped loading shared by processes, and
corrupt or truncated files refused with a clear error."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tests.index.synthetic import flipped, random_words
from vigil.fingerprint.video import FrameHash
from vigil.index.change_log import HEADER_BYTES, ChangeLog
from vigil.index.changes import Change, Kind
from vigil.index.codes import words_hex
from vigil.index.errors import CorruptIndexError, SequenceError
from vigil.index.match_index import MatchIndex
from vigil.index.snapshot import current, log_path

ROWS = 6000
MD5 = "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def hashes() -> list[str]:
    return words_hex(random_words(np.random.default_rng(30), ROWS))


def history(hashes: list[str], first_seq: int = 1) -> list[Change]:
    changes = [Change.add(first_seq + i, Kind.PDQ, 10 + i, i % 4, h) for i, h in enumerate(hashes)]
    seq = first_seq + len(hashes)
    frames = tuple(FrameHash(float(t), hashes[t], 90) for t in range(20))
    changes += [
        Change.add(seq, Kind.MD5, 1, 2, MD5),
        Change.add_video(seq + 1, 2, 3, frames),
        Change.remove(seq + 2, Kind.PDQ, 15),
    ]
    return changes


def probe(index: MatchIndex, hashes: list[str]) -> tuple[int, list[int], list[int], bool]:
    found = index.search_pdq(hashes[:8])
    return (
        index.seq,
        found.entry_id.tolist(),
        index.lookup_digests(Kind.MD5, MD5).entry_id.tolist(),
        bool(index.match_video([FrameHash(float(t), hashes[t], 90) for t in range(20)])),
    )


@pytest.fixture
def written(tmp_path: Path, hashes: list[str]) -> Path:
    """A snapshot holding the history, and two more changes in its log."""
    with MatchIndex.open(tmp_path, writable=True) as writer:
        writer.apply(history(hashes))
        writer.write_snapshot()
        seq = writer.seq
        writer.apply(
            [Change.remove(seq + 1, Kind.PDQ, 11), Change.add(seq + 2, Kind.PDQ, 99, 1, hashes[2])]
        )
    return tmp_path


def test_round_trip_through_snapshot_and_log(written: Path, hashes: list[str]) -> None:
    memory = MatchIndex()
    memory.apply(history(hashes))
    memory.apply(
        [
            Change.remove(memory.seq + 1, Kind.PDQ, 11),
            Change.add(memory.seq + 2, Kind.PDQ, 99, 1, hashes[2]),
        ]
    )
    loaded = MatchIndex.open(written)
    assert loaded.snapshot_seq == loaded.seq - 2
    assert probe(loaded, hashes) == probe(memory, hashes)
    assert probe(loaded, hashes)[1] == [10, 12, 99, 13, 14, 16, 17]


def test_snapshot_arrays_are_memory_mapped(written: Path) -> None:
    loaded = MatchIndex.open(written)
    assert isinstance(loaded.pdq.base.rows.hashes, np.memmap)
    assert isinstance(loaded.pdq.base.tables.order, np.memmap)
    assert not loaded.pdq.base.rows.hashes.flags.writeable


def _load_in_child(root: str, hashes: list[str]) -> tuple[int, list[int], list[int], bool]:
    return probe(MatchIndex.open(root), hashes)


def test_two_processes_load_the_same_snapshot(written: Path, hashes: list[str]) -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        results = list(pool.map(_load_in_child, [str(written)] * 2, [hashes] * 2))
    assert results[0] == results[1] == probe(MatchIndex.open(written), hashes)


def test_reader_follows_the_writer(tmp_path: Path, hashes: list[str]) -> None:
    with MatchIndex.open(tmp_path, writable=True) as writer:
        reader = MatchIndex.open(tmp_path)
        writer.apply(history(hashes[:50]))
        assert reader.refresh() == writer.seq
        assert reader.search_pdq(hashes[3]).entry_id.tolist() == [13]
        writer.write_snapshot()
        writer.apply([Change.remove(writer.seq + 1, Kind.PDQ, 13)])
        assert reader.refresh() == -1  # picked up the new snapshot and its log
        assert reader.seq == writer.seq
        assert len(reader.search_pdq(hashes[3])) == 0
        with pytest.raises(PermissionError):
            reader.apply([Change.remove(writer.seq + 1, Kind.PDQ, 14)])
        with pytest.raises(PermissionError):
            MatchIndex.open(tmp_path, writable=True)


def test_changes_apply_once_and_in_order(tmp_path: Path, hashes: list[str]) -> None:
    with MatchIndex.open(tmp_path, writable=True) as writer:
        assert writer.apply(history(hashes[:20])) == 23
        assert writer.apply(history(hashes[:20])) == 0  # replayed by the feed: ignored
        with pytest.raises(SequenceError):
            writer.apply([Change.remove(100, Kind.PDQ, 1), Change.remove(99, Kind.PDQ, 2)])
        assert writer.apply([], through=500) == 0  # list changes only: seq still moves
        assert writer.seq == 500
    assert MatchIndex.open(tmp_path).seq == 500


def test_from_changes_folds_the_history(hashes: list[str]) -> None:
    marked = [Change.add(1, Kind.PDQ, 0, 0, hashes[-1]), Change.mark(2)]
    assert MatchIndex.from_changes(marked).search_pdq(hashes[-1]).entry_id.tolist() == [0]
    folded = MatchIndex.from_changes(history(hashes))
    applied = MatchIndex()
    applied.apply(history(hashes))
    assert probe(folded, hashes) == probe(applied, hashes)
    assert folded.pdq.delta_size == 0


def snapshot_file(root: Path, name: str) -> Path:
    snapshot = current(root)
    assert snapshot is not None
    return snapshot / name


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_bit_in_an_array_is_detected(written: Path) -> None:
    path = snapshot_file(written, "pdq.hashes.npy")
    flip_byte(path, path.stat().st_size // 2)
    with pytest.raises(CorruptIndexError, match="checksum mismatch"):
        MatchIndex.open(written)


def test_truncated_array_is_detected_even_without_checksums(written: Path) -> None:
    path = snapshot_file(written, "pdq.order.npy")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptIndexError, match="truncated"):
        MatchIndex.open(written, verify=False)


def test_missing_array_or_edited_manifest_is_detected(written: Path) -> None:
    manifest = snapshot_file(written, "manifest.json")
    manifest.write_text(manifest.read_text().replace('"seq": ', '"seq": 1'))
    with pytest.raises(CorruptIndexError, match="manifest"):
        MatchIndex.open(written)
    snapshot_file(written, "md5.prefix.npy").unlink()
    with pytest.raises(CorruptIndexError):
        MatchIndex.open(written)


def test_corrupt_log_record_is_detected(written: Path) -> None:
    snapshot = MatchIndex.open(written).snapshot_seq
    flip_byte(log_path(written, snapshot), HEADER_BYTES + 12)
    with pytest.raises(CorruptIndexError, match="checksum") as error:
        MatchIndex.open(written)
    assert error.value.last_good_seq == snapshot


def test_torn_log_tail(written: Path) -> None:
    full = MatchIndex.open(written).seq
    log = log_path(written, MatchIndex.open(written).snapshot_seq)
    log.write_bytes(log.read_bytes()[:-3])
    assert MatchIndex.open(written).seq == full - 1  # a reader waits for the rest
    with pytest.raises(CorruptIndexError, match="truncated") as error:
        MatchIndex.open(written, writable=True)
    assert error.value.last_good_seq == full - 1
    with MatchIndex.open(written, writable=True, repair=True) as writer:
        assert writer.seq == full - 1
        assert writer.apply([Change.remove(full, Kind.PDQ, 12)]) == 1
    assert ChangeLog(log).read().changes[-1].seq == full


def test_bad_log_header_or_pointer(written: Path) -> None:
    log = log_path(written, MatchIndex.open(written).snapshot_seq)
    flip_byte(log, 3)
    with pytest.raises(CorruptIndexError, match="header"):
        MatchIndex.open(written)
    (written / "CURRENT").write_text("../elsewhere\n")
    with pytest.raises(CorruptIndexError):
        MatchIndex.open(written)


def test_near_duplicates_survive_the_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    base = random_words(rng, 5000)
    near = words_hex(flipped(rng, base[:20], 25))
    index = MatchIndex.from_changes(
        [Change.add(i + 1, Kind.PDQ, i, 0, h) for i, h in enumerate(words_hex(base))]
    )
    index.write_snapshot(tmp_path)
    assert MatchIndex.open(tmp_path).search_pdq(near).entry_id.tolist() == list(range(20))
