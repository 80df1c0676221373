"""Exact lookups of MD5, SHA-1 and SHA-256 digests.

The base is a sorted array of fixed-width digests: the first eight bytes as big-endian
uint64 (binary-searched with np.searchsorted), the remaining bytes beside them, the ids, and
the ids in sorted order with the permutation to them (for removals): an MD5 row takes 30 bytes
(SHA-256: 46). Rows added since the base live in a dict; removed base rows are tombstones.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.index.codes import raw_bytes
from vigil.index.errors import InvalidHashError
from vigil.index.pdq_segment import compact_ids, ranges_of, same_width
from vigil.index.tombstones import Tombstones

DIGEST_BYTES = {"md5": 16, "sha1": 20, "sha256": 32}
PREFIX_BYTES = 8

DigestInput = str | bytes | Sequence[str] | Sequence[bytes] | npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.intp]


def digest_bytes(digests: DigestInput, width: int) -> npt.NDArray[np.uint8]:
    """(n, width) uint8 from hex strings, raw bytes or an array."""
    if isinstance(digests, np.ndarray):
        if digests.dtype != np.uint8 or digests.ndim != 2 or digests.shape[1] != width:
            raise InvalidHashError(f"expected (n, {width}) uint8 digests")
        return np.ascontiguousarray(digests)
    items: list[str | bytes] = [digests] if isinstance(digests, str | bytes) else list(digests)
    raw = (
        _hex_bytes(items, width)
        if items and isinstance(items[0], str)
        else b"".join(raw_bytes(d) for d in items)
    )
    if len(raw) != width * len(items):
        raise InvalidHashError(f"digest must be {width} bytes ({2 * width} hex characters)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)


def _hex_bytes(items: list[Any], width: int) -> bytes:
    if any(len(d) != 2 * width for d in items):
        bad = next(d for d in items if len(d) != 2 * width)
        raise InvalidHashError(f"digest must be {2 * width} hex characters: {bad!r}")
    try:
        return bytes.fromhex("".join(items))
    except ValueError as exc:
        raise InvalidHashError(f"digest is not hex: {exc}") from None


@dataclass(frozen=True, slots=True)
class DigestMatches:
    query: IntArray  # index into the digests looked up
    entry_id: npt.NDArray[np.uint64]
    list_id: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.query)


class DigestSegment:
    """Immutable rows sorted by digest, plus the permutation that sorts them by entry id."""

    def __init__(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.prefix: npt.NDArray[np.uint64] = arrays["prefix"]
        self.rest: npt.NDArray[np.uint8] = arrays["rest"]
        self.entry_ids: npt.NDArray[np.unsignedinteger] = arrays["entry_ids"]
        self.list_ids: npt.NDArray[np.uint16] = arrays["list_ids"]
        self.by_entry: npt.NDArray[np.uint32] = arrays["by_entry"]  # rows in entry id order
        self.sorted_ids: npt.NDArray[np.unsignedinteger] = arrays["sorted_ids"]

    @classmethod
    def build(
        cls, digests: npt.NDArray[np.uint8], entry_ids: npt.ArrayLike, list_ids: npt.ArrayLike
    ) -> DigestSegment:
        prefix = _prefixes(digests)
        order = np.argsort(prefix, kind="stable")
        ids = compact_ids(np.asarray(entry_ids, dtype=np.uint64)[order])
        by_entry = np.argsort(ids, kind="stable")
        return cls(
            {
                "prefix": prefix[order],
                "rest": np.ascontiguousarray(digests[order, PREFIX_BYTES:]),
                "entry_ids": ids,
                "list_ids": np.asarray(list_ids, dtype=np.uint16)[order],
                "by_entry": by_entry.astype(np.uint32),
                "sorted_ids": ids[by_entry],
            }
        )

    def __len__(self) -> int:
        return len(self.prefix)

    @property
    def width(self) -> int:
        return PREFIX_BYTES + self.rest.shape[1]

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "prefix": self.prefix,
            "rest": self.rest,
            "entry_ids": self.entry_ids,
            "list_ids": self.list_ids,
            "by_entry": self.by_entry,
            "sorted_ids": self.sorted_ids,
        }

    def lookup(self, digests: npt.NDArray[np.uint8]) -> tuple[IntArray, IntArray]:
        """(query, row) for every row equal to a queried digest."""
        prefix = _prefixes(digests)
        lo = np.searchsorted(self.prefix, prefix, side="left")
        hi = np.searchsorted(self.prefix, prefix, side="right")
        query, rows = _expand(lo, hi)
        same = np.all(self.rest[rows] == digests[query, PREFIX_BYTES:], axis=1)
        return query[same], rows[same]

    def rows_of(self, entry_ids: npt.NDArray[np.uint64]) -> IntArray:
        wanted = same_width(entry_ids, self.sorted_ids.dtype)
        return self.by_entry[ranges_of(self.sorted_ids, wanted)].astype(np.intp)


def _prefixes(digests: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    # Big-endian, so numeric order is byte order; the rest only breaks rare prefix ties.
    head = np.ascontiguousarray(digests[:, :PREFIX_BYTES])
    return head.view(">u8").reshape(-1).astype(np.uint64)


def _expand(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    counts = hi - lo
    query = np.repeat(np.arange(len(lo)), counts)
    rows = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    return query, rows


class DigestIndex:
    """Digests of one algorithm, tagged with entry and list ids, taking changes in place."""

    def __init__(self, algorithm: str, base: DigestSegment | None = None) -> None:
        self.algorithm = algorithm
        self.width = DIGEST_BYTES[algorithm]
        empty = np.empty((0, self.width), dtype=np.uint8)
        self.base = base if base is not None else DigestSegment.build(empty, [], [])
        if self.base.width != self.width:
            raise ValueError(f"{algorithm} digests are {self.width} bytes")
        self._tombstones = Tombstones(len(self.base))
        self._added: dict[bytes, dict[int, int]] = {}  # digest -> {entry id: list id}
        self._digest_of: dict[int, bytes] = {}

    @classmethod
    def build(
        cls, algorithm: str, digests: DigestInput, entry_ids: npt.ArrayLike, list_ids: npt.ArrayLike
    ) -> DigestIndex:
        raw = digest_bytes(digests, DIGEST_BYTES[algorithm])
        lists = np.broadcast_to(np.asarray(list_ids), (len(raw),))
        return cls(algorithm, DigestSegment.build(raw, entry_ids, lists))

    def __len__(self) -> int:
        return len(self.base) - self._tombstones.count + len(self._digest_of)

    def add(
        self, digests: DigestInput, entry_ids: Sequence[int], list_ids: Sequence[int] | int
    ) -> None:
        """Add entries, replacing whatever digest the same entry ids had."""
        raw = digest_bytes(digests, self.width)
        lists = [list_ids] * len(raw) if isinstance(list_ids, int) else list(list_ids)
        self.remove(entry_ids)
        for row, entry_id, list_id in zip(raw, entry_ids, lists, strict=True):
            key = row.tobytes()
            self._added.setdefault(key, {})[int(entry_id)] = int(list_id)
            self._digest_of[int(entry_id)] = key

    def remove(self, entry_ids: Sequence[int] | npt.NDArray[np.uint64]) -> int:
        ids = np.unique(np.asarray(entry_ids, dtype=np.uint64))
        removed = self._tombstones.kill(self.base.rows_of(ids))
        for entry_id in ids.tolist():
            key = self._digest_of.pop(entry_id, None)
            if key is not None:
                del self._added[key][entry_id]
                removed += 1
        return removed

    def lookup(self, digests: DigestInput, lists: Collection[int] | None = None) -> DigestMatches:
        raw = digest_bytes(digests, self.width)
        query, rows = self.base.lookup(raw)
        alive = self._tombstones.alive(rows)
        query, rows = query[alive], rows[alive]
        entry_ids = self.base.entry_ids[rows].astype(np.uint64)
        list_ids = self.base.list_ids[rows]
        extra = (
            [
                (q, e, li)
                for q, row in enumerate(raw)
                for e, li in self._added.get(row.tobytes(), {}).items()
            ]
            if self._added
            else []
        )
        if extra:
            q2, e2, l2 = (np.array(c) for c in zip(*extra, strict=True))
            query = np.concatenate([query, q2])
            entry_ids = np.concatenate([entry_ids, e2.astype(np.uint64)])
            list_ids = np.concatenate([list_ids, l2.astype(np.uint16)])
        if lists is not None:
            keep = np.isin(list_ids, np.fromiter(lists, dtype=np.int64))
            query, entry_ids, list_ids = query[keep], entry_ids[keep], list_ids[keep]
        order = np.lexsort((entry_ids, query))
        return DigestMatches(query[order], entry_ids[order], list_ids[order])

    def live_rows(
        self,
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64], npt.NDArray[np.uint16]]:
        rows = self._tombstones.alive_rows()
        digests = [
            np.concatenate(
                [self.base.prefix[rows, None].astype(">u8").view(np.uint8), self.base.rest[rows]],
                axis=1,
            )
        ]
        ids = [self.base.entry_ids[rows].astype(np.uint64)]
        lists = [self.base.list_ids[rows]]
        for key, entries in self._added.items():
            for entry_id, list_id in entries.items():
                digests.append(np.frombuffer(key, dtype=np.uint8)[None, :])
                ids.append(np.array([entry_id], dtype=np.uint64))
                lists.append(np.array([list_id], dtype=np.uint16))
        return np.concatenate(digests), np.concatenate(ids), np.concatenate(lists)

    def compacted(self) -> DigestIndex:
        if not self._tombstones.count and not self._digest_of:
            return DigestIndex(self.algorithm, self.base)
        digests, ids, lists = self.live_rows()
        return DigestIndex(self.algorithm, DigestSegment.build(digests, ids, lists))
