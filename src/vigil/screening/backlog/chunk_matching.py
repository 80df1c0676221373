"""A hashed chunk's matches: each object's fingerprint through the Matcher, as match rows.

The same function runs in the local engine's driver and in each Ray match actor, so both
engines find the same matches for the same fingerprints. A chunk is matched against the lists
as they were committed when its matching started: one freshness check a chunk, not one
database query per object (at cluster speed that was the database's heaviest load).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.chunks import Chunk, Listed
from vigil.screening.backlog.objects import ObjectRef
from vigil.screening.matcher import Matcher
from vigil.store.scan_jobs.jobs import MatchRow


@dataclass(frozen=True, slots=True)
class ChunkResult:
    chunk: Chunk
    fingerprints: tuple[Fingerprint, ...]  # one per item, in the chunk's order
    matches: tuple[MatchRow, ...]

    def rows(self) -> list[tuple[Listed, Fingerprint]]:
        return list(zip(self.chunk.items, self.fingerprints, strict=True))


def match_chunk(matcher: Matcher, chunk: Chunk, fingerprints: Sequence[Fingerprint]) -> ChunkResult:
    rows: list[MatchRow] = []
    started = time.monotonic()
    for item, fingerprint in zip(chunk.items, fingerprints, strict=True):
        if isinstance(item, ObjectRef):
            rows.extend(object_matches(matcher, item, fingerprint, started))
    return ChunkResult(chunk, tuple(fingerprints), tuple(rows))


def object_matches(
    matcher: Matcher, ref: ObjectRef, fingerprint: Fingerprint, started: float | None = None
) -> list[MatchRow]:
    """An object that could not be decoded still matches on its digests (``matchable``).
    Every list change committed before ``started`` (default: now) is applied first."""
    screening = matcher.screen(fingerprint.matchable(), started)
    if not screening.matches:
        return []
    list_ids = {settings.name: list_id for list_id, settings in matcher.live.lists.items()}
    rows: dict[int, MatchRow] = {}  # one row per entry, as the table keeps them
    for match in screening.matches:
        rows.setdefault(
            match.entry_id,
            MatchRow(
                ref.identity,
                ref.bucket,
                ref.key,
                ref.version,
                list_ids[match.list],
                match.entry_id,
                match.signal_type,
                match.distance,
            ),
        )
    return list(rows.values())
