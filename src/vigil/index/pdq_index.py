"""PDQ range search that takes additions and removals between snapshots.

A lookup searches the base segment (immutable, usually memory-mapped from a snapshot) minus
its tombstones, plus the rows added since: those already indexed in a small delta segment
and the last few (at most PENDING_LIMIT) by linear scan. Compaction folds everything into a
new base.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from vigil.index.allocator import keep_freed_memory
from vigil.index.codes import WORDS, PdqInput, Words, pdq_words
from vigil.index.distances import ListDistances
from vigil.index.pdq_segment import Hits, PdqRows, PdqSegment
from vigil.index.tombstones import Tombstones

PENDING_LIMIT = 4096  # rows scanned linearly before the delta segment is rebuilt
DEFAULT_DISTANCES = ListDistances()
_Scalar = TypeVar("_Scalar", bound=np.generic)


@dataclass(frozen=True, slots=True)
class PdqMatches:
    """Every (query, listed row) pair within its list's distance, sorted by query then
    distance. ``query`` indexes the hashes passed to the lookup, e.g. to tell which variant
    of a photo matched; ``time`` is the listed frame's time for video rows."""

    query: npt.NDArray[np.intp]
    entry_id: npt.NDArray[np.uint64]
    list_id: npt.NDArray[np.uint16]
    distance: npt.NDArray[np.uint16]
    time: npt.NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.query)

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> PdqMatches:
        time = None if self.time is None else self.time[keep]
        return PdqMatches(
            self.query[keep], self.entry_id[keep], self.list_id[keep], self.distance[keep], time
        )

    def for_query(self, query: int) -> PdqMatches:
        return self.select(self.query == query)

    @staticmethod
    def concat(parts: Sequence[PdqMatches], timed: bool) -> PdqMatches:
        matches = PdqMatches(
            np.concatenate([p.query for p in parts]),
            np.concatenate([p.entry_id for p in parts]),
            np.concatenate([p.list_id for p in parts]),
            np.concatenate([p.distance for p in parts]),
            np.concatenate([p.time for p in parts if p.time is not None]) if timed else None,
        )
        return matches.select(np.lexsort((matches.entry_id, matches.distance, matches.query)))


class _Delta:
    """Rows added since the base: growing arrays, a removal mask, and a segment over a
    prefix of them rebuilt whenever the unindexed tail passes PENDING_LIMIT."""

    def __init__(self, timed: bool) -> None:
        self.timed = timed
        self.size = 0
        self.hashes = np.empty((0, WORDS), dtype=np.uint64)
        self.entry_ids = np.empty(0, dtype=np.uint64)
        self.list_ids = np.empty(0, dtype=np.uint16)
        self.times = np.empty(0, dtype=np.float32)
        self.dead = np.empty(0, dtype=np.bool_)
        self.by_entry: dict[int, list[int]] = {}
        self.indexed: PdqSegment | None = None

    def rows(self, start: int = 0, stop: int | None = None) -> PdqRows:
        part = slice(start, self.size if stop is None else stop)
        return PdqRows(
            self.hashes[part],
            self.entry_ids[part],
            self.list_ids[part],
            self.times[part] if self.timed else None,
        )

    def append(self, rows: PdqRows) -> None:
        self._reserve(self.size + len(rows))
        part = slice(self.size, self.size + len(rows))
        self.hashes[part] = rows.hashes
        self.entry_ids[part] = rows.entry_ids
        self.list_ids[part] = rows.list_ids
        if self.timed and rows.times is not None:
            self.times[part] = rows.times
        self.dead[part] = False
        for offset, entry_id in enumerate(rows.entry_ids.tolist()):
            self.by_entry.setdefault(entry_id, []).append(self.size + offset)
        self.size += len(rows)
        if self.size - self.indexed_size > PENDING_LIMIT:
            self.indexed = PdqSegment.build(self.rows(), sort_by_entry=False)

    @property
    def indexed_size(self) -> int:
        return 0 if self.indexed is None else len(self.indexed)

    def remove(self, entry_ids: list[int]) -> int:
        removed = 0
        for entry_id in entry_ids:
            rows = self.by_entry.pop(entry_id, [])
            self.dead[rows] = True
            removed += len(rows)
        return removed

    def search(self, queries: Words, radius: int) -> Hits:
        indexed = Hits.empty() if self.indexed is None else self.indexed.search(queries, radius)
        tail_start = self.indexed_size
        tail = PdqSegment(self.rows(tail_start), None, ids_sorted=False).search(queries, radius)
        tail = Hits(tail.query, tail.row + tail_start, tail.distance)
        hits = Hits(
            np.concatenate((indexed.query, tail.query)),
            np.concatenate((indexed.row, tail.row)),
            np.concatenate((indexed.distance, tail.distance)),
        )
        return hits.select(~self.dead[hits.row])

    def _reserve(self, size: int) -> None:
        if size <= len(self.entry_ids):
            return
        capacity = max(size, 2 * len(self.entry_ids), 1024)
        self.hashes = _grown(self.hashes, capacity)
        self.entry_ids = _grown(self.entry_ids, capacity)
        self.list_ids = _grown(self.list_ids, capacity)
        self.times = _grown(self.times, capacity)
        self.dead = _grown(self.dead, capacity)


def _grown(array: npt.NDArray[_Scalar], capacity: int) -> npt.NDArray[_Scalar]:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


