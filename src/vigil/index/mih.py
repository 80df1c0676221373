"""Multi-index hashing tables over one segment's hashes: building them, and turning query
hashes into candidate rows.

Each table is a CSR bucket list over one substring: bucket k's rows sit in ``order`` from
``block_starts[k >> 8] + bucket_offsets[k]`` to the same for k + 1. Splitting the start into
a per-256-bucket base (small, stays in cache) and a 16-bit offset halves the largest array,
which pays for 23-bit substrings (fewer candidates) within 1 GiB at 10 million rows; offsets
widen to 32 bits only if a block of buckets holds 65,536 rows or more (pathological
duplicates). All tables share the arrays, so a batch of queries is probed with a handful of
NumPy calls whatever the number of tables.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from vigil.index.codes import WORDS, Words
from vigil.index.plan import Plan, Table, flip_masks

# Candidates verified per batch (about 100 bytes of temporaries each): a few MiB that stay
# in cache and in the allocator's free lists (see allocator.py), however large the result.
MAX_CANDIDATES = 1 << 16
U32_LIMIT = 1 << 32
BLOCK_BITS = 8  # buckets per block_starts entry: 2^8

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class MihTables:
    plan: Plan
    block_starts: npt.NDArray[np.unsignedinteger]  # start of every 256th bucket in ``order``
    bucket_offsets: npt.NDArray[np.unsignedinteger]  # (buckets + 1,) start - its block's start
    order: npt.NDArray[np.uint32]  # rows of table t sorted by key, at [t * rows, (t+1) * rows)

    def starts(self, buckets: npt.NDArray[np.uint32]) -> npt.NDArray[np.unsignedinteger]:
        """Where each bucket's rows start in ``order``."""
        # ndarray.take, not np.take: the wrapper costs a microsecond a call on small batches.
        base = self.block_starts.take(buckets >> np.uint32(BLOCK_BITS))
        base += self.bucket_offsets.take(buckets)
        return base


def starts_dtype(plan: Plan) -> type[np.unsignedinteger]:
    return np.uint32 if len(plan.tables) * plan.rows < U32_LIMIT else np.uint64


def build_tables(words: Words, plan: Plan) -> MihTables:
    rows = plan.rows
    if rows >= U32_LIMIT:
        raise ValueError("a segment cannot hold 2**32 rows or more")
    blocks = np.empty((plan.buckets >> BLOCK_BITS) + 1, dtype=starts_dtype(plan))
    offsets = np.zeros(plan.buckets + 1, dtype=np.uint32)
    order = np.empty(len(plan.tables) * rows, dtype=np.uint32)
    for t, table in enumerate(plan.tables):
        keys = substring(words, table)
        _fill_buckets(keys, table, t * rows, blocks, offsets)
        order[t * rows : (t + 1) * rows] = _rows_by_key(keys)
    blocks[-1] = len(plan.tables) * rows  # the end of the last bucket
    if int(offsets.max(initial=0)) <= 0xFFFF:
        offsets = offsets.astype(np.uint16)
    return MihTables(plan, blocks, offsets, order)


def _fill_buckets(
    keys: npt.NDArray[np.uint32],
    table: Table,
    first_row: int,
    blocks: npt.NDArray[np.unsignedinteger],
    offsets: npt.NDArray[np.uint32],
) -> None:
    """Write one table's bucket starts as block bases plus offsets."""
    starts = np.zeros(1 << table.width, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=1 << table.width)[:-1], out=starts[1:])
    starts += first_row
    block_part = starts[:: 1 << BLOCK_BITS]
    first_block = table.base >> BLOCK_BITS
    blocks[first_block : first_block + len(block_part)] = block_part
    offsets[table.base : table.base + len(starts)] = starts - np.repeat(block_part, 1 << BLOCK_BITS)


