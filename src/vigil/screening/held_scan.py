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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vigil.fingerprint.held_regions import HELD_REGION_DISTANCE, SIGNAL, RegionHash
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
    """A held picture an upload's region came within reach of, and which region: what a
    reviewer needs to judge it."""

    region: str
    distance: int
    case_item_id: int | None
    intake_file_id: int | None
    signal: str = SIGNAL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scan(
    table: HeldTable, query: Sequence[RegionHash], limit: int = HELD_REGION_DISTANCE
) -> list[HeldMatch]:
    """Each held picture within ``limit`` of a same-named strong region of ``query``, by its
    closest region, closest first."""
    best: dict[HeldOwner, HeldMatch] = {}
    for region in query:
        if region.pdq.weak or not len(table):
            continue
        rows = np.flatnonzero(table.regions == region.region)
        if not rows.size:
            continue
        words = np.frombuffer(bytes.fromhex(region.pdq.hex), dtype=">u8").astype(np.uint64)
        distances = np.bitwise_count(table.bits[rows] ^ words).sum(axis=1)
        near = distances <= limit  # only the few within reach go through Python
        for row, distance in zip(rows[near].tolist(), distances[near].tolist(), strict=True):
            owner = table.owners[row]
            known = best.get(owner)
            if known is None or distance < known.distance:
                best[owner] = HeldMatch(
                    region.region, int(distance), owner.case_item_id, owner.intake_file_id
                )
    return sorted(best.values(), key=lambda m: (m.distance, m.region))


class HeldCatalogue:
    """The held table of one process, reloaded only when the held set changed.

    Current like the list index (vigil.screening.live_index): every hold committed before
    ``started`` (a ``time.monotonic()`` value of the request; default now) is seen, and
    within one request later calls cost nothing. Thread-safe."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._table: HeldTable | None = None
        self._stamp: HeldStamp | None = None
        self._checked = float("-inf")

    def holds_any(self, started: float | None = None) -> bool:
        """Whether Vigil holds any picture now: only then is an upload worth the region
        hashes (a few milliseconds a photo)."""
        return self._stamped(started)[0] > 0

    def matches(self, query: Sequence[RegionHash], started: float | None = None) -> list[HeldMatch]:
        """The held pictures ``query`` matches, from the held set as committed at
        ``started``."""
        if not query:
            return []
        self._stamped(started)
        with self._lock:
            table = self._table
        return scan(table, query) if table is not None else []

    def _stamped(self, started: float | None) -> HeldStamp:
        with self._lock:
            if self._stamp is not None and started is not None and self._checked >= started:
                return self._stamp
            checked = time.monotonic()
            with self.database.engine.connect() as connection:
                stamp = held_stamp(connection)
            if stamp != self._stamp:
                self._table, stamp = self._load()
            self._stamp, self._checked = stamp, checked
            return stamp

    def _load(self) -> tuple[HeldTable, HeldStamp]:
        # The stamp is read before the rows: rows newer than their stamp only cost one more
        # load at the next check, while a stamp newer than its rows would hide a change.
        with self.database.transaction() as session:
            stamp = held_stamp(session.connection())
            return load_all(session), stamp
