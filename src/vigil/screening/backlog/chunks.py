"""A source's listing cut into numbered chunks, the unit of a scan job's checkpoint.

Chunks are cut from the listing in its order, so the same listing cut again gives the same
chunks: a chunk redone after a crash replaces its own Parquet part and adds no match row.
A resumed job skips the objects its finished chunks hold (``after_checkpoint``) and numbers
its chunks on from the last finished one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from vigil.screening.backlog.objects import ObjectError, ObjectRef

Listed = ObjectRef | ObjectError


class ListingChanged(Exception):
    """The listing no longer holds the checkpoint where the finished chunks ended."""


@dataclass(frozen=True, slots=True)
class Chunk:
    number: int  # 1, 2, ...: its Parquet part
    items: tuple[Listed, ...]

    @property
    def last_key(self) -> str:
        return self.items[-1].key


def chunked(items: Iterable[Listed], size: int, first_number: int = 1) -> Iterator[Chunk]:
    if size < 1:
        raise ValueError(f"a chunk holds at least one object, not {size}")
    iterator = iter(items)
    number = first_number
    while batch := tuple(islice(iterator, size)):
        yield Chunk(number, batch)
        number += 1


def after_checkpoint(
    items: Iterable[Listed], done: int, checkpoint: str | None
) -> Iterator[Listed]:
    """The listing less its first ``done`` items, which the finished chunks hold; the last
    of them must be the ``checkpoint`` key, else the listing changed under the job (another
    manifest, objects deleted before the checkpoint) and skipping by count would be wrong."""
    iterator = iter(items)
    if done:
        last: Listed | None = None
        skipped = 0
        for item in islice(iterator, done):  # counted, not kept: ``done`` may be billions
            last, skipped = item, skipped + 1
        if skipped != done or last is None or last.key != checkpoint:
            raise ListingChanged(
                f"the listing no longer has {checkpoint!r} as its object {done}: "
                "start a new job instead of resuming"
            )
    yield from iterator
