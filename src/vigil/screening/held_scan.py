"""The second screening stage: an upload's region hashes against the pictures Vigil holds.

A copy of confirmed or labelled content with a caption bar or a watermark over part of it is
often out of the reach of its whole-picture PDQ; the same named region of both, with the
overlaid band left out, is not (vigil.fingerprint.held_regions). Regions are compared only
with held regions of the same name, by a NumPy Hamming scan over every held row: linear in
the held set, fine for the thousands a platform or a clearinghouse holds.

The held table is kept in memory by HeldCatalogue and is as current as the lists: before an
upload is compared, one small query on a bare connection (count, newest id and time of the
held rows) says whether anything was held or let go since the table was loaded, and only
then is it loaded again. An upload of a service that holds nothing is not region-hashed at
all: the same query says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.fingerprint import held_windows, pdq
from vigil.fingerprint.descriptors.base import Vector
from vigil.fingerprint.held_regions import HELD_REGION_DISTANCE, SIGNAL, RegionHash
from vigil.fingerprint.record import Fingerprint
from vigil.store import Database
from vigil.store.records.held_regions import (
    HeldOwner,
    HeldStamp,
    HeldTable,
    held_stamp,
    load_all,
)


@dataclass(frozen=True, slots=True)
class HeldMatch:
    """A held picture an upload came within reach of, by which signal and part: a region
    (``held_region``: the same named region of both) or a window (``held_window``: the
    whole upload against a window of the held picture, with the colour layout's
    ``similarity``). What a reviewer needs to judge it."""

    region: str
    distance: int
    case_item_id: int | None
    intake_file_id: int | None
    signal: str = SIGNAL
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def strength(self) -> tuple[int, float]:
        """Smaller is stronger: a region match before a window's, then the closest."""
        if self.similarity is None:
            return 0, self.distance
        return 1, -self.similarity


@dataclass(frozen=True, slots=True)
class HeldQuery:
    """What an upload brings to the held stage: its region hashes, and its whole-picture
    PDQ and colour layout for the windows (None when there are none)."""

    regions: Sequence[RegionHash] = ()
    pdq: pdq.PdqHash | None = None
    vector: Vector | None = None

    def __bool__(self) -> bool:
        return bool(self.regions) or (self.pdq is not None and self.vector is not None)


def held_query(fingerprint: Fingerprint) -> HeldQuery:
    """The held stage's query from a fingerprint made with held regions asked for."""
    whole = None
    if fingerprint.pdq is not None and fingerprint.held_vector is not None:
        whole = pdq.PdqHash(fingerprint.pdq, fingerprint.pdq_quality or 0)
    return HeldQuery(fingerprint.held_regions, whole, fingerprint.held_vector)


@dataclass(frozen=True, slots=True)
class HeldIndex:
    """A held table arranged for the per-upload scan, once per load: each region name's rows
    and bits, and the window rows' bits and vectors, contiguous. Slicing them out of the
    whole table on every upload cost more than the comparisons (about 10 ms an upload at
    10,000 held pictures, benchmarks/bench_held_regions.py)."""

    owners: tuple[HeldOwner, ...]
    regions: dict[str, tuple[NDArray[np.intp], NDArray[np.uint64]]]
    window_rows: NDArray[np.intp]
    window_bits: NDArray[np.uint64]
    window_vectors: NDArray[np.float32]
    names: NDArray[np.str_]

    @classmethod
    def of(cls, table: HeldTable) -> HeldIndex:
        windows = np.flatnonzero(table.windows) if len(table.windows) else np.zeros(0, np.intp)
        plain = np.setdiff1d(np.arange(len(table)), windows)
        regions = {}
        for name in np.unique(table.regions[plain]):
            rows = plain[table.regions[plain] == name]
            regions[str(name)] = (rows, np.ascontiguousarray(table.bits[rows]))
        return cls(
            table.owners,
            regions,
            windows,
            np.ascontiguousarray(table.bits[windows]),
            np.ascontiguousarray(table.vectors[windows], dtype=np.float32),
            table.regions,
        )


