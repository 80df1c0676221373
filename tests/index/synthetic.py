"""Random PDQ-shaped data for the index tests: random 256-bit hashes only, never media."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vigil.index.codes import row_distances

Words = npt.NDArray[np.uint64]


def random_words(rng: np.random.Generator, count: int) -> Words:
    return rng.integers(0, 2**64, size=(count, 4), dtype=np.uint64)


def flipped(rng: np.random.Generator, words: Words, bits: npt.ArrayLike) -> Words:
    """Each row with exactly ``bits[i]`` distinct bits flipped."""
    out = np.array(words, copy=True)
    for i, k in enumerate(np.broadcast_to(np.asarray(bits), (len(out),)).tolist()):
        for bit in rng.choice(256, size=int(k), replace=False).tolist():
            out[i, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def clustered_words(rng: np.random.Generator, count: int) -> Words:
    """Families of ten near-duplicates (2-20 bits from a centre) and a dense crowd of 5%
    within 25 bits of three centres: heavy buckets on every substring."""
    crowd = count // 20
    centres = random_words(rng, (count - crowd) // 10 + 1)
    members = flipped(
        rng, centres[np.arange(count - crowd) // 10], rng.integers(2, 21, count - crowd)
    )
    dense = flipped(
        rng, random_words(rng, 3)[rng.integers(0, 3, crowd)], rng.integers(1, 26, crowd)
    )
    return np.concatenate([members, dense])[rng.permutation(count)]


def brute_force(data: Words, queries: Words, radius: int) -> set[tuple[int, int, int]]:
    """(query, row, distance) of every pair within ``radius``."""
    found = set()
    for q, query in enumerate(queries):
        distance = row_distances(data ^ query)
        for row in np.flatnonzero(distance <= radius).tolist():
            found.add((q, row, int(distance[row])))
    return found


def queries_near(rng: np.random.Generator, data: Words, count: int, max_bits: int) -> Words:
    rows = rng.integers(0, len(data), count)
    near = flipped(rng, data[rows], rng.integers(0, max_bits + 1, count))
    return np.concatenate([near, random_words(rng, count // 4)])
