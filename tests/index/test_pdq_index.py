"""The mutable PDQ index: per-list distances, query variants, additions and removals that
take effect on the next lookup, compaction."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.index.synthetic import brute_force, flipped, random_words
from vigil.index import pdq_index, plan
from vigil.index.codes import words_hex
from vigil.index.distances import ListDistances
from vigil.index.errors import InvalidHashError
from vigil.index.pdq_index import PdqIndex
from vigil.index.photo_match import best_variants


@pytest.fixture(scope="module")
def monkeypatch_pending() -> Iterator[None]:
    """Small limits, so even small segments get tables and changes go through delta
    segments: every path of the index runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdq_index, "PENDING_LIMIT", 100)
        patch.setattr(plan, "MIN_TABLE_ROWS", 50)
        patch.setattr(plan, "SCAN_NS", 1e6)
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20)


@pytest.fixture
def listed(rng: np.random.Generator) -> np.ndarray:
    return random_words(rng, 20_000)


def build(listed: np.ndarray, lists: np.ndarray | int = 0) -> PdqIndex:
    return PdqIndex.build(listed, np.arange(len(listed)) + 1000, lists)


def test_hex_and_array_queries_agree(listed: np.ndarray) -> None:
    index = build(listed)
    by_hex = index.search(words_hex(listed[:3]))
    by_bytes = index.search(listed[:3].view(np.uint8).reshape(-1, 32))
    assert by_hex.entry_id.tolist() == by_bytes.entry_id.tolist() == [1000, 1001, 1002]


def test_each_list_has_its_own_distance(rng, listed: np.ndarray) -> None:
    index = build(listed, np.arange(len(listed)) % 3)
    queries = flipped(rng, listed[:300], 12)  # 12 bits from the listed row
    strict = ListDistances.of({0: 10}, default=31)
    matches = index.search(queries, strict)
    lists_hit = set(matches.list_id.tolist())
    assert lists_hit == {1, 2}  # list 0 accepts only 10 bits
    only_two = index.search(queries, ListDistances.only({2: 31}))
    assert set(only_two.list_id.tolist()) == {2}
    assert len(only_two) == 100


def test_matches_equal_brute_force_with_list_limits(rng, listed: np.ndarray) -> None:
    lists = np.arange(len(listed)) % 4
    index = build(listed, lists)
    queries = flipped(rng, listed[rng.integers(0, len(listed), 100)], rng.integers(0, 40, 100))
    limits = {0: 0, 1: 15, 2: 31, 3: 40}
    got = index.search(queries, ListDistances.only(limits))
    expected = {
        (q, r + 1000, d)
        for q, r, d in brute_force(listed, queries, 40)
        if d <= limits[int(lists[r])]
    }
    assert (
        set(zip(got.query.tolist(), got.entry_id.tolist(), got.distance.tolist(), strict=True))
        == expected
    )


def test_results_sorted_by_query_then_distance(rng, listed: np.ndarray) -> None:
    listed[100:110] = flipped(rng, np.repeat(listed[99:100], 10, axis=0), np.arange(10))
    matches = build(listed).search(listed[[500, 99]])
    assert matches.query.tolist() == [0] + [1] * 11
    distances = matches.distance.tolist()[1:]
    assert distances == sorted(distances) and distances[0] == 0


def test_variant_that_matched_is_reported(rng, listed: np.ndarray) -> None:
    index = build(listed)
    variants = {
        "original": words_hex(random_words(rng, 1))[0],
        "rotate90": words_hex(flipped(rng, listed[7:8], 9))[0],
        "flipx": words_hex(flipped(rng, listed[7:8], 3))[0],
        "rotate180": words_hex(listed[8:9])[0],
    }
    names = list(variants)
    best = best_variants(index.search(list(variants.values())), names)
    assert [(m.entry_id, m.variant, m.distance) for m in best] == [
        (1008, "rotate180", 0),
        (1007, "flipx", 3),
    ]


def test_additions_and_removals_take_effect_on_next_lookup(rng, listed: np.ndarray) -> None:
    index = build(listed)
    fresh = random_words(rng, 3)
    assert len(index.search(fresh)) == 0
    index.add(fresh, [1, 2, 3], 5)
    assert index.search(fresh).entry_id.tolist() == [1, 2, 3]
    index.remove([2, 1000])  # one added row, one base row
    assert index.search(fresh).entry_id.tolist() == [1, 3]
    assert len(index.search(listed[:1])) == 0
    assert len(index) == len(listed) - 1 + 2
    index.add(listed[:1], [1000], 0)  # re-enabled
    assert index.search(listed[:1]).entry_id.tolist() == [1000]


