"""Which lists a PDQ lookup searches, and how far from the query each list accepts a hash."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

DEFAULT_DISTANCE = 31  # PDQ's recommended match threshold
# Every distance the database accepts is exact. Up to about 48 bits at 10 million rows the
# tables are cheaper; beyond that the segment scans (random pairs sit ~128 bits apart, so such
# distances match floods of unrelated images).
MAX_DISTANCE = 256
MAX_LIST_ID = 0xFFFF  # list ids are stored as uint16 beside every hash
NO_LIMIT = -1


@dataclass(frozen=True, slots=True)
class ListDistances:
    """Per-list match distances; lists not named use ``default`` (``None``: not searched)."""

    default: int | None = DEFAULT_DISTANCE
    per_list: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(
        cls, distances: Mapping[int, int], default: int | None = DEFAULT_DISTANCE
    ) -> ListDistances:
        return cls(default, tuple(sorted(distances.items())))

    @classmethod
    def only(cls, distances: Mapping[int, int]) -> ListDistances:
        """Search just these lists."""
        return cls.of(distances, default=None)

    def __post_init__(self) -> None:
        for list_id, distance in self.per_list:
            if not 0 <= list_id <= MAX_LIST_ID:
                raise ValueError(f"list id {list_id} outside 0..{MAX_LIST_ID}")
            _check_distance(distance)
        if self.default is not None:
            _check_distance(self.default)

    @property
    def max_distance(self) -> int:
        """The search radius that covers every list; -1 when no list is searched."""
        named = [d for _, d in self.per_list]
        if self.default is not None:
            named.append(self.default)
        return max(named, default=NO_LIMIT)

    def limits(self) -> npt.NDArray[np.int16]:
        """Accepted distance indexed by list id (-1: list not searched)."""
        return _limits(self)


def _check_distance(distance: int) -> None:
    if not 0 <= distance <= MAX_DISTANCE:
        raise ValueError(f"PDQ distance {distance} outside 0..{MAX_DISTANCE}")


@lru_cache(maxsize=64)
def _limits(distances: ListDistances) -> npt.NDArray[np.int16]:
    default = NO_LIMIT if distances.default is None else distances.default
    table = np.full(MAX_LIST_ID + 1, default, dtype=np.int16)
    for list_id, distance in distances.per_list:
        table[list_id] = distance
    table.flags.writeable = False
    return table
