"""An immutable run of PDQ rows (hash, entry id, list id, optional time) with its tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.index.codes import WORDS, Words, distances_to, row_distances
from vigil.index.mih import MihTables, build_tables, candidates
from vigil.index.plan import Plan, plan_for

IntArray = npt.NDArray[np.intp]
EntryIds = npt.NDArray[np.unsignedinteger]
SCAN_PAIRS = 1 << 20  # query-row pairs compared per step of a linear scan
# Queries are probed in blocks expected to yield about this many candidates: enough to
# amortise NumPy's per-call overhead, few enough for the temporaries to stay small (see
# mih.MAX_CANDIDATES). Measured best between 30,000 and 50,000 at 10 million rows.
BLOCK_CANDIDATES = 40_000
MAX_QUERY_BLOCK = 64


@dataclass(frozen=True, slots=True)
class PdqRows:
    hashes: Words
    entry_ids: EntryIds  # the database's id of the listed item (a video: one id, many rows)
    list_ids: npt.NDArray[np.uint16]
    times: npt.NDArray[np.float32] | None = None  # seconds into a listed video

    def __post_init__(self) -> None:
        n = len(self.hashes)
        others = [self.entry_ids, self.list_ids] + ([] if self.times is None else [self.times])
        if self.hashes.ndim != 2 or self.hashes.shape[1] != WORDS:
            raise ValueError("hashes must be (n, 4) uint64")
        if any(len(a) != n for a in others):
            raise ValueError("hashes, entry ids, list ids and times differ in length")

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def payload_bytes(self) -> int:
        """Bytes a row needs beside its hash."""
        times = 0 if self.times is None else self.times.itemsize
        return self.entry_ids.itemsize + self.list_ids.itemsize + times

    def select(self, rows: IntArray | slice) -> PdqRows:
        times = None if self.times is None else self.times[rows]
        return PdqRows(self.hashes[rows], self.entry_ids[rows], self.list_ids[rows], times)

    @staticmethod
    def concat(parts: Sequence[PdqRows], timed: bool) -> PdqRows:
        times = np.concatenate([_times_of(p) for p in parts]) if timed else None
        return PdqRows(
            np.concatenate([p.hashes for p in parts]).reshape(-1, WORDS),
            np.concatenate([p.entry_ids.astype(np.uint64) for p in parts]),
            np.concatenate([p.list_ids for p in parts]).astype(np.uint16),
            times,
        )


def _times_of(rows: PdqRows) -> npt.NDArray[np.float32]:
    return rows.times if rows.times is not None else np.zeros(len(rows), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Hits:
    """Rows within the radius of a query: each (query, row) pair once."""

    query: IntArray
    row: IntArray
    distance: npt.NDArray[np.uint16]

    @staticmethod
    def empty() -> Hits:
        return Hits(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.uint16))

    def select(self, keep: npt.NDArray[np.bool_]) -> Hits:
        return Hits(self.query[keep], self.row[keep], self.distance[keep])


class PdqSegment:
    """Rows that never change once built; removals are tombstones kept by the owner."""

    def __init__(self, rows: PdqRows, tables: MihTables | None, *, ids_sorted: bool) -> None:
        if tables is not None and tables.plan.rows != len(rows):
            raise ValueError("tables were built for a different number of rows")
        self.rows = rows
        self.tables = tables
        self.ids_sorted = ids_sorted

    @classmethod
    def build(
        cls, rows: PdqRows, *, sort_by_entry: bool = True, memory_budget: int | None = None
    ) -> PdqSegment:
        """Index ``rows``; sorting them by entry id makes removals a binary search."""
        if sort_by_entry:
            rows = _sorted_by_entry(rows)
        plan = plan_for(
            len(rows), payload_bytes_per_row=rows.payload_bytes, memory_budget=memory_budget
        )
        tables = build_tables(rows.hashes, plan) if plan.tables else None
        return cls(rows, tables, ids_sorted=sort_by_entry)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def plan(self) -> Plan | None:
        return None if self.tables is None else self.tables.plan

    def search(self, queries: Words, radius: int) -> Hits:
        if radius < 0 or not len(self.rows) or not len(queries):
            return Hits.empty()
        if self.tables is not None and self.tables.plan.uses_tables(radius):
            return self._probe(self.tables, queries, radius)
        return self._scan(queries, radius)

    def _probe(self, tables: MihTables, queries: Words, radius: int) -> Hits:
        expected = max(tables.plan.candidates(radius), 1.0)
        step = int(min(MAX_QUERY_BLOCK, max(1, BLOCK_CANDIDATES // expected)))
        return _concat(
            [
                _dedupe(list(self._verify(tables, queries[first : first + step], first, radius)))
                for first in range(0, len(queries), step)
            ]
        )

    def _verify(self, tables: MihTables, block: Words, first: int, radius: int) -> Iterator[Hits]:
        for query_of, rows in candidates(tables, block, radius):
            distance = distances_to(self.rows.hashes, rows, block, query_of)
            near = np.flatnonzero(distance <= radius)
            yield Hits(query_of[near] + first, rows[near].astype(np.intp), distance[near])

    def _scan(self, queries: Words, radius: int) -> Hits:
        n = len(self.rows)
        row_step = min(n, SCAN_PAIRS)
        query_step = max(1, SCAN_PAIRS // row_step)
        parts = []
        for first_row in range(0, n, row_step):
            rows = self.rows.hashes[first_row : first_row + row_step]
            for first in range(0, len(queries), query_step):
                block = queries[first : first + query_step]
                xored = rows[None, :, :] ^ block[:, None, :]
                distance = row_distances(xored.reshape(-1, WORDS))
                near = np.flatnonzero(distance <= radius)
                parts.append(
                    Hits(near // len(rows) + first, near % len(rows) + first_row, distance[near])
                )
        return _concat(parts)

    def rows_of(self, entry_ids: npt.ArrayLike) -> IntArray:
        """Rows of the given entries (every frame of a video)."""
        ids = self.rows.entry_ids
        wanted = same_width(np.unique(np.asarray(entry_ids, dtype=np.uint64)), ids.dtype)
        if not self.ids_sorted:
            return np.flatnonzero(np.isin(ids, wanted))
        return ranges_of(ids, wanted)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        arrays: dict[str, npt.NDArray[Any]] = {
            "hashes": self.rows.hashes,
            "entry_ids": self.rows.entry_ids,
            "list_ids": self.rows.list_ids,
        }
        if self.rows.times is not None:
            arrays["times"] = self.rows.times
        if self.tables is not None:
            arrays["block_starts"] = self.tables.block_starts
            arrays["bucket_offsets"] = self.tables.bucket_offsets
            arrays["order"] = self.tables.order
        return arrays

    def meta(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "rows": len(self.rows),
            "ids_sorted": self.ids_sorted,
            "plan": None if plan is None else plan.to_json(),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> PdqSegment:
        rows = PdqRows(
            arrays["hashes"], arrays["entry_ids"], arrays["list_ids"], arrays.get("times")
        )
        tables = None
        if meta["plan"] is not None:
            tables = MihTables(
                Plan.from_json(meta["plan"]),
                arrays["block_starts"],
                arrays["bucket_offsets"],
                arrays["order"],
            )
        return cls(rows, tables, ids_sorted=bool(meta["ids_sorted"]))


def same_width(wanted: npt.NDArray[np.uint64], dtype: np.dtype[Any]) -> EntryIds:
    """Ids cast to the stored width (ids that cannot be stored are dropped), so a search
    does not copy the whole stored array to a wider type."""
    if dtype == np.uint32:
        return wanted[wanted < 1 << 32].astype(np.uint32)
    return wanted


def ranges_of(sorted_ids: EntryIds, wanted: EntryIds) -> IntArray:
    """Positions of every occurrence of ``wanted`` ids in a sorted array."""
    lo = np.searchsorted(sorted_ids, wanted, side="left")
    hi = np.searchsorted(sorted_ids, wanted, side="right")
    counts = hi - lo
    return np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())


def compact_ids(entry_ids: npt.ArrayLike) -> EntryIds:
    """uint32 when every id fits, which saves 4 bytes a row at 10 million rows."""
    ids = np.asarray(entry_ids, dtype=np.uint64)
    if len(ids) and int(ids.max()) < 1 << 32:
        return ids.astype(np.uint32)
    return ids


def _sorted_by_entry(rows: PdqRows) -> PdqRows:
    ids = compact_ids(rows.entry_ids)
    rows = PdqRows(rows.hashes, ids, rows.list_ids, rows.times)
    if len(ids) < 2 or bool(np.all(ids[1:] >= ids[:-1])):
        return rows
    return rows.select(np.argsort(ids, kind="stable"))


def _concat(parts: list[Hits]) -> Hits:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Hits.empty()
    return Hits(
        np.concatenate([p.query for p in parts]),
        np.concatenate([p.row for p in parts]),
        np.concatenate([p.distance for p in parts]),
    )


def _dedupe(parts: list[Hits]) -> Hits:
    """One hit per (query, row): a row near the query on several substrings comes back once
    per table."""
    hits = _concat(parts)
    if len(hits.row) < 2:
        return hits
    query, row, distance = hits.query, hits.row, hits.distance
    packed = (query.astype(np.uint64) << np.uint64(32)) | row.astype(np.uint64)
    _, first = np.unique(packed, return_index=True)
    return Hits(query[first], row[first], distance[first])
