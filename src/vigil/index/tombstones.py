"""A bitset of removed rows of an immutable segment: removals without touching its files."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Tombstones:
    def __init__(self, size: int) -> None:
        self.size = size
        self._bits = np.zeros((size + 7) // 8, dtype=np.uint8)
        self.count = 0

    def kill(self, rows: npt.NDArray[np.intp]) -> int:
        """Mark rows removed; returns how many were alive."""
        rows = np.unique(rows)
        fresh = rows[self.alive(rows)]
        np.bitwise_or.at(self._bits, fresh >> 3, (1 << (fresh & 7)).astype(np.uint8))
        self.count += len(fresh)
        return len(fresh)

    def alive(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        if not self.count:
            return np.ones(len(rows), dtype=np.bool_)
        return (self._bits[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1 == 0

    def alive_rows(self) -> npt.NDArray[np.intp]:
        dead = np.unpackbits(self._bits, bitorder="little")[: self.size].astype(np.bool_)
        return np.flatnonzero(~dead)
