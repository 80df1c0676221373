"""The second screening stage: an upload's region hashes against the pictures Vigil holds.

A copy of confirmed or labelled content with a caption bar or a watermark over part of it is
often out of the reach of its whole-picture PDQ; the same named region of both, with the
overlaid band left out, is not (vigil.fingerprint.held_regions). Regions are compared only
with held regions of the same name, by a NumPy Hamming scan over every held row: linear in
the held set, fine for the thousands a platform or a clearinghouse holds.

The held table is loaded per screening rather than cached: it changes with every
confirmation and label, and one query of a few thousand rows costs less than keeping a cache
current; a cache kept fresh by the change feed would replace it when the held set grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vigil.fingerprint.held_regions import HELD_REGION_DISTANCE, SIGNAL, RegionHash
from vigil.store import Database
from vigil.store.records.held_regions import HeldOwner, HeldTable, holds_any, load_all


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


def any_held(database: Database) -> bool:
    """Whether Vigil holds any picture: only then is an upload's region hashing worth its
    few milliseconds."""
    with database.transaction() as session:
        return holds_any(session)


def held_matches(database: Database, query: Sequence[RegionHash]) -> list[HeldMatch]:
    """The held pictures ``query`` matches, from the held table as committed now."""
    if not query:
        return []
    with database.transaction() as session:
        table = load_all(session)
    return scan(table, query)
