"""Exact PDQ range join of many stored hashes (a backlog's fingerprints) against a few new
ones (a list delta): every (stored row, entry) pair within the entry's radius.

The stored side is streamed in blocks so memory stays bounded whatever its size. Each block
is joined the cheapest of three ways, by the cost model of vigil.index.plan:

* ``INDEX_STORED``: multi-index hashing tables over the block, probed with the entries.
  At 10,000 entries and millions of stored rows this wins by far: building the tables costs
  about 30 ns a row and table, and 10,000 probes of a 4-million-row segment take about a
  second, while probing tables over the entries with every stored row costs ~7 us a row.
* ``INDEX_DELTA``: tables over the entries (built once), probed with every stored row; a
  linear scan when the entries are too few for tables. Wins for large deltas over small blocks.
* ``SCAN``: every pair compared; wins when the delta is a handful of entries (a reviewer's
  decision), where building tables over the block would cost more than comparing.

All three are exact (the tables' pigeonhole radii guarantee full recall), so the choice is
only about time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from vigil.index.codes import WORDS, Words
from vigil.index.distances import MAX_DISTANCE
from vigil.index.pdq_segment import PdqRows, PdqSegment
from vigil.index.plan import SCAN_NS, Plan, plan_for

# Rows of the stored side joined at once. Tables over a block take ~100 bytes a row
# (plan.BYTES_PER_ROW_BUDGET), so 4 million rows stay under ~450 MiB; bigger blocks amortise
# the entries' probes over more rows but only by a little past this size.
DEFAULT_BLOCK_ROWS = 1 << 22
# Building tables: one sort and one bucket count per table, measured at about 30 ns a row
# and table on the development machine (11 tables over 10 million rows in 3.2 s).
BUILD_NS_PER_TABLE_ROW = 30.0

IntArray = npt.NDArray[np.intp]
Radii = npt.NDArray[np.integer]


class Strategy(StrEnum):
    INDEX_STORED = "index_stored"
    INDEX_DELTA = "index_delta"
    SCAN = "scan"


@dataclass(frozen=True, slots=True)
class DeltaPairs:
    """Pairs within radius, sorted by stored row then entry row."""

    query: IntArray  # stored row (counted over all blocks)
    entry: IntArray  # row of the entries passed in
    distance: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.query)

    @staticmethod
    def empty() -> DeltaPairs:
        return DeltaPairs(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.uint16))

    @staticmethod
    def concat(parts: list[DeltaPairs]) -> DeltaPairs:
        if not parts:
            return DeltaPairs.empty()
        return DeltaPairs(
            np.concatenate([p.query for p in parts]),
            np.concatenate([p.entry for p in parts]),
            np.concatenate([p.distance for p in parts]),
        )


class DeltaMatcher:
    """The entries of one delta with their radii, joined against blocks of stored rows."""

    def __init__(self, entries: Words, radius: int | Radii, *, strategy: Strategy | None = None):
        self.entries = _checked_words(entries)
        self.radii = _radii(radius, len(self.entries))
        self.radius = int(self.radii.max(initial=-1))
        self.forced = strategy
        self._delta_segment: PdqSegment | None = None
        self._delta_plan = _plan(len(self.entries))

    def strategy_for(self, rows: int) -> Strategy:
        """The cheapest way to join a block of ``rows`` stored hashes (module docstring)."""
        if self.forced is not None:
            return self.forced
        costs = {
            Strategy.SCAN: rows * len(self.entries) * SCAN_NS,
            Strategy.INDEX_DELTA: rows * _lookup_ns(self._delta_plan, self.radius),
            Strategy.INDEX_STORED: _build_ns(_plan(rows), rows)
            + len(self.entries) * _lookup_ns(_plan(rows), self.radius),
        }
        return min(costs, key=lambda s: costs[s])

    def match(self, block: Words, first_row: int = 0) -> DeltaPairs:
        """Pairs of one block; ``first_row`` is added to its row numbers."""
        block = _checked_words(block)
        if self.radius < 0 or not len(block) or not len(self.entries):
            return DeltaPairs.empty()
        strategy = self.strategy_for(len(block))
        if strategy is Strategy.INDEX_STORED:
            hits = _segment(block).search(self.entries, self.radius)
            query, entry = hits.row, hits.query
        else:
            segment = self._indexed_delta() if strategy is Strategy.INDEX_DELTA else None
            hits = (segment or _unindexed(self.entries)).search(block, self.radius)
            query, entry = hits.query, hits.row
        return _within(query + first_row, entry, hits.distance, self.radii)

    def match_blocks(self, blocks: Iterable[Words]) -> Iterator[DeltaPairs]:
        """Pairs of each block in turn, row numbers counted across blocks."""
        first = 0
        for block in blocks:
            yield self.match(block, first)
            first += len(block)

    def _indexed_delta(self) -> PdqSegment:
        if self._delta_segment is None:
            self._delta_segment = _segment(self.entries)
        return self._delta_segment


def match_delta(
    stored: Words,
    entries: Words,
    radius: int | Radii,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    strategy: Strategy | None = None,
) -> DeltaPairs:
    """Every (stored row, entry row) within the entry's radius, stored side in blocks."""
    if block_rows < 1:
        raise ValueError("block_rows must be positive")
    stored = _checked_words(stored)
    matcher = DeltaMatcher(entries, radius, strategy=strategy)
    blocks = (stored[i : i + block_rows] for i in range(0, len(stored), block_rows))
    return DeltaPairs.concat(list(matcher.match_blocks(blocks)))


def _checked_words(words: Words) -> Words:
    if words.dtype != np.uint64 or words.ndim != 2 or words.shape[1] != WORDS:
        raise ValueError(f"PDQ hashes must be (n, {WORDS}) uint64, got {words.dtype} {words.shape}")
    return words


def _radii(radius: int | Radii, count: int) -> npt.NDArray[np.int16]:
    radii = np.broadcast_to(np.asarray(radius), (count,)).astype(np.int16)
    if np.ndim(radius) > 1 or (
        len(radii) and (int(radii.min()) < -1 or int(radii.max()) > MAX_DISTANCE)
    ):
        raise ValueError(f"radius must be -1 (not searched) to {MAX_DISTANCE} per entry")
    return radii


def _plan(rows: int) -> Plan:
    # The payload is the row number kept beside each hash (uint32).
    return plan_for(rows, payload_bytes_per_row=6)


def _lookup_ns(plan: Plan, radius: int) -> float:
    if not plan.tables:
        return plan.scan_ns()
    return min(plan.lookup_ns(radius), plan.scan_ns())


def _build_ns(plan: Plan, rows: int) -> float:
    return rows * len(plan.tables) * BUILD_NS_PER_TABLE_ROW


def _rows(words: Words) -> PdqRows:
    count = len(words)
    return PdqRows(words, np.arange(count, dtype=np.uint32), np.zeros(count, dtype=np.uint16))


def _segment(words: Words) -> PdqSegment:
    return PdqSegment.build(_rows(words), sort_by_entry=False)


def _unindexed(words: Words) -> PdqSegment:
    return PdqSegment(_rows(words), None, ids_sorted=False)


def _within(
    query: IntArray, entry: IntArray, distance: npt.NDArray[np.uint16], radii: npt.NDArray[np.int16]
) -> DeltaPairs:
    """Pairs within their entry's own radius, sorted by stored row then entry."""
    keep = np.flatnonzero(distance.astype(np.int16) <= radii[entry])
    keep = keep[np.lexsort((entry[keep], query[keep]))]
    return DeltaPairs(query[keep], entry[keep], distance[keep])
