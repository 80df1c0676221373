"""The delta join is exact: every way of joining finds the brute force's pairs, no more."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.index.synthetic import brute_force, flipped, random_words
from vigil.index.delta_match import DeltaMatcher, DeltaPairs, Strategy, match_delta

Triples = set[tuple[int, int, int]]


def triples(pairs: DeltaPairs) -> Triples:
    found = set(
        zip(pairs.query.tolist(), pairs.entry.tolist(), pairs.distance.tolist(), strict=True)
    )
    assert len(found) == len(pairs), "a (stored, entry) pair was reported twice"
    return found


def expected(stored: np.ndarray, entries: np.ndarray, radii: np.ndarray) -> Triples:
    """Brute force, with stored rows as the data and entries as queries, per-entry radius."""
    found: Triples = set()
    for entry, radius in enumerate(radii.tolist()):
        near = brute_force(stored, entries[entry : entry + 1], radius)
        found |= {(row, entry, distance) for _, row, distance in near}
    return found


def near_and_far(rng: np.random.Generator, entries: np.ndarray, far: int) -> np.ndarray:
    """Stored rows 0-40 bits from random entries, plus unrelated ones, shuffled."""
    if not len(entries):
        return random_words(rng, far)
    picked = entries[rng.integers(0, len(entries), 3 * len(entries))]
    near = flipped(rng, picked, rng.integers(0, 41, len(picked)))
    stored = np.concatenate([near, random_words(rng, far)])
    return stored[rng.permutation(len(stored))]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    entries=st.integers(0, 40),
    far=st.integers(0, 60),
    radius=st.integers(-1, 64),
    per_entry=st.booleans(),
    block_rows=st.integers(1, 200),
    strategy=st.sampled_from([None, *Strategy]),
)
def test_every_strategy_equals_brute_force(
    seed: int,
    entries: int,
    far: int,
    radius: int,
    per_entry: bool,
    block_rows: int,
    strategy: Strategy | None,
) -> None:
    rng = np.random.default_rng(seed)
    listed = random_words(rng, entries)
    stored = near_and_far(rng, listed, far)
    radii = rng.integers(-1, radius + 1, entries) if per_entry else np.full(entries, radius)
    pairs = match_delta(
        stored, listed, radii if per_entry else radius, block_rows=block_rows, strategy=strategy
    )
    assert triples(pairs) == expected(stored, listed, radii)
    order = np.lexsort((pairs.entry, pairs.query))
    assert np.array_equal(order, np.arange(len(pairs))), "pairs come sorted"


@pytest.mark.parametrize("strategy", list(Strategy))
def test_tables_on_either_side_are_exact(strategy: Strategy) -> None:
    """Sizes where both sides get real multi-index tables (4,096 rows or more)."""
    rng = np.random.default_rng(7)
    listed = random_words(rng, 4500)
    stored = near_and_far(rng, listed[:1500], 1000)
    matcher = DeltaMatcher(listed, 31, strategy=strategy)
    pairs = DeltaPairs.concat(list(matcher.match_blocks([stored[:4200], stored[4200:]])))
    assert triples(pairs) == expected(stored, listed, np.full(len(listed), 31))
    assert len(pairs) > 1000


def test_the_cost_model_picks_the_cheap_side() -> None:
    rng = np.random.default_rng(3)
    few = DeltaMatcher(random_words(rng, 5), 31)
    assert few.strategy_for(4_000_000) is Strategy.SCAN
    delta = DeltaMatcher(random_words(rng, 10_000), 31)
    assert delta.strategy_for(4_000_000) is Strategy.INDEX_STORED
    assert delta.strategy_for(10) in (Strategy.SCAN, Strategy.INDEX_DELTA)


def test_empty_sides_and_extreme_radii() -> None:
    rng = np.random.default_rng(5)
    listed = random_words(rng, 6)
    stored = np.concatenate([listed[:2], random_words(rng, 5)])
    none = np.empty((0, 4), dtype=np.uint64)
    assert len(match_delta(none, listed, 31)) == 0
    assert len(match_delta(stored, none, 31)) == 0
    exact = match_delta(stored, listed, 0)
    assert triples(exact) == {(0, 0, 0), (1, 1, 0)}
    everything = match_delta(stored, listed, 256)
    assert len(everything) == len(stored) * len(listed)
    assert len(match_delta(stored, listed, -1)) == 0


@pytest.mark.parametrize("radius", [257, -2])
def test_radius_outside_the_hash_is_refused(radius: int) -> None:
    words = random_words(np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match="radius"):
        match_delta(words, words, radius)


def test_hashes_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="uint64"):
        match_delta(np.zeros((3, 32), dtype=np.uint8), np.zeros((1, 4), dtype=np.uint64), 31)
