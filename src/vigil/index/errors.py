"""Errors the index layer raises: bad input, and files that cannot be trusted."""

from __future__ import annotations


class VigilIndexError(Exception):
    """Base class of everything this layer raises."""


class InvalidHashError(VigilIndexError, ValueError):
    """A hash or digest that is not the expected number of hex characters."""


class CorruptIndexError(VigilIndexError):
    """A snapshot or change log failed its size or checksum check.

    Lookups never run on such files: the caller rebuilds the snapshot or replays the changes
    from the database starting after the last good sequence number.
    """

    def __init__(self, path: str, reason: str, last_good_seq: int | None = None) -> None:
        detail = f"{path}: {reason}"
        if last_good_seq is not None:
            detail += f" (last intact change: seq {last_good_seq})"
        super().__init__(detail)
        self.path = path
        self.reason = reason
        self.last_good_seq = last_good_seq


class SequenceError(VigilIndexError, ValueError):
    """Changes arrived out of order, or a snapshot is older than what it should replace."""


class InvalidVectorError(VigilIndexError, ValueError):
    """A descriptor vector of the wrong length, not finite, or zero."""