def scan(
    table: HeldTable | HeldIndex, query: HeldQuery, limit: int = HELD_REGION_DISTANCE
) -> list[HeldMatch]:
    """Each held picture that a same-named strong region of ``query`` is within ``limit``
    of, or one of whose windows the whole query matches, by its strongest match, strongest
    first."""
    index = table if isinstance(table, HeldIndex) else HeldIndex.of(table)
    best: dict[HeldOwner, HeldMatch] = {}
    for match in [*_region_matches(index, query, limit), *_window_matches(index, query)]:
        owner = HeldOwner(match.case_item_id, match.intake_file_id)
        known = best.get(owner)
        if known is None or match.strength < known.strength:
            best[owner] = match
    return sorted(best.values(), key=lambda m: (m.strength, m.region))


def _words(digest: pdq.PdqHash) -> NDArray[np.uint64]:
    return np.frombuffer(bytes.fromhex(digest.hex), dtype=">u8").astype(np.uint64)


def _region_matches(index: HeldIndex, query: HeldQuery, limit: int) -> Iterator[HeldMatch]:
    for region in query.regions:
        if region.pdq.weak or region.region not in index.regions:
            continue
        rows, bits = index.regions[region.region]
        distances = np.bitwise_count(bits ^ _words(region.pdq)).sum(axis=1)
        near = distances <= limit  # only the few within reach go through Python
        for row, distance in zip(rows[near].tolist(), distances[near].tolist(), strict=True):
            owner = index.owners[row]
            yield HeldMatch(region.region, int(distance), owner.case_item_id, owner.intake_file_id)


def _window_matches(index: HeldIndex, query: HeldQuery) -> Iterator[HeldMatch]:
    """held_windows' rule (within_reach), over every window row at once."""
    if query.pdq is None or query.vector is None or query.pdq.weak or not index.window_rows.size:
        return
    distances = np.bitwise_count(index.window_bits ^ _words(query.pdq)).sum(axis=1)
    similarities = index.window_vectors @ query.vector.astype(np.float32)
    near = held_windows.within_reach(distances, similarities)
    rows = index.window_rows[near]
    for row, distance, alike in zip(
        rows.tolist(), distances[near].tolist(), similarities[near].tolist(), strict=True
    ):
        owner = index.owners[row]
        yield HeldMatch(
            str(index.names[row]),
            int(distance),
            owner.case_item_id,
            owner.intake_file_id,
            held_windows.SIGNAL,
            round(float(alike), 3),
        )


class HeldCatalogue:
    """The held table of one process, reloaded only when the held set changed.

    Current like the list index (vigil.screening.live_index): every hold committed before
    ``started`` (a ``time.monotonic()`` value of the request; default now) is seen, and
    within one request later calls cost nothing. Thread-safe."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._index: HeldIndex | None = None
        self._stamp: HeldStamp | None = None
        self._checked = float("-inf")

    def holds_any(self, started: float | None = None) -> bool:
        """Whether Vigil holds any picture now: only then is an upload worth the region
        hashes (a few milliseconds a photo)."""
        return self._stamped(started)[0] > 0

    def matches(self, query: HeldQuery, started: float | None = None) -> list[HeldMatch]:
        """The held pictures ``query`` matches, from the held set as committed at
        ``started``."""
        if not query:
            return []
        self._stamped(started)
        with self._lock:
            index = self._index
        return scan(index, query) if index is not None else []

    def _stamped(self, started: float | None) -> HeldStamp:
        with self._lock:
            if self._stamp is not None and started is not None and self._checked >= started:
                return self._stamp
            checked = time.monotonic()
            with self.database.engine.connect() as connection:
                stamp = held_stamp(connection)
            if stamp != self._stamp:
                table, stamp = self._load()
                self._index = HeldIndex.of(table)
            self._stamp, self._checked = stamp, checked
            return stamp

    def _load(self) -> tuple[HeldTable, HeldStamp]:
        # The stamp is read before the rows: rows newer than their stamp only cost one more
        # load at the next check, while a stamp newer than its rows would hide a change.
        with self.database.transaction() as session:
            stamp = held_stamp(session.connection())
            return load_all(session), stamp
