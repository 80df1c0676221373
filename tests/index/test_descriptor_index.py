"""The descriptor index: exact cosine search equals brute force, removals stay removed,
a reload equals what was saved, and changes apply once, in order, like the PDQ index's."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.index import descriptor_index
from vigil.index.changes import Op
from vigil.index.descriptor_index import DescriptorChange, DescriptorIndex
from vigil.index.errors import CorruptIndexError, InvalidVectorError, SequenceError

DIMENSION = 8


def unit(rng: np.random.Generator, rows: int, dimension: int = DIMENSION) -> np.ndarray:
    vectors = rng.standard_normal((rows, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def brute_force(
    vectors: dict[int, np.ndarray], query: np.ndarray, k: int, threshold: float
) -> list[tuple[int, float]]:
    """The definition: every entry's cosine similarity, best first, lower id on ties."""
    scored = [(entry_id, float(np.dot(v, query))) for entry_id, v in vectors.items()]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return [pair for pair in scored[:k] if pair[1] >= threshold]


def filled(seed: int, count: int, dimension: int = DIMENSION) -> tuple[DescriptorIndex, dict]:
    rng = np.random.default_rng(seed)
    vectors = unit(rng, count, dimension)
    ids = rng.choice(1 << 40, size=count, replace=False).tolist()
    index = DescriptorIndex("copies", dimension)
    index.add(ids, vectors, [entry_id % 7 for entry_id in ids])
    return index, dict(zip(ids, vectors, strict=True))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 300),
    k=st.integers(1, 40),
    threshold=st.floats(-1, 1),
)
def test_search_equals_brute_force(seed: int, count: int, k: int, threshold: float) -> None:
    """Up to float32 rounding (1e-5): the scores are the true cosines, best first, and no
    entry left out scores better than one returned or reaches the threshold unreturned."""
    index, vectors = filled(seed, count)
    queries = unit(np.random.default_rng(seed + 1), 3)
    hits = index.search(queries, k=k, threshold=threshold)
    for q, query in enumerate(queries):
        found = hits_of_query(hits, q)
        truth = dict(brute_force(vectors, query, count, -1.0))
        assert len(found) <= k and len({e for e, _ in found}) == len(found)
        assert all(a[1] >= b[1] for a, b in pairwise(found))
        for entry_id, score in found:
            assert score == pytest.approx(truth[entry_id], abs=1e-5)
            assert score >= threshold
        weakest = found[-1][1] if len(found) == k else -2.0
        for entry_id, score in truth.items():
            if entry_id not in dict(found):
                assert score < threshold + 1e-5 or score <= weakest + 1e-5
        expected = brute_force(vectors, query, k, threshold)
        assert abs(len(found) - len(expected)) <= sum(
            abs(score - threshold) < 1e-5 for score in truth.values()
        )


def hits_of_query(hits: descriptor_index.DescriptorHits, q: int) -> list[tuple[int, float]]:
    mine = hits.query == q
    return list(zip(hits.entry_id[mine].tolist(), hits.score[mine].tolist(), strict=True))