class PdqIndex:
    """Exact Hamming range search over listed PDQ hashes, each tagged with an entry id and a
    list id (and, for video frames, a time)."""

    def __init__(self, base: PdqSegment | None = None, *, timed: bool = False) -> None:
        keep_freed_memory()
        self.timed = timed
        self.base = base if base is not None else PdqSegment.build(empty_rows(timed))
        if timed != (self.base.rows.times is not None):
            raise ValueError("a timed index needs a base segment with times, and vice versa")
        self._tombstones = Tombstones(len(self.base))
        self._delta = _Delta(timed)

    @classmethod
    def build(
        cls,
        hashes: PdqInput,
        entry_ids: npt.ArrayLike,
        list_ids: npt.ArrayLike,
        times: npt.ArrayLike | None = None,
        *,
        memory_budget: int | None = None,
    ) -> PdqIndex:
        rows = make_rows(hashes, entry_ids, list_ids, times)
        return cls(PdqSegment.build(rows, memory_budget=memory_budget), timed=times is not None)

    def __len__(self) -> int:
        return len(self.base) - self._tombstones.count + self.delta_size

    @property
    def delta_size(self) -> int:
        """Live rows added since the base segment was built."""
        return int(self._delta.size - np.count_nonzero(self._delta.dead[: self._delta.size]))

    def add(
        self,
        hashes: PdqInput,
        entry_ids: npt.ArrayLike,
        list_ids: npt.ArrayLike,
        times: npt.ArrayLike | None = None,
    ) -> None:
        """Add rows, replacing every row the same entries had (re-adding a video replaces
        all its frames). Visible to the next lookup."""
        rows = make_rows(hashes, entry_ids, list_ids, times if self.timed else None)
        if self.timed and times is None:
            raise ValueError("a timed index needs a time for every row")
        self.remove(rows.entry_ids)
        self._delta.append(rows)

    def remove(self, entry_ids: npt.ArrayLike) -> int:
        """Remove (disable, quarantine) every row of these entries; returns rows removed."""
        ids = np.unique(np.asarray(entry_ids, dtype=np.uint64))
        removed = self._tombstones.kill(self.base.rows_of(ids))
        return removed + self._delta.remove(ids.tolist())

    def search(self, queries: PdqInput, distances: ListDistances = DEFAULT_DISTANCES) -> PdqMatches:
        words = pdq_words(queries)
        radius = distances.max_distance
        limits = distances.limits()
        base = self.base.search(words, radius)
        if self._tombstones.count:
            base = base.select(self._tombstones.alive(base.row))
        matches = self._matches(self.base.rows, base, limits)
        if self._delta.size:
            added = self._delta.search(words, radius)
            matches = PdqMatches.concat(
                [matches, self._matches(self._delta.rows(), added, limits)], self.timed
            )
        return matches

    def _matches(self, rows: PdqRows, hits: Hits, limits: npt.NDArray[np.int16]) -> PdqMatches:
        """Hits within their list's distance, as sorted matches."""
        list_ids = rows.list_ids[hits.row]
        keep = np.flatnonzero(hits.distance.astype(np.int16) <= limits[list_ids])
        keep = keep[np.lexsort((hits.row[keep], hits.distance[keep], hits.query[keep]))]
        row = hits.row[keep]
        return PdqMatches(
            hits.query[keep],
            rows.entry_ids[row].astype(np.uint64),
            list_ids[keep],
            hits.distance[keep],
            None if rows.times is None else rows.times[row],
        )

    def row_counts(self, entry_ids: npt.ArrayLike) -> dict[int, int]:
        """Live rows (video frames) per entry."""
        ids = np.unique(np.asarray(entry_ids, dtype=np.uint64))
        rows = self.base.rows_of(ids)
        rows = rows[self._tombstones.alive(rows)]
        found, counts = np.unique(self.base.rows.entry_ids[rows], return_counts=True)
        result = dict(zip(found.tolist(), counts.tolist(), strict=True))
        for entry_id in ids.tolist():
            added = len(self._delta.by_entry.get(entry_id, ()))
            if added:
                result[entry_id] = result.get(entry_id, 0) + added
        return result

    def live_rows(self) -> PdqRows:
        base = self.base.rows.select(self._tombstones.alive_rows())
        delta = self._delta.rows().select(np.flatnonzero(~self._delta.dead[: self._delta.size]))
        return PdqRows.concat([base, delta], self.timed)

    def compacted(self, *, memory_budget: int | None = None) -> PdqIndex:
        """A new index whose base holds every live row, with nothing pending."""
        if memory_budget is None and not self._tombstones.count and not self._delta.size:
            return PdqIndex(self.base, timed=self.timed)  # nothing to fold in
        segment = PdqSegment.build(self.live_rows(), memory_budget=memory_budget)
        return PdqIndex(segment, timed=self.timed)


def empty_rows(timed: bool) -> PdqRows:
    return PdqRows(
        np.empty((0, WORDS), dtype=np.uint64),
        np.empty(0, dtype=np.uint64),
        np.empty(0, dtype=np.uint16),
        np.empty(0, dtype=np.float32) if timed else None,
    )


def make_rows(
    hashes: PdqInput,
    entry_ids: npt.ArrayLike,
    list_ids: npt.ArrayLike,
    times: npt.ArrayLike | None = None,
) -> PdqRows:
    words = pdq_words(hashes)
    ids = np.asarray(entry_ids, dtype=np.uint64).reshape(-1)
    lists = np.asarray(list_ids)
    if lists.ndim == 0:
        lists = np.full(len(words), lists)
    if len(lists) and (lists.min() < 0 or lists.max() > 0xFFFF):
        raise ValueError("list ids must be in 0..65535")
    stamps = None if times is None else np.asarray(times, dtype=np.float32).reshape(-1)
    return PdqRows(words, ids, lists.astype(np.uint16), stamps)