def test_re_adding_an_entry_replaces_its_hash(rng, listed: np.ndarray) -> None:
    index = build(listed)
    moved = random_words(rng, 1)
    index.add(moved, [1005], 0)
    assert len(index.search(listed[5:6])) == 0
    assert index.search(moved).entry_id.tolist() == [1005]


def test_delta_rebuilds_its_tables_past_the_pending_limit(rng, listed, monkeypatch) -> None:
    monkeypatch.setattr(pdq_index, "PENDING_LIMIT", 500)
    index = build(listed)
    added = random_words(rng, 12_000)
    for start in range(0, len(added), 1000):
        index.add(added[start : start + 1000], np.arange(start, start + 1000) + 10**6, 1)
    assert index._delta.indexed is not None and index._delta.indexed.tables is not None
    index.remove([10**6 + 5])
    queries = flipped(rng, added[::100], 20)
    got = index.search(queries)
    expected = {(q, r + 10**6) for q, r, _ in brute_force(added, queries, 31) if r != 5}
    assert set(zip(got.query.tolist(), got.entry_id.tolist(), strict=True)) == expected


def test_compaction_keeps_exactly_the_live_rows(rng, listed: np.ndarray) -> None:
    index = build(listed)
    index.add(random_words(rng, 50), np.arange(50) + 10**6, 2)
    index.remove(np.arange(1000, 1100))
    compact = index.compacted()
    assert len(compact) == len(index) == len(listed) - 100 + 50
    assert compact.delta_size == 0
    queries = np.concatenate([listed[:200], index.live_rows().hashes[-50:]])
    before, after = index.search(queries), compact.search(queries)
    assert before.entry_id.tolist() == after.entry_id.tolist()


def test_timed_rows_report_frame_times(rng) -> None:
    frames = random_words(rng, 6)
    index = PdqIndex.build(frames, [7, 7, 7, 8, 8, 8], 1, times=[0, 1, 2, 0, 1, 2])
    found = index.search(frames[[4]])
    assert found.entry_id.tolist() == [8] and found.time.tolist() == [1.0]
    assert index.row_counts([7, 8, 9]) == {7: 3, 8: 3}


def test_bad_hashes_are_refused(listed: np.ndarray) -> None:
    index = build(listed)
    with pytest.raises(InvalidHashError):
        index.search("abc")
    with pytest.raises(InvalidHashError):
        index.search("z" * 64)
    with pytest.raises(ValueError):
        ListDistances.of({1: 300})


OPS = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "compact"]), st.integers(0, 2**32 - 1)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=20, deadline=None)
@given(ops=OPS)
def test_any_sequence_of_changes_matches_a_plain_model(ops, monkeypatch_pending) -> None:
    """Adds (some replacing earlier entries), removals and compactions in any order give
    the same lookups as brute force over what should be live."""
    rng = np.random.default_rng(len(ops))
    index = PdqIndex()
    live: dict[int, tuple[np.ndarray, int]] = {}
    for op, seed in ops:
        local = np.random.default_rng(seed)
        if op == "add":
            ids = local.integers(0, 400, 150)
            ids = np.unique(ids)
            words = random_words(local, len(ids))
            near = [i for i in ids.tolist() if i in live][:5]
            for k, entry in enumerate(near):  # replaced entries stay near their old hash
                words[k] = flipped(local, live[entry][0][None, :], 4)[0]
            lists = local.integers(0, 3, len(ids))
            index.add(words, ids, lists)
            live.update({int(e): (w, int(li)) for e, w, li in zip(ids, words, lists, strict=True)})
        elif op == "remove":
            gone = local.integers(0, 400, 60)
            index.remove(gone)
            for entry in gone.tolist():
                live.pop(entry, None)
        else:
            index = index.compacted()
    assert len(index) == len(live)
    if not live:
        return
    entries = np.array(sorted(live), dtype=np.uint64)
    stored = np.array([live[int(e)][0] for e in entries])
    queries = flipped(rng, stored[rng.integers(0, len(stored), 30)], rng.integers(0, 35, 30))
    got = index.search(queries)
    expected = {(q, int(entries[r]), d) for q, r, d in brute_force(stored, queries, 31)}
    assert (
        set(zip(got.query.tolist(), got.entry_id.tolist(), got.distance.tolist(), strict=True))
        == expected
    )
