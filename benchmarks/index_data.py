"""Synthetic PDQ data sets for the index benchmark: random 256-bit hashes only.

Uniform: independent random hashes. Clustered, shaped like real hash lists: families of
near-duplicates (a random centre, ~10 members each 2-20 bit toggles away; the centre itself
is not listed) plus one dense cluster of low-detail images, 2% of the rows within 25 bit
toggles of 8 centres. Toggles are drawn with replacement, so a member is at most that many
bits away (a repeated position cancels). Cached as .npy under benchmarks/.cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

CACHE = Path(__file__).resolve().parent / ".cache"
FAMILY_SIZE = 10
FAMILY_TOGGLES = (2, 20)
DENSE_SHARE = 0.02
DENSE_CENTRES = 8
DENSE_TOGGLES = (1, 25)
MISS_SHARE = 0.2  # queries that are fresh random hashes
CHUNK = 1 << 20

Words = npt.NDArray[np.uint64]


def dataset(name: str, size: int, seed: int = 7) -> Words:
    """The data set, memory-mapped from the cache (generated on first use)."""
    path = CACHE / f"{name}-{size}-{seed}.npy"
    if not path.exists():
        rng = np.random.default_rng(seed)
        data, crowd = (
            (uniform(rng, size), np.empty(0, np.int64))
            if name == "uniform"
            else clustered(rng, size)
        )
        CACHE.mkdir(exist_ok=True)
        np.save(path.with_suffix(".crowd.npy"), crowd)
        np.save(path, data)
    return np.load(path, mmap_mode="r")


def crowd_rows(name: str, size: int, seed: int = 7) -> npt.NDArray[np.int64]:
    """Rows of the dense cluster (empty for uniform data)."""
    dataset(name, size, seed)
    return np.load(CACHE / f"{name}-{size}-{seed}.crowd.npy")


def uniform(rng: np.random.Generator, size: int) -> Words:
    return rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64)


def clustered(rng: np.random.Generator, size: int) -> tuple[Words, npt.NDArray[np.int64]]:
    """The data and the rows of its dense cluster."""
    dense = int(size * DENSE_SHARE)
    families = (size - dense + FAMILY_SIZE - 1) // FAMILY_SIZE
    family_centres = uniform(rng, families)
    dense_centres = uniform(rng, DENSE_CENTRES)
    members = family_centres[np.arange(size - dense) // FAMILY_SIZE]
    crowd = dense_centres[rng.integers(0, DENSE_CENTRES, dense)]
    data = np.concatenate([members, crowd])
    toggles = np.concatenate(
        [
            rng.integers(FAMILY_TOGGLES[0], FAMILY_TOGGLES[1] + 1, size - dense),
            rng.integers(DENSE_TOGGLES[0], DENSE_TOGGLES[1] + 1, dense),
        ]
    )
    for start in range(0, size, CHUNK):
        part = slice(start, start + CHUNK)
        data[part] ^= toggle_masks(rng, toggles[part])
    order = rng.permutation(size)
    position = np.empty(size, dtype=np.int64)
    position[order] = np.arange(size)
    return data[order], np.sort(position[size - dense :])


def toggle_masks(rng: np.random.Generator, toggles: npt.NDArray[np.int64]) -> Words:
    """One mask per row with ``toggles[i]`` random bit positions toggled."""
    masks = np.zeros((len(toggles), 4), dtype=np.uint64)
    rows = np.arange(len(toggles))
    for step in range(int(toggles.max(initial=0))):
        active = rows[toggles > step]
        bits = rng.integers(0, 256, len(active))
        masks[active, bits // 64] ^= np.uint64(1) << (bits % 64).astype(np.uint64)
    return masks


def queries(data: Words, count: int, seed: int = 11) -> tuple[Words, npt.NDArray[np.int64]]:
    """Listed rows with exactly 0-31 distinct bits flipped, and MISS_SHARE random hashes;
    returns the hashes and the bits flipped (-1 for a miss)."""
    rng = np.random.default_rng(seed)
    misses = int(count * MISS_SHARE)
    hits = count - misses
    out = np.array(data[np.sort(rng.integers(0, len(data), hits))])
    flips = rng.integers(0, 32, hits)
    for i, k in enumerate(flips):
        for bit in rng.choice(256, size=k, replace=False):
            out[i, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    out = np.concatenate([out, uniform(rng, misses)])
    flips = np.concatenate([flips, np.full(misses, -1)])
    order = rng.permutation(count)
    return out[order], flips[order]
