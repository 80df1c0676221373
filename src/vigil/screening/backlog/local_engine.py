"""The default engine: hashing in this machine's pool of processes (vigil.fingerprint.batch,
each re-opening the source from its URI), matching here against the index opened once.

The pool pulls objects lazily and keeps at most its window of them in flight, so chunks in
flight stay bounded without another limit.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from vigil.fingerprint.batch import fingerprint_tasks
from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.chunk_matching import ChunkResult, match_chunk
from vigil.screening.backlog.chunks import Chunk
from vigil.screening.backlog.engine import EngineSettings
from vigil.screening.backlog.object_hashing import HashTask, hash_object, listing_failure, share
from vigil.screening.backlog.objects import ObjectError, ObjectRef
from vigil.screening.matcher import Matcher


@dataclass(slots=True)
class _Pending:
    chunk: Chunk
    fingerprints: list[Fingerprint | None] = field(default_factory=list)
    waiting: deque[int] = field(default_factory=deque)  # positions still being hashed

    @classmethod
    def of(cls, chunk: Chunk) -> _Pending:
        pending = cls(chunk, [None] * len(chunk.items))
        for position, item in enumerate(chunk.items):
            if isinstance(item, ObjectError):
                pending.fingerprints[position] = listing_failure(item)
            else:
                pending.waiting.append(position)
        return pending

    def finished(self) -> list[Fingerprint]:
        return [f for f in self.fingerprints if f is not None]


class LocalEngine:
    def __init__(self, matcher: Matcher, settings: EngineSettings) -> None:
        self.matcher = matcher
        self.settings = settings

    def run(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        pending: deque[_Pending] = deque()
        records = fingerprint_tasks(
            self._tasks(chunks, pending),
            hash_object,
            self.settings.options,
            self.settings.workers,
            timeout=self.settings.timeout,
        )
        with contextlib.closing(records):
            for record in records:
                head = next(p for p in pending if p.waiting)
                head.fingerprints[head.waiting.popleft()] = record
                yield from self._ready(pending)
        yield from self._ready(pending)

    def _tasks(self, chunks: Iterable[Chunk], pending: deque[_Pending]) -> Iterator[HashTask]:
        settings = self.settings
        rates = share(settings.rates, settings.workers)  # each worker reads at its share
        for chunk in chunks:
            pending.append(_Pending.of(chunk))
            for item in chunk.items:
                if isinstance(item, ObjectRef):
                    yield HashTask(settings.source_uri, item, settings.max_object_bytes, rates)

    def _ready(self, pending: deque[_Pending]) -> Iterator[ChunkResult]:
        while pending and not pending[0].waiting:
            done = pending.popleft()
            yield match_chunk(self.matcher, done.chunk, done.finished())

    def close(self) -> None:
        """The pool stops with the iterator; the matcher is its owner's to close."""
