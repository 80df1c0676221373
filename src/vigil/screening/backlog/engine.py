"""What a scan engine does: hash and match a stream of chunks, handing back each chunk's
result in the chunk's order, with a bounded number of chunks in flight (backpressure: memory
does not grow with the source). The job runner writes and checkpoints what it hands back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from vigil.fingerprint import batch
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.screening.backlog.chunk_matching import ChunkResult
from vigil.screening.backlog.chunks import Chunk
from vigil.screening.backlog.object_hashing import NO_CEILING, Rates

ENGINES = ("local", "ray")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    source_uri: str  # where hashing processes re-open the source
    max_object_bytes: int
    options: FingerprintOptions = field(default_factory=FingerprintOptions)
    workers: int = 1  # hashing processes (local) or CPUs asked of Ray per hashing task
    chunks_in_flight: int = 4
    timeout: float = batch.DEFAULT_TIMEOUT  # seconds one object may take (local, 2+ workers)
    rates: Rates = NO_CEILING  # the job's ceilings on object-store requests/s and bytes/s


class ScanEngine(Protocol):
    def run(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """Each chunk's result, in order. Close the iterator to stop early."""
        ...

    def close(self) -> None: ...
