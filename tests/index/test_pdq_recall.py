"""Exact range search: every row within the distance is found (recall 100% vs brute force)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.index.synthetic import (
    brute_force,
    clustered_words,
    flipped,
    queries_near,
    random_words,
)
from vigil.index import mih
from vigil.index.pdq_segment import PdqRows, PdqSegment
from vigil.index.plan import HASH_BITS, plan_for, table_bytes

RADII = (0, 5, 16, 31, 40)


def segment_of(data: np.ndarray) -> PdqSegment:
    n = len(data)
    return PdqSegment.build(
        PdqRows(data, np.arange(n, dtype=np.uint64), np.zeros(n, dtype=np.uint16))
    )


def found(segment: PdqSegment, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    hits = segment.search(queries, radius)
    triples = set(zip(hits.query.tolist(), hits.row.tolist(), hits.distance.tolist(), strict=True))
    assert len(triples) == len(hits.row), "a (query, row) pair was reported twice"
    return triples


@pytest.fixture(scope="module")
def uniform_case() -> tuple[PdqSegment, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    data = random_words(rng, 50_000)
    return segment_of(data), data, queries_near(rng, data, 150, 40)


@pytest.fixture(scope="module")
def clustered_case() -> tuple[PdqSegment, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    data = clustered_words(rng, 50_000)
    return segment_of(data), data, queries_near(rng, data, 150, 40)


@pytest.mark.parametrize("radius", RADII)
def test_uniform_recall_is_total(uniform_case, radius: int) -> None:
    segment, data, queries = uniform_case
    assert segment.tables is not None and segment.plan.uses_tables(31)
    assert found(segment, queries, radius) == brute_force(data, queries, radius)


@pytest.mark.parametrize("radius", RADII)
def test_clustered_recall_is_total(clustered_case, radius: int) -> None:
    segment, data, queries = clustered_case
    expected = brute_force(data, queries, radius)
    assert found(segment, queries, radius) == expected
    if radius == 31:
        assert len(expected) > 5 * len(queries)  # the crowd really is dense


def test_batches_cut_through_heavy_buckets(clustered_case, monkeypatch) -> None:
    segment, data, queries = clustered_case
    monkeypatch.setattr(mih, "MAX_CANDIDATES", 997)
    assert found(segment, queries, 31) == brute_force(data, queries, 31)


def test_large_radius_falls_back_to_exact_scan(uniform_case) -> None:
    segment, data, queries = uniform_case
    assert not segment.plan.uses_tables(100)
    assert found(segment, queries[:5], 100) == brute_force(data, queries[:5], 100)


def test_duplicate_hashes_all_reported() -> None:
    rng = np.random.default_rng(3)
    data = random_words(rng, 10_000)
    data[5000:5100] = data[7]  # a hundred copies of one hash, as lists have for blank images
    segment = segment_of(data)
    assert found(segment, data[7:8], 0) == {(0, r, 0) for r in [7, *range(5000, 5100)]}


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    radius=st.integers(0, 48),
    size=st.sampled_from([100, 5_000, 9_000]),
)
def test_recall_property(seed: int, radius: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    data = random_words(rng, size)
    near = flipped(rng, data[rng.integers(0, size, 20)], rng.integers(0, radius + 4, 20))
    assert found(segment_of(data), near, radius) == brute_force(data, near, radius)


@pytest.mark.parametrize("rows", [5_000, 50_000, 1_000_000, 10_000_000, 100_000_000])
def test_plan_covers_every_distance(rows: int) -> None:
    plan = plan_for(rows, payload_bytes_per_row=6)
    assert sum(t.width for t in plan.tables) <= HASH_BITS
    starts = [t.start for t in plan.tables]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for distance in (0, 7, 31, 64, 200, 256):
        if not plan.covers(distance):
            assert not plan.uses_tables(distance)
            continue
        radii = plan.radii(distance)
        assert sum(r + 1 for r in radii) >= distance + 1  # the pigeonhole bound


def test_plan_fits_ten_million_rows_in_a_gibibyte() -> None:
    rows = 10_000_000
    plan = plan_for(rows, payload_bytes_per_row=6)
    widths = [t.width for t in plan.tables]
    assert table_bytes(widths, rows) + rows * (32 + 6) <= 1 << 30
    assert len(plan.tables) == 11 and plan.radii(31).count(2) == 10


@pytest.mark.slow
def test_recall_at_a_million_clustered() -> None:
    rng = np.random.default_rng(4)
    data = clustered_words(rng, 1_000_000)
    queries = queries_near(rng, data, 60, 31)
    assert found(segment_of(data), queries, 31) == brute_force(data, queries, 31)