def _rows_by_key(keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    # Sorting (key, row) pairs packed in one uint64 is several times faster than argsort.
    packed = keys.astype(np.uint64) << np.uint64(32)
    packed |= np.arange(len(keys), dtype=np.uint64)
    packed.sort()
    return _low_halves(packed)


def _low_halves(packed: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    if sys.byteorder == "little":
        return packed.view(np.uint32)[0::2]
    return (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def substring(words: Words, table: Table) -> npt.NDArray[np.uint32]:
    """Bits [start, start + width) of every row, as one integer."""
    word, shift = divmod(table.start, 64)
    value = words[:, word] >> np.uint64(shift)
    if shift + table.width > 64:
        value |= words[:, word + 1] << np.uint64(64 - shift)
    return (value & np.uint64((1 << table.width) - 1)).astype(np.uint32)


@dataclass(frozen=True, slots=True)
class _KeyLayout:
    word: IntArray
    next_word: IntArray
    shift: npt.NDArray[np.uint64]
    mask: npt.NDArray[np.uint64]
    base: npt.NDArray[np.uint64]


@lru_cache(maxsize=64)
def _key_layout(plan: Plan) -> _KeyLayout:
    starts = np.array([t.start for t in plan.tables])
    return _KeyLayout(
        word=starts // 64,
        next_word=np.minimum(starts // 64 + 1, WORDS - 1),
        shift=(starts % 64).astype(np.uint64),
        mask=np.array([(1 << t.width) - 1 for t in plan.tables], dtype=np.uint64),
        base=np.array([t.base for t in plan.tables], dtype=np.uint64),
    )


def table_keys(queries: Words, plan: Plan) -> npt.NDArray[np.uint32]:
    """(queries, tables) bucket numbers in the concatenated offsets, all tables at once."""
    layout = _key_layout(plan)
    low = queries[:, layout.word] >> layout.shift
    # Two shifts so a zero shift moves the next word out entirely (x << 64 is undefined);
    # bits that do not cross into the next word land above the mask.
    high = (queries[:, layout.next_word] << np.uint64(1)) << (np.uint64(63) - layout.shift)
    keys = (low | high) & layout.mask
    keys |= layout.base  # bases are multiples of the table size: OR is addition here
    return keys.astype(np.uint32)  # 9 tables of 28 bits, the most buckets, still fit


@lru_cache(maxsize=256)
def probe_template(plan: Plan, distance: int) -> tuple[IntArray, npt.NDArray[np.uint32]]:
    """For every probe of one query: which table, and which XOR mask to apply to its key."""
    tables, masks = [], []
    for t, (table, radius) in enumerate(zip(plan.tables, plan.radii(distance), strict=True)):
        if radius < 0:
            continue
        flips = flip_masks(table.width, radius)
        tables.append(np.full(len(flips), t, dtype=np.intp))
        masks.append(flips)
    return np.concatenate(tables), np.concatenate(masks)


def candidates(
    tables: MihTables, queries: Words, distance: int
) -> Iterator[tuple[IntArray, npt.NDArray[np.uint32]]]:
    """(query index, row) pairs to verify, in batches of at most MAX_CANDIDATES.

    A row within ``distance`` of a query appears at least once; rows near the query on
    several substrings appear once per table.
    """
    probe_tables, probe_masks = probe_template(tables.plan, distance)
    probes = table_keys(queries, tables.plan)[:, probe_tables]
    probes ^= probe_masks
    flat = probes.ravel()
    starts = tables.starts(flat)
    counts = tables.starts(flat + np.uint32(1))
    counts -= starts
    ends = np.cumsum(counts, dtype=np.intp)
    total = int(ends[-1]) if len(ends) else 0
    if total <= MAX_CANDIDATES:
        per_query = counts.reshape(len(queries), -1).sum(axis=1, dtype=np.intp)
        query_of = np.repeat(np.arange(len(queries)), per_query)
        yield query_of, _rows(tables, starts, counts, ends - counts, total)
        return
    for first in range(0, total, MAX_CANDIDATES):
        yield _slice(
            tables,
            starts,
            counts,
            ends,
            first,
            min(total, first + MAX_CANDIDATES),
            len(probe_masks),
        )


_COUNTING = np.arange(MAX_CANDIDATES, dtype=np.intp)


def _rows(
    tables: MihTables,
    starts: npt.NDArray[np.integer],
    counts: npt.NDArray[np.integer],
    before: IntArray,
    total: int,
) -> npt.NDArray[np.uint32]:
    # Candidate k of a probe sits at starts[probe] + (k - candidates before the probe).
    positions = np.repeat(starts - before, counts)
    positions += _COUNTING[:total] if total <= len(_COUNTING) else np.arange(total)
    return tables.order.take(positions)


def _slice(
    tables: MihTables,
    starts: npt.NDArray[np.unsignedinteger],
    counts: npt.NDArray[np.unsignedinteger],
    ends: IntArray,
    first: int,
    stop: int,
    probes_per_query: int,
) -> tuple[IntArray, npt.NDArray[np.uint32]]:
    """Candidates [first, stop) of the whole batch, cutting through buckets if needed."""
    lo = int(np.searchsorted(ends, first, side="right"))
    hi = int(np.searchsorted(ends, stop - 1, side="right")) + 1
    part_starts = starts[lo:hi].astype(np.intp)
    part_counts = counts[lo:hi].astype(np.intp)
    skipped = first - (int(ends[lo]) - int(part_counts[0]))
    part_starts[0] += skipped
    part_counts[0] -= skipped
    part_counts[-1] -= int(ends[hi - 1]) - stop
    part_ends = np.cumsum(part_counts)
    rows = _rows(tables, part_starts, part_counts, part_ends - part_counts, stop - first)
    query_of = np.repeat(np.arange(lo, hi) // probes_per_query, part_counts)
    return query_of, rows