def test_search_runs_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Top-k merged across blocks equals top-k over one block (a 1M-row index uses 16)."""
    index, _ = filled(5, 500)
    queries = unit(np.random.default_rng(6), 4)
    whole = index.search(queries, k=25)
    monkeypatch.setattr(descriptor_index, "BLOCK_ROWS", 7)
    blocks = index.search(queries, k=25)
    assert np.array_equal(whole.entry_id, blocks.entry_id)
    assert np.array_equal(whole.query, blocks.query)
    np.testing.assert_allclose(whole.score, blocks.score, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 120), data=st.data())
def test_a_removed_entry_is_never_found_again(seed: int, count: int, data: st.DataObject) -> None:
    index, vectors = filled(seed, count)
    gone = data.draw(st.lists(st.sampled_from(sorted(vectors)), unique=True))
    assert index.remove([*gone, 1 << 50]) == len(gone)  # an unknown id is ignored
    for entry_id in gone:
        hits = index.search(vectors[entry_id], k=count)  # its own vector: score 1 if present
        assert entry_id not in hits.entry_id.tolist()
        assert entry_id not in index
    kept = {e: v for e, v in vectors.items() if e not in set(gone)}
    assert len(index) == len(kept)
    for entry_id, vector in kept.items():
        np.testing.assert_allclose(index.vector(entry_id), vector, atol=1e-6)
        assert index.search(vector, k=1).entry_id.tolist() == [entry_id]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(0, 200), dimension=st.integers(1, 40))
def test_a_reload_equals_what_was_saved(
    tmp_path_factory: pytest.TempPathFactory, seed: int, count: int, dimension: int
) -> None:
    index, vectors = (
        filled(seed, count, dimension) if count else (DescriptorIndex("copies", dimension), {})
    )
    index.seq = seed % 1000
    path = index.save(tmp_path_factory.mktemp("saved") / "copies.vdi")
    again = DescriptorIndex.load(path, signal="copies", dimension=dimension)
    assert (again.signal, again.dimension, again.seq, len(again)) == (
        "copies",
        dimension,
        index.seq,
        count,
    )
    assert sorted(again.entry_ids.tolist()) == sorted(vectors)
    if count:
        queries = unit(np.random.default_rng(seed), 3, dimension)
        before, after = index.search(queries, k=10), again.search(queries, k=10)
        assert np.array_equal(before.entry_id, after.entry_id)
        assert np.array_equal(before.list_id, after.list_id)
        assert np.array_equal(before.score, after.score)


def test_changes_apply_once_in_order_and_give_the_version() -> None:
    rng = np.random.default_rng(1)
    a, b, c = unit(rng, 3)
    index = DescriptorIndex("copies", DIMENSION)
    changes = [
        DescriptorChange.add(1, 10, 1, a),
        DescriptorChange.add(2, 11, 1, b),
        DescriptorChange.remove(3, 10),
        DescriptorChange.add(4, 11, 2, c),  # an upsert: entry 11 now holds c, list 2
    ]
    assert index.apply(changes) == 4
    assert index.seq == 4 and len(index) == 1
    assert index.apply(changes) == 0  # a replay after a restart changes nothing
    np.testing.assert_allclose(index.vector(11), c, atol=1e-6)
    assert index.search(c, k=1).list_id.tolist() == [2]
    assert index.apply([], through=9) == 0 and index.seq == 9  # a MARK-only feed
    assert index.apply([DescriptorChange.add(5, 12, 1, a)]) == 0  # older than the version
    with pytest.raises(SequenceError):
        index.apply([DescriptorChange.remove(12, 11), DescriptorChange.remove(11, 11)])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 15)), min_size=1, max_size=60),
    split=st.integers(0, 60),
)
def test_deltas_after_a_saved_version_give_the_same_index_as_all_changes(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    ops: list[tuple[bool, int]],
    split: int,
) -> None:
    """A process that saved at some version and applies only what came after ends where a
    process that applied everything ends: the freshness contract of the PDQ index."""
    vectors = unit(np.random.default_rng(seed), len(ops))
    changes = [
        DescriptorChange.add(seq, entry, entry % 3, vectors[seq - 1])
        if adding
        else DescriptorChange.remove(seq, entry)
        for seq, (adding, entry) in enumerate(ops, start=1)
    ]
    everything = DescriptorIndex("copies", DIMENSION)
    everything.apply(changes)
    early = DescriptorIndex("copies", DIMENSION)
    early.apply(changes[:split])
    path = early.save(tmp_path_factory.mktemp("delta") / "copies.vdi")
    resumed = DescriptorIndex.load(path)
    resumed.apply([c for c in changes if c.seq > resumed.seq])  # what the feed gives after it
    assert resumed.seq == everything.seq == len(ops)
    assert sorted(resumed.entry_ids.tolist()) == sorted(everything.entry_ids.tolist())
    for entry_id in everything.entry_ids.tolist():
        assert np.array_equal(resumed.vector(entry_id), everything.vector(entry_id))


def test_match_names_the_signal_the_variant_and_the_score() -> None:
    rng = np.random.default_rng(2)
    listed, other = unit(rng, 2)
    index = DescriptorIndex("copy-model", DIMENSION)
    index.add([42, 43], np.stack([listed, other]), [5, 6])
    nearly = listed + 0.05 * unit(rng, 1)[0]
    matches = index.match({"original": nearly, "crop-centre": listed}, threshold=0.9)
    assert len(matches) == 1
    (match,) = matches
    assert (match.signal, match.variant, match.entry_id, match.list_id) == (
        "copy-model",
        "crop-centre",
        42,
        5,
    )
    assert match.score == pytest.approx(1.0, abs=1e-5)
    assert match.to_dict() == {
        "signal": "copy-model",
        "variant": "crop-centre",
        "entry_id": 42,
        "list_id": 5,
        "score": 1.0,
        "threshold": 0.9,
    }
    assert index.match({"original": -listed}, threshold=0.9) == []
    assert index.match({}, threshold=0.9) == []


@pytest.mark.parametrize(
    "vector",
    [np.zeros(DIMENSION), np.full(DIMENSION, np.nan), np.full(DIMENSION, np.inf), np.ones(5)],
    ids=["zero", "nan", "inf", "short"],
)
def test_bad_vectors_are_refused_and_leave_the_index_unchanged(vector: np.ndarray) -> None:
    index, _ = filled(3, 10)
    with pytest.raises(InvalidVectorError):
        index.add([1], vector)
    with pytest.raises(InvalidVectorError):
        index.search(vector)
    with pytest.raises(InvalidVectorError):
        index.apply(
            [DescriptorChange.remove(1, index.entry_ids[0]), DescriptorChange.add(2, 7, 0, vector)]
        )
    assert len(index) == 10 and index.seq == 0


def test_vectors_are_stored_at_unit_length() -> None:
    index = DescriptorIndex("copies", 2)
    index.add([1], [[3.0, 4.0]])
    np.testing.assert_allclose(index.vector(1), [0.6, 0.8], atol=1e-7)


def test_bad_ids_and_arguments_are_refused() -> None:
    index = DescriptorIndex("copies", DIMENSION)
    one = unit(np.random.default_rng(0), 1)
    with pytest.raises(ValueError, match="entry id"):
        index.add([-1], one)
    with pytest.raises(ValueError, match="list id"):
        index.add([1], one, [1 << 40])
    with pytest.raises(ValueError, match="differ in number"):
        index.add([1, 2], one)
    with pytest.raises(ValueError, match="k must"):
        index.search(one, k=0)
    with pytest.raises(ValueError):
        DescriptorIndex("copies", 0)
    with pytest.raises(ValueError):
        DescriptorChange(1, Op.ADD, 1)
    assert len(index.search(one)) == 0


def test_a_damaged_file_is_never_searched(tmp_path: Path) -> None:
    index, _ = filled(4, 50)
    path = index.save(tmp_path / "copies.vdi")
    good = path.read_bytes()
    for damaged in (
        good[:-1],  # cut short
        good + b"\x00",  # too long
        good[:100] + bytes([good[100] ^ 1]) + good[101:],  # a flipped bit in the entry ids
        b"NOTANIDX" + good[8:],
        b"",
    ):
        path.write_bytes(damaged)
        with pytest.raises(CorruptIndexError):
            DescriptorIndex.load(path)


def test_a_file_of_another_descriptor_or_model_is_refused(tmp_path: Path) -> None:
    index = DescriptorIndex("copies", DIMENSION, version="onnx/sha256:ab/cd")
    index.add([1], unit(np.random.default_rng(0), 1))
    path = index.save(tmp_path / "copies.vdi")
    with pytest.raises(CorruptIndexError, match="holds descriptor 'copies', not 'other'"):
        DescriptorIndex.load(path, signal="other")
    with pytest.raises(CorruptIndexError, match="holds dimension 8, not 64"):
        DescriptorIndex.load(path, dimension=64)
    with pytest.raises(CorruptIndexError, match="holds version 'onnx/sha256:ab/cd', not 'x'"):
        DescriptorIndex.load(path, version="x")
    same = DescriptorIndex.load(path, signal="copies", dimension=8, version="onnx/sha256:ab/cd")
    assert same.version == "onnx/sha256:ab/cd" and len(same) == 1


def test_a_failed_save_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _ = filled(4, 5)
    path = index.save(tmp_path / "copies.vdi")
    before = path.read_bytes()
    index.add([99], unit(np.random.default_rng(9), 1))

    def broken(out: object, digest: object, part: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(descriptor_index, "_write", broken)
    with pytest.raises(OSError, match="disk full"):
        index.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["copies.vdi"]  # no temporary left


def test_an_id_given_twice_in_one_add_keeps_the_last() -> None:
    first, second, other = unit(np.random.default_rng(3), 3)
    index = DescriptorIndex("copies", DIMENSION)
    index.add([5, 6, 5], np.stack([first, other, second]), [1, 2, 3])
    assert len(index) == 2
    np.testing.assert_allclose(index.vector(5), second, atol=1e-6)
    assert index.search(second, k=1).list_id.tolist() == [3]
