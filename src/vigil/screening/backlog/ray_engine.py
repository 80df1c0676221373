"""The Ray engine: hashing in Ray tasks (one per chunk, anywhere in the cluster), matching in
a pool of actors that each open the database and the match index once and follow the change
feed (the freshness contract of LiveIndex), as the local engine's driver does.

At most ``chunks_in_flight`` chunks are submitted and not yet handed back: Ray's object
store, like the local pool's window, holds a bounded part of the job whatever its size.
Results come back in chunk order. ``ray.init(address=...)`` joins a cluster; no address
starts a local Ray on this machine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from vigil.core.settings import Settings
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.chunk_matching import ChunkResult, match_chunk
from vigil.screening.backlog.chunks import Chunk
from vigil.screening.backlog.engine import EngineSettings
from vigil.screening.backlog.object_hashing import (
    HashTask,
    Rates,
    hash_object,
    listing_failure,
    share,
)
from vigil.screening.backlog.objects import ObjectError


def hash_chunk(
    chunk: Chunk, source_uri: str, max_bytes: int, options: FingerprintOptions, rates: Rates
) -> list[Fingerprint]:
    """A chunk's fingerprints in order (the body of the Ray hashing task)."""
    return [
        listing_failure(item)
        if isinstance(item, ObjectError)
        else hash_object(HashTask(source_uri, item, max_bytes, rates), options)
        for item in chunk.items
    ]


class ChunkMatcher:
    """The body of a match actor: the database and the live index, opened once."""

    def __init__(self, settings: Settings, only_lists: list[str] | None) -> None:
        from vigil.screening.live_index import LiveIndex, index_root
        from vigil.screening.matcher import Matcher
        from vigil.store import open_database

        self.database = open_database(settings)
        self.live = LiveIndex.open(self.database, index_root(settings.data_dir))
        self.matcher = Matcher(self.live, only_lists=only_lists)

    def match(self, chunk: Chunk, fingerprints: list[Fingerprint]) -> ChunkResult:
        return match_chunk(self.matcher, chunk, fingerprints)

    def close(self) -> None:
        self.live.close()
        self.database.dispose()


class RayEngine:
    def __init__(
        self,
        vigil_settings: Settings,
        settings: EngineSettings,
        *,
        only_lists: list[str] | None = None,
        address: str | None = None,
        actors: int = 1,
    ) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.ray: Any = ray
        self.settings = settings
        self._hash = ray.remote(num_cpus=1)(hash_chunk)
        actor: Any = ray.remote(num_cpus=0)(ChunkMatcher)
        self._actors: list[Any] = [
            actor.remote(vigil_settings, only_lists) for _ in range(max(1, actors))
        ]

    def run(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        settings = self.settings
        in_flight: deque[Any] = deque()
        # At most ``chunks_in_flight`` hashing tasks read at once: each takes its share.
        rates = share(settings.rates, settings.chunks_in_flight)
        for turn, chunk in enumerate(chunks):
            hashed = self._hash.remote(
                chunk, settings.source_uri, settings.max_object_bytes, settings.options, rates
            )
            # Ray hands the hashing task's result to the actor without coming back here.
            actor = self._actors[turn % len(self._actors)]
            in_flight.append(actor.match.remote(chunk, hashed))
            if len(in_flight) >= settings.chunks_in_flight:
                yield self.ray.get(in_flight.popleft())
        while in_flight:
            yield self.ray.get(in_flight.popleft())

    def close(self) -> None:
        for actor in self._actors:
            try:
                self.ray.get(actor.close.remote())
            finally:
                self.ray.kill(actor)
        self._actors = []
