"""The tuning rule: how a PDQ segment is cut into multi-index hashing tables and how far each
table is probed for a search distance.

Pigeonhole: cut the 256 bits into disjoint substrings and give substring t a radius r_t. If
sum(r_t + 1) >= D + 1, any hash within D of the query lies within r_t of it on at least one
substring, so probing every key within r_t in every table finds all of them (100% recall).

Rule, for n rows: for every table count m from ceil(256 / (log2 n + 1)) to 32, split the 256
bits into m near-equal substrings no wider than ceil(log2 n) + 1 bits; narrow the widest
table one bit at a time while the segment exceeds its memory budget (default 104 bytes a row,
at least 256 MiB); hand out the D + 1 radius units one at a time to the table where one more
unit adds the least estimated cost (probes * PROBE_NS + candidates * CANDIDATE_NS, with n /
2^b candidates a probe); keep the m whose cost at D = 31 is lowest. A table that gets no unit
for a smaller D is not probed at all. At 10 million uniform rows this gives 11 tables (two of
24 bits, nine of 23), radius 2 except one of radius 1: 2,842 probes and ~3,000 candidates a
query; at 50,000 rows, 16 tables of 16 bits, radius 1 (272 probes).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.index.codes import HASH_BITS

MIN_WIDTH = 8
MAX_WIDTH = 28  # 2^28 buckets of offsets are already 512 MiB
MAX_TABLES = 32
MIN_TABLE_ROWS = 4096  # below this a linear scan beats any table
BYTES_PER_ROW_BUDGET = 104  # 10 million rows fit in 1 GiB with the default payload
MIN_BUDGET = 256 << 20
# Measured on a 2-core EPYC VM with NumPy 2.4 at 10 million rows: cost of one probe (bucket
# start and end), one candidate (order gather, hash gather, popcount) and one row of a
# linear scan, in nanoseconds. Only their ratios matter.
PROBE_NS = 22.0
CANDIDATE_NS = 19.0
SCAN_NS = 3.0
DESIGN_DISTANCE = 31  # PDQ's usual match threshold: tables are tuned for it


@dataclass(frozen=True, slots=True)
class Table:
    start: int  # first bit of the substring
    width: int
    base: int  # first bucket of this table in the concatenated offsets


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """Hashed by identity: lookups cache per plan, and hashing the tables on every query
    would cost more than the cache saves."""

    rows: int
    tables: tuple[Table, ...]

    @property
    def buckets(self) -> int:
        return sum(1 << t.width for t in self.tables)

    def radii(self, distance: int) -> tuple[int, ...]:
        """Probe radius per table for ``distance``; -1 means the table is skipped."""
        return _radii(self, distance)

    def probes(self, distance: int) -> int:
        return sum(
            _ball(t.width, r) for t, r in zip(self.tables, self.radii(distance), strict=True)
        )

    def covers(self, distance: int) -> bool:
        """Whether probing can reach ``distance`` at all (each table at most its width)."""
        return bool(self.tables) and distance + 1 <= sum(t.width + 1 for t in self.tables)

    def lookup_ns(self, distance: int) -> float:
        """Estimated cost of one query through the tables."""
        return _lookup_ns(self, distance)

    def candidates(self, distance: int) -> float:
        """Expected candidates of one query (uniform hashes)."""
        return _candidates(self, distance)

    def scan_ns(self) -> float:
        return self.rows * SCAN_NS

    def uses_tables(self, distance: int) -> bool:
        return self.lookup_ns(distance) < self.scan_ns()

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "tables": [[t.start, t.width, t.base] for t in self.tables]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        tables = tuple(Table(int(s), int(w), int(b)) for s, w, b in data["tables"])
        return cls(int(data["rows"]), tables)


def plan_for(
    rows: int,
    *,
    payload_bytes_per_row: int,
    memory_budget: int | None = None,
    design_distance: int = DESIGN_DISTANCE,
) -> Plan:
    """The cheapest tables for ``rows`` hashes within the memory budget (module docstring)."""
    if rows < MIN_TABLE_ROWS:
        return Plan(rows, ())
    budget = (
        memory_budget if memory_budget is not None else max(MIN_BUDGET, BYTES_PER_ROW_BUDGET * rows)
    )
    table_budget = budget - rows * (HASH_BITS // 8 + payload_bytes_per_row)
    widest = min(MAX_WIDTH, math.ceil(math.log2(rows)) + 1)
    plans = (
        Plan(rows, _lay_out(_fit_widths(_even_widths(count, widest), rows, table_budget)))
        for count in range(math.ceil(HASH_BITS / widest), MAX_TABLES + 1)
    )
    return min(plans, key=lambda plan: plan.lookup_ns(design_distance))


def _even_widths(count: int, widest: int) -> list[int]:
    """``count`` widths as equal as possible, summing to at most 256 bits."""
    narrow, wide = divmod(HASH_BITS, count)
    return [min(widest, narrow + (i < wide)) for i in range(count)]


def table_bytes(widths: list[int], rows: int) -> int:
    """Bucket offsets (2 bytes a bucket) plus the row order (4 bytes a row) of every table."""
    return sum(2 * (1 << w) + 4 * rows for w in widths)


def _fit_widths(widths: list[int], rows: int, budget: int) -> list[int]:
    widths = sorted(widths, reverse=True)
    while table_bytes(widths, rows) > budget and widths[0] > MIN_WIDTH:
        widths[0] -= 1
        widths.sort(reverse=True)
    return widths


def _lay_out(widths: list[int]) -> tuple[Table, ...]:
    # Widest first, so every table's base is a multiple of its own bucket count: adding
    # the base to a key then commutes with XOR-ing flip masks into its low bits.
    tables, start, base = [], 0, 0
    for width in sorted(widths, reverse=True):
        tables.append(Table(start, width, base))
        start += width
        base += 1 << width
    return tuple(tables)


def _ball(width: int, radius: int) -> int:
    """Keys within ``radius`` bits of a key of ``width`` bits."""
    return sum(math.comb(width, k) for k in range(radius + 1))


def _unit_cost(rows: int, width: int) -> float:
    return PROBE_NS + CANDIDATE_NS * rows / (1 << width)


@lru_cache(maxsize=256)
def _lookup_ns(plan: Plan, distance: int) -> float:
    if not plan.covers(distance):
        return math.inf
    return sum(
        _ball(t.width, r) * _unit_cost(plan.rows, t.width)
        for t, r in zip(plan.tables, plan.radii(distance), strict=True)
    )


@lru_cache(maxsize=256)
def _candidates(plan: Plan, distance: int) -> float:
    if not plan.covers(distance):
        return math.inf
    return sum(
        _ball(t.width, r) * plan.rows / (1 << t.width)
        for t, r in zip(plan.tables, plan.radii(distance), strict=True)
    )


@lru_cache(maxsize=256)
def _radii(plan: Plan, distance: int) -> tuple[int, ...]:
    radii = [-1] * len(plan.tables)
    if not plan.tables:
        return ()

    def step(i: int) -> tuple[float, int]:
        t = plan.tables[i]
        if radii[i] >= t.width:
            return math.inf, i
        extra = _ball(t.width, radii[i] + 1) - _ball(t.width, radii[i])
        return extra * _unit_cost(plan.rows, t.width), i

    heap = [step(i) for i in range(len(radii))]
    heapq.heapify(heap)
    for _ in range(distance + 1):
        cost, i = heapq.heappop(heap)
        if math.isinf(cost):
            raise ValueError(f"distance {distance} exceeds what the tables can cover")
        radii[i] += 1
        heapq.heappush(heap, step(i))
    return tuple(radii)


@lru_cache(maxsize=256)
def flip_masks(width: int, radius: int) -> npt.NDArray[np.uint32]:
    """Every key XOR mask of ``width`` bits with at most ``radius`` bits set, fewest first."""
    levels = [np.zeros(1, dtype=np.uint32)]
    singles = (np.uint32(1) << np.arange(width, dtype=np.uint32)).astype(np.uint32)
    for _ in range(radius):
        grown = (levels[-1][:, None] | singles[None, :]).ravel()
        grown = grown[np.bitwise_count(grown) == len(levels)]
        levels.append(np.unique(grown))
    return np.concatenate(levels)
