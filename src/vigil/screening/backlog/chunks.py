"""A source's listing cut into numbered chunks, the unit of a scan job's checkpoint.

Chunks are cut from the listing in its order, so the same listing cut again gives the same
chunks: a chunk redone after a crash replaces its own Parquet part and adds no match row.
A resumed job lists on from its checkpoint (``resumed_listing``) and numbers its chunks on
from the last finished one. A source that can start its listing after a key (S3) is asked
for the keys after the checkpoint: no request for the finished ones, and objects added or
deleted before the checkpoint since the job started change nothing (added ones are not
scanned by this job). Any other source (a manifest, a key list, a local tree) is listed from
the start and its first ``done`` items skipped, which holds only if they are the same items:
the last of them must be the checkpoint, else :class:`ListingChanged`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from vigil.screening.backlog.objects import (
    ObjectError,
    ObjectRef,
    ObjectSource,
    ResumableSource,
)

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


def resumed_listing(source: ObjectSource, done: int, checkpoint: str | None) -> Iterator[Listed]:
    """The source's listing less what the job's ``done`` finished items hold, ``checkpoint``
    being the last of them: started after the checkpoint where the source can, else skipped."""
    if done and checkpoint and isinstance(source, ResumableSource):
        return after_key(source.objects_after(checkpoint), checkpoint)
    return after_checkpoint(source.objects(), done, checkpoint)


def after_key(items: Iterable[Listed], checkpoint: str) -> Iterator[Listed]:
    """A listing started after ``checkpoint``, less any object at or before it: a store that
    ignored the start marker costs the time to list them again, never a second scan."""
    for item in items:
        if isinstance(item, ObjectError) or item.key > checkpoint:
            yield item


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
