"""Nearest neighbours of copy-detection descriptors: exact cosine search over unit vectors.

One index per descriptor (its vectors mean nothing to another model): a dense float32 matrix
with one row per listed entry, searched with one matrix product per block of rows.

Why exact: a query costs one pass over the matrix, bound by memory bandwidth, and has no
recall to tune or lose. Measured (benchmarks/bench_descriptors.py, docs/benchmarks.md, one
thread): 2 ms per query at 100k vectors of 64 values, 11 ms at 100k of 256, 43 ms at 1M of
64. So exact search is fine where the descriptor confirms candidates or screens a collection
of up to about 100k held pictures; at a million vectors, or with many query variants per
upload at 100 uploads/s, an approximate index (FAISS IVF or HNSW; faiss-cpu is already the
bench extra) would replace ``search`` behind the same signature, its recall measured
against this one.

Freshness follows the PDQ index's contract (vigil.index.match_index): changes carry the
feed's sequence numbers, each applies once and in order, and ``seq`` is how far the index
has followed the feed, so a reload asks only for what came after it. The file is written
atomically (vigil.core.files) and checked on load (size, SHA-256, and the descriptor's name,
dimension and version when the caller gives them): a damaged or foreign one is never searched.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from vigil.core.files import replacing
from vigil.index.changes import Op
from vigil.index.distances import MAX_LIST_ID
from vigil.index.errors import CorruptIndexError, InvalidVectorError, SequenceError

MAGIC = b"VIGILDSC"
FORMAT_VERSION = 1
# magic, format, dimension, rows, seq, then the byte lengths of the signal and its version
_HEADER = struct.Struct("<8sIIQQHH")
_DIGEST_BYTES = 32
MAX_DIMENSION = 4096
MAX_SIGNAL_BYTES = 200
# Rows scored per matrix product: bounds the score matrix (rows x queries) in memory
# while keeping each product large enough for BLAS to run at full speed.
BLOCK_ROWS = 1 << 16
MIN_NORM = 1e-12
_ID = np.dtype("<i8")
_LIST = np.dtype("<i4")
_VALUE = np.dtype("<f4")


@dataclass(frozen=True, slots=True, eq=False)
class DescriptorChange:
    """One change of the feed for this descriptor: ADD upserts the entry's vector, REMOVE
    takes it out, MARK only moves the version (nothing else changed up to ``seq``)."""

    seq: int
    op: Op
    entry_id: int = 0
    list_id: int = 0
    vector: npt.NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        if self.seq <= 0:
            raise ValueError("sequence numbers start at 1")
        if self.op is Op.ADD and self.vector is None:
            raise ValueError("an ADD carries a vector")

    @classmethod
    def add(cls, seq: int, entry_id: int, list_id: int, vector: npt.ArrayLike) -> DescriptorChange:
        return cls(seq, Op.ADD, entry_id, list_id, np.asarray(vector, dtype=np.float32))

    @classmethod
    def remove(cls, seq: int, entry_id: int) -> DescriptorChange:
        return cls(seq, Op.REMOVE, entry_id)

    @classmethod
    def mark(cls, seq: int) -> DescriptorChange:
        return cls(seq, Op.MARK)


@dataclass(frozen=True, slots=True)
class DescriptorHits:
    """Parallel arrays, one row per (query, entry) pair found: by query, best score first."""

    query: npt.NDArray[np.int64]
    entry_id: npt.NDArray[np.int64]
    list_id: npt.NDArray[np.int32]
    score: npt.NDArray[np.float32]  # cosine similarity, -1..1

    def __len__(self) -> int:
        return int(self.query.size)


@dataclass(frozen=True, slots=True)
class DescriptorMatch:
    """What a reviewer needs to judge a descriptor match: which signal (descriptor) and
    which query variant found it, and how strongly against which threshold."""

    signal: str
    variant: str
    entry_id: int
    list_id: int
    score: float  # cosine similarity of the unit vectors
    threshold: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "variant": self.variant,
            "entry_id": self.entry_id,
            "list_id": self.list_id,
            "score": round(self.score, 4),
            "threshold": self.threshold,
            **({"details": self.details} if self.details else {}),
        }


class DescriptorIndex:
    """Unit vectors of one descriptor by entry id; not thread-safe for writes (the caller
    holds a lock around ``apply``, as for the PDQ index), searches only read."""

    def __init__(self, signal: str, dimension: int, *, version: str = "", seq: int = 0) -> None:
        if not 0 < dimension <= MAX_DIMENSION:
            raise ValueError(f"dimension {dimension} outside 1..{MAX_DIMENSION}")
        if not 0 < len(signal.encode()) <= MAX_SIGNAL_BYTES:
            raise ValueError(f"the signal name must be 1 to {MAX_SIGNAL_BYTES} bytes")
        if len(version.encode()) > MAX_SIGNAL_BYTES:
            raise ValueError(f"the version must be at most {MAX_SIGNAL_BYTES} bytes")
        self.signal = signal  # the descriptor's name: says in a match which signal matched
        self.version = version  # what made the vectors (e.g. the model's digest): no other fit
        self.dimension = dimension
        self.seq = seq  # how far along the feed: the last change applied
        self._vectors = np.empty((0, dimension), dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._lists = np.empty(0, dtype=np.int32)
        self._count = 0
        self._rows: dict[int, int] = {}

    def __len__(self) -> int:
        return self._count

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._rows

    @property
    def entry_ids(self) -> npt.NDArray[np.int64]:
        return self._ids[: self._count].copy()

    def vector(self, entry_id: int) -> npt.NDArray[np.float32]:
        return self._vectors[self._rows[entry_id]].copy()

    # Writing -------------------------------------------------------------------------------

    def add(
        self,
        entry_ids: Sequence[int],
        vectors: npt.ArrayLike,
        list_ids: Sequence[int] | None = None,
    ) -> None:
        """Add or replace each entry's vector (normalised to unit length here); of an id
        given twice, the last counts."""
        rows = self.unit_rows(vectors)
        lists = list(list_ids) if list_ids is not None else [0] * len(entry_ids)
        if not len(entry_ids) == len(lists) == rows.shape[0]:
            raise ValueError("entry ids, list ids and vectors differ in number")
        for entry_id, list_id in zip(entry_ids, lists, strict=True):
            _check_ids(entry_id, list_id)
        last = {entry_id: i for i, entry_id in enumerate(entry_ids)}  # of repeats, the last
        self._reserve(self._count + len(last))
        positions = np.empty(len(last), dtype=np.int64)
        for slot, entry_id in enumerate(last):
            index = self._rows.get(entry_id)
            if index is None:
                index = self._rows[entry_id] = self._count
                self._count += 1
            positions[slot] = index
        chosen = np.fromiter(last.values(), dtype=np.int64, count=len(last))
        self._vectors[positions] = rows[chosen]
        self._ids[positions] = np.asarray(list(last), dtype=np.int64)
        self._lists[positions] = np.asarray(lists, dtype=np.int32)[chosen]

    def remove(self, entry_ids: Iterable[int]) -> int:
        """Take the entries out (unknown ids are ignored); returns how many were in. The last
        row moves into the gap, so the matrix stays dense and searches scan no holes."""
        removed = 0
        for entry_id in entry_ids:
            index = self._rows.pop(entry_id, None)
            if index is None:
                continue
            last = self._count - 1
            if index != last:
                moved = int(self._ids[last])
                self._vectors[index] = self._vectors[last]
                self._ids[index] = moved
                self._lists[index] = self._lists[last]
                self._rows[moved] = index
            self._count = last
            removed += 1
        return removed

    def apply(self, changes: Iterable[DescriptorChange], *, through: int | None = None) -> int:
        """Apply the changes with seq above ``seq`` (older ones are in already), in order, and
        return how many added or removed; ``through``: the feed has nothing else up to it."""
        fresh = [change for change in changes if change.seq > self.seq]
        if any(b.seq <= a.seq for a, b in pairwise(fresh)):
            raise SequenceError("changes must come in increasing sequence order")
        # Checked before anything changes: a bad vector leaves the index as it was.
        rows = {
            id(change): self.unit_rows(change.vector)[0]
            for change in fresh
            if change.op is Op.ADD and change.vector is not None
        }
        applied = 0
        for change in fresh:
            if change.op is Op.ADD:
                self.add([change.entry_id], rows[id(change)][np.newaxis], [change.list_id])
                applied += 1
            elif change.op is Op.REMOVE:
                self.remove([change.entry_id])
                applied += 1
            self.seq = change.seq
        if through is not None and through > self.seq:
            self.seq = through
        return applied

    def unit_rows(self, vectors: npt.ArrayLike | None) -> npt.NDArray[np.float32]:
        """``vectors`` as rows of unit length, or InvalidVectorError."""
        rows = np.asarray(vectors, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[np.newaxis]
        if rows.ndim != 2 or rows.shape[1] != self.dimension:
            raise InvalidVectorError(
                f"{self.signal}: expected vectors of {self.dimension} values, got {rows.shape}"
            )
        if not np.all(np.isfinite(rows)):
            raise InvalidVectorError(f"{self.signal}: a vector holds a value that is not finite")
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        if np.any(norms < MIN_NORM):
            raise InvalidVectorError(f"{self.signal}: a vector is zero")
        return (rows / norms).astype(np.float32)

    def _reserve(self, rows: int) -> None:
        if rows <= self._vectors.shape[0]:
            return
        capacity = max(rows, 2 * self._vectors.shape[0], 1024)  # doubling: adds stay O(1)
        vectors = np.empty((capacity, self.dimension), dtype=np.float32)
        vectors[: self._count] = self._vectors[: self._count]
        ids = np.empty(capacity, dtype=np.int64)
        ids[: self._count] = self._ids[: self._count]
        lists = np.empty(capacity, dtype=np.int32)
        lists[: self._count] = self._lists[: self._count]
        self._vectors, self._ids, self._lists = vectors, ids, lists

    # Searching -----------------------------------------------------------------------------

    def search(
        self, queries: npt.ArrayLike, *, k: int = 10, threshold: float = -1.0
    ) -> DescriptorHits:
        """For each query vector, up to ``k`` entries with the highest cosine similarity at
        or above ``threshold``; equal scores go to the lower entry id."""
        if k < 1:
            raise ValueError("k must be at least 1")
        wanted = self.unit_rows(queries)
        if self._count == 0:
            return _no_hits()
        rows, scores = self._top_rows(wanted, min(k, self._count))
        query = np.repeat(np.arange(wanted.shape[0], dtype=np.int64), rows.shape[1])
        rows, scores = rows.ravel(), scores.ravel()
        keep = scores >= np.float32(threshold)
        query, rows, scores = query[keep], rows[keep], scores[keep]
        ids = self._ids[rows]
        order = np.lexsort((ids, -scores, query))
        return DescriptorHits(query[order], ids[order], self._lists[rows][order], scores[order])

    def _top_rows(
        self, queries: npt.NDArray[np.float32], k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Each query's ``k`` best rows and their scores, block by block of the matrix."""
        best_rows: list[np.ndarray] = []
        best_scores: list[np.ndarray] = []
        for start in range(0, self._count, BLOCK_ROWS):
            block = self._vectors[start : min(start + BLOCK_ROWS, self._count)]
            scores = (block @ queries.T).T  # this order: a third faster with OpenBLAS
            rows, top = _top_k(scores, k)
            best_rows.append(rows + start)
            best_scores.append(top)
        rows = np.concatenate(best_rows, axis=1)
        scores = np.concatenate(best_scores, axis=1)
        picked, top = _top_k(scores, k)
        return np.take_along_axis(rows, picked, axis=1), top

    def match(
        self, variants: Mapping[str, npt.ArrayLike], *, threshold: float, k: int = 10
    ) -> list[DescriptorMatch]:
        """``variants``: query variant name -> vector (e.g. "original", "crop-centre"). Each
        entry at or above ``threshold`` once, through the variant that came closest (the
        first named wins ties), best first."""
        names = list(variants)
        if not names:
            return []
        vectors = [np.asarray(variants[name], dtype=np.float64).ravel() for name in names]
        if any(vector.size != self.dimension for vector in vectors):
            raise InvalidVectorError(
                f"{self.signal}: a variant's vector is not {self.dimension} long"
            )
        hits = self.search(np.stack(vectors), k=k, threshold=threshold)
        best: dict[int, DescriptorMatch] = {}
        for i in np.lexsort((hits.query, -hits.score)).tolist():
            entry_id = int(hits.entry_id[i])
            if entry_id not in best:
                best[entry_id] = DescriptorMatch(
                    self.signal,
                    names[int(hits.query[i])],
                    entry_id,
                    int(hits.list_id[i]),
                    float(hits.score[i]),
                    threshold,
                )
        return list(best.values())

    # Persistence ---------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Write the whole index to ``path`` atomically: the old file or the new, never half."""
        signal, version = self.signal.encode(), self.version.encode()
        digest = hashlib.sha256()
        with replacing(path) as out:
            head = _HEADER.pack(
                MAGIC,
                FORMAT_VERSION,
                self.dimension,
                self._count,
                self.seq,
                len(signal),
                len(version),
            )
            for part in (
                head + signal + version,
                self._ids[: self._count].astype(_ID).tobytes(),
                self._lists[: self._count].astype(_LIST).tobytes(),
            ):
                _write(out, digest, part)
            for start in range(0, self._count, BLOCK_ROWS):  # no 1 GB copy of the matrix
                block = self._vectors[start : min(start + BLOCK_ROWS, self._count)]
                _write(out, digest, block.astype(_VALUE).tobytes())
            out.write(digest.digest())
        return path

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        signal: str | None = None,
        dimension: int | None = None,
        version: str | None = None,
    ) -> DescriptorIndex:
        """The index saved at ``path``; CorruptIndexError if it fails its checks, or if its
        vectors come from another descriptor than ``signal``, ``dimension`` and ``version``
        (each checked when given): those would be compared with meaningless scores."""
        data = _read(path)
        if len(data) < _HEADER.size + _DIGEST_BYTES:
            raise CorruptIndexError(str(path), "too short for a descriptor index")
        magic, form, dims, count, seq, signal_bytes, version_bytes = _HEADER.unpack_from(data)
        if magic != MAGIC or form != FORMAT_VERSION:
            raise CorruptIndexError(str(path), "not a descriptor index of this version")
        if not (
            0 < dims <= MAX_DIMENSION
            and 0 < signal_bytes <= MAX_SIGNAL_BYTES
            and version_bytes <= MAX_SIGNAL_BYTES
        ):
            raise CorruptIndexError(str(path), "header out of range")
        names = _HEADER.size + signal_bytes + version_bytes
        expected = names + count * (_ID.itemsize + _LIST.itemsize + dims * _VALUE.itemsize)
        expected += _DIGEST_BYTES
        if len(data) != expected:
            raise CorruptIndexError(str(path), f"{len(data)} bytes where {expected} belong")
        if hashlib.sha256(data[:-_DIGEST_BYTES]).digest() != data[-_DIGEST_BYTES:]:
            raise CorruptIndexError(str(path), "checksum mismatch")
        stored_signal = _text(path, data[_HEADER.size : _HEADER.size + signal_bytes])
        stored_version = _text(path, data[_HEADER.size + signal_bytes : names])
        index = cls(stored_signal, dims, version=stored_version, seq=seq)
        for label, wanted, held in (
            ("descriptor", signal, index.signal),
            ("version", version, index.version),
            ("dimension", dimension, index.dimension),
        ):
            if wanted is not None and wanted != held:
                raise CorruptIndexError(str(path), f"holds {label} {held!r}, not {wanted!r}")
        index._fill(path, data, names, count)
        return index

    def _fill(self, path: Path, data: memoryview, offset: int, count: int) -> None:
        ids = np.frombuffer(data, dtype=_ID, count=count, offset=offset)
        offset += count * _ID.itemsize
        lists = np.frombuffer(data, dtype=_LIST, count=count, offset=offset)
        offset += count * _LIST.itemsize
        vectors = np.frombuffer(data, dtype=_VALUE, count=count * self.dimension, offset=offset)
        self._vectors = vectors.reshape(count, self.dimension).astype(np.float32)
        self._ids = ids.astype(np.int64)
        self._lists = lists.astype(np.int32)
        self._count = count
        self._rows = {int(entry_id): row for row, entry_id in enumerate(self._ids.tolist())}
        if len(self._rows) != count:
            raise CorruptIndexError(str(path), "an entry id appears twice")


def _top_k(
    scores: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Per row of ``scores``, the columns of its ``k`` highest values (any order)."""
    if scores.shape[1] <= k:
        columns = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
        return np.array(columns, dtype=np.int64), scores
    columns = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return columns.astype(np.int64), np.take_along_axis(scores, columns, axis=1)


def _no_hits() -> DescriptorHits:
    return DescriptorHits(
        np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float32)
    )


def _check_ids(entry_id: int, list_id: int) -> None:
    if not 0 <= entry_id < 1 << 63:
        raise ValueError(f"entry id {entry_id} outside 0..2^63-1")
    if not 0 <= list_id <= MAX_LIST_ID:
        raise ValueError(f"list id {list_id} outside 0..{MAX_LIST_ID}")


def _write(out: IO[bytes], digest: Any, part: bytes) -> None:
    out.write(part)
    digest.update(part)


def _read(path: Path) -> memoryview:
    try:
        return memoryview(path.read_bytes())
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise CorruptIndexError(str(path), f"cannot be read: {exc.strerror}") from exc


def _text(path: Path, raw: memoryview) -> str:
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        raise CorruptIndexError(str(path), "a name in the header is not UTF-8") from None
