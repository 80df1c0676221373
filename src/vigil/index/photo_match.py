"""Photo lookups with query variants: which listed entries match, and through which variant.

Lists hold the hash of the original image; the query side adds hashes of its rotations,
mirrors and crops, so a flipped re-upload still matches. Each entry is reported once, with
the variant that came closest (the original wins ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vigil.index.pdq_index import PdqMatches


@dataclass(frozen=True, slots=True)
class PhotoMatch:
    entry_id: int
    list_id: int
    distance: int
    variant: str  # name of the query hash that came closest


def best_variants(matches: PdqMatches, variants: Sequence[str]) -> list[PhotoMatch]:
    """``matches`` from a lookup of one hash per name in ``variants`` (in that order)."""
    order = np.lexsort((matches.query, matches.distance))
    seen: set[tuple[int, int]] = set()
    best = []
    for i in order.tolist():
        key = (int(matches.entry_id[i]), int(matches.list_id[i]))
        if key not in seen:
            seen.add(key)
            best.append(
                PhotoMatch(
                    key[0], key[1], int(matches.distance[i]), variants[int(matches.query[i])]
                )
            )
    return best
