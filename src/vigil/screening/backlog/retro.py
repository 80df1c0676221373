"""Retroactive matching: stored fingerprints against the list entries changed since a
checkpoint, without reading any media again.

Only the delta is matched, never the whole lists: digests by set membership (Arrow's
``is_in`` over each row group), photos (the PDQ and every stored variant) through
vigil.index.delta_match at each list's distance and minimum quality, videos by vPDQ's share
rule against an index of the changed videos only, after delta_match has picked the stored
videos with at least one frame near one of theirs. The stored side streams from the Parquet
parts in blocks, so memory stays bounded whatever the backlog's size. What lists matched
before the checkpoint is not looked at: a match here is one the checkpoint had not seen.
Given the live Matcher, the few objects that matched are screened whole once more, so an
allow-list entry silences them as it would in live screening.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vigil.fingerprint.video import FrameHash
from vigil.index.codes import Words, pdq_words
from vigil.index.delta_match import DEFAULT_BLOCK_ROWS, DeltaMatcher, Strategy
from vigil.index.distances import ListDistances
from vigil.index.match_index import MatchIndex
from vigil.screening.backlog.fingerprint_store import (
    PDQ,
    FingerprintStore,
    pdq_column_words,
)
from vigil.screening.backlog.retro_delta import DIGEST_TYPES, ListDelta, read_delta
from vigil.screening.backlog.scan_job import JOBS_DIR
from vigil.screening.feed_changes import index_change
from vigil.screening.matcher import ORIGINAL, Matcher
from vigil.store.database import Database
from vigil.store.lists.change_feed import EntryChange
from vigil.store.models import SignalType

COLUMNS = ["identity", "md5", "sha1", "sha256", "pdq", "pdq_quality", "pdq_variants", "error"]
VIDEO_COLUMNS = ["identity", "frames", "error"]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class RetroMatch:
    identity: str  # the stored object
    list_id: int
    entry_id: int
    signal_type: str  # md5, sha1, sha256, pdq or video_pdq
    distance: int | None = None  # PDQ: of the closest variant
    variant: str | None = None  # PDQ: which stored hash came closest (the original wins ties)


@dataclass(frozen=True, slots=True)
class RetroResult:
    since: int
    checkpoint: int  # the next run's ``since``
    entries: int  # changed entries matched against
    matches: list[RetroMatch]
    # matches of objects an allow-list entry silences, as live screening would (needs a Matcher)
    suppressed: list[RetroMatch] = field(default_factory=list)


def job_stores(data_dir: Path) -> list[FingerprintStore]:
    """The fingerprint store of every scan job under the data directory."""
    root = data_dir / JOBS_DIR
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return [FingerprintStore(folder) for folder in folders]


def run_retro(
    database: Database,
    stores: Sequence[FingerprintStore],
    since: int,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    matcher: Matcher | None = None,
) -> RetroResult:
    """Match every store against the entries changed after ``since``. With ``matcher`` (the
    live index of every list), an object whose fingerprint an allow-list entry matches has
    its matches moved to ``suppressed``: only the few objects that matched are screened."""
    with database.transaction() as session:
        delta = read_delta(session, since)
    result = RetroResult(delta.since, delta.checkpoint, len(delta), [])
    for store in stores:
        found = list(match_store(store, delta, block_rows=block_rows))
        allowed = _allowed(store, {m.identity for m in found}, matcher) if found else set()
        result.matches.extend(m for m in found if m.identity not in allowed)
        result.suppressed.extend(m for m in found if m.identity in allowed)
    return result


def _allowed(store: FingerprintStore, identities: set[str], matcher: Matcher | None) -> set[str]:
    """The objects live screening would silence: an enabled allow-list entry matches them."""
    if matcher is None:
        return set()
    prints = store.fingerprints_of(identities)
    return {
        identity
        for identity, fingerprint in prints.items()
        if matcher.screen(fingerprint.matchable()).suppressed_by
    }


def match_store(
    store: FingerprintStore,
    delta: ListDelta,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    strategy: Strategy | None = None,
) -> Iterator[RetroMatch]:
    """``strategy``: force one way of joining photos (benchmarks); None picks the cheapest."""
    if not len(delta):
        return
    digests = _DigestDelta(delta)
    photos = _PhotoDelta(delta, block_rows, strategy)
    for batch in store.batches(COLUMNS):
        yield from digests.match(batch)
        yield from photos.add(batch)
    yield from photos.flush()
    if delta.of_type(SignalType.VIDEO_PDQ):
        videos = _VideoDelta(delta)
        for batch in store.batches(VIDEO_COLUMNS):
            yield from videos.match(batch)


class _DigestDelta:
    def __init__(self, delta: ListDelta) -> None:
        # One digest may be listed in several lists: every entry holding it matches.
        self.entries: dict[SignalType, dict[bytes, list[EntryChange]]] = {}
        for kind in DIGEST_TYPES:
            by_value = self.entries.setdefault(kind, {})
            for entry in delta.of_type(kind):
                by_value.setdefault(bytes.fromhex(entry.signal), []).append(entry)
        self.values = {
            kind: pa.array(list(found), type=pa.binary(len(next(iter(found)))))
            for kind, found in self.entries.items()
            if found
        }

    def match(self, batch: pa.RecordBatch) -> Iterator[RetroMatch]:
        for kind, values in self.values.items():
            column = batch.column(kind.value)
            hits = np.flatnonzero(pc.is_in(column, value_set=values).to_numpy(zero_copy_only=False))
            for row in hits.tolist():
                identity = str(batch.column("identity")[row].as_py())
                for entry in self.entries[kind][column[row].as_py()]:
                    yield RetroMatch(identity, entry.list_id, entry.entry_id, kind.value)


@dataclass
class _Queries:
    """Stored PDQ hashes waiting for a block: each with its object and variant. Identities and
    variant names stay in Arrow until a match needs one (no Python string per hash)."""

    words: list[Words] = field(default_factory=list)
    owner: list[IntArray] = field(default_factory=list)  # object: position in ``identities``
    rank: list[IntArray] = field(default_factory=list)  # 0: the original; i: its i-th variant
    variant: list[IntArray] = field(default_factory=list)  # position in ``names``; -1: original
    quality: list[npt.NDArray[np.int16]] = field(default_factory=list)
    identities: list[pa.Array] = field(default_factory=list)
    names: list[pa.Array] = field(default_factory=list)
    hashes: int = 0
    objects: int = 0
    variants: int = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """The batch's matchable photos (hashed to the end: no error)."""
        pdq = batch.column("pdq")
        usable = np.flatnonzero(
            pc.and_(pdq.is_valid(), batch.column("error").is_null()).to_numpy(zero_copy_only=False)
        )
        if not len(usable):
            return
        taken = pa.array(usable)
        quality = batch.column("pdq_quality").fill_null(0).to_numpy(zero_copy_only=False)
        quality = quality[usable].astype(np.int16)
        self._add(pdq_column_words(pdq)[usable], np.arange(len(usable)), quality, None)
        self.identities.append(batch.column("identity").take(taken))
        variants = batch.column("pdq_variants").take(taken)
        flat = variants.flatten()
        if len(flat):
            parents = pc.list_parent_indices(variants).to_numpy(zero_copy_only=False)
            parents = parents.astype(np.intp)
            starts = variants.offsets.to_numpy()[:-1] - variants.offsets[0].as_py()
            rank = np.arange(len(flat)) - starts[parents] + 1
            words = pdq_column_words(flat.field("pdq").cast(PDQ))
            self._add(words, parents, quality[parents], rank)
            self.names.append(flat.field("variant"))
            self.variants += len(flat)
        self.objects += len(usable)

    def _add(
        self,
        words: Words,
        objects: IntArray,
        quality: npt.NDArray[np.int16],
        rank: IntArray | None,
    ) -> None:
        self.words.append(words)
        self.owner.append(self.objects + objects)
        self.quality.append(quality)
        count = len(words)
        if rank is None:
            self.rank.append(np.zeros(count, dtype=np.intp))
            self.variant.append(np.full(count, -1, dtype=np.intp))
        else:
            self.rank.append(rank)
            self.variant.append(self.variants + np.arange(count))
        self.hashes += count


class _PhotoDelta:
    def __init__(self, delta: ListDelta, block_rows: int, strategy: Strategy | None) -> None:
        entries = delta.of_type(SignalType.PDQ)
        self.block_rows = block_rows
        self.entry_ids = [e.entry_id for e in entries]
        self.list_ids = [e.list_id for e in entries]
        settings = [delta.lists[e.list_id] for e in entries]
        self.min_quality = np.array([s.min_quality for s in settings], dtype=np.int16)
        words = pdq_words([e.signal for e in entries])
        radii = np.array([s.pdq_distance for s in settings], dtype=np.int16)
        self.matcher = DeltaMatcher(words, radii, strategy=strategy) if entries else None
        self.pending = _Queries()

    def add(self, batch: pa.RecordBatch) -> Iterator[RetroMatch]:
        if self.matcher is None:
            return
        self.pending.add(batch)
        if self.pending.hashes >= self.block_rows:
            yield from self.flush()

    def flush(self) -> Iterator[RetroMatch]:
        queries, self.pending = self.pending, _Queries()
        if self.matcher is None or not queries.words:
            return
        words = np.concatenate(queries.words)
        queries.words.clear()  # the pieces go before the tables over the block are built
        pairs = self.matcher.match(words)
        del words
        owner, rank = np.concatenate(queries.owner), np.concatenate(queries.rank)
        quality, variant = np.concatenate(queries.quality), np.concatenate(queries.variant)
        keep = quality[pairs.query] >= self.min_quality[pairs.entry]
        query, entry, distance = pairs.query[keep], pairs.entry[keep], pairs.distance[keep]
        identities = pa.chunked_array(queries.identities, pa.string())
        names = pa.chunked_array(queries.names, pa.string())
        # Closest variant per (object, entry), the original first on a tie.
        order = np.lexsort((rank[query], distance, entry, owner[query]))
        seen: set[tuple[int, int]] = set()
        for i in order.tolist():
            key = (int(owner[query[i]]), int(entry[i]))
            if key in seen:
                continue
            seen.add(key)
            position = int(variant[query[i]])
            yield RetroMatch(
                str(identities[key[0]].as_py()),
                self.list_ids[key[1]],
                self.entry_ids[key[1]],
                SignalType.PDQ.value,
                int(distance[i]),
                ORIGINAL if position < 0 else str(names[position].as_py()),
            )


class _VideoDelta:
    """The changed videos in a small index of their own; stored videos go through vPDQ's
    rule against it only when one of their frames is near one of its frames."""

    def __init__(self, delta: ListDelta) -> None:
        videos = delta.of_type(SignalType.VIDEO_PDQ)
        self.distances = ListDistances.only(
            {e.list_id: delta.lists[e.list_id].pdq_distance for e in videos}
        )
        self.index = MatchIndex.from_changes(index_change(e) for e in videos)
        frames = self.index.video.live_rows()
        radii = np.array(self.distances.limits())[frames.list_ids]
        self.matcher = DeltaMatcher(frames.hashes, radii)

    def match(self, batch: pa.RecordBatch) -> Iterator[RetroMatch]:
        frames = batch.column("frames")
        usable = pc.and_(frames.is_valid(), batch.column("error").is_null())
        flat = frames.flatten()
        if not len(flat) or not pc.any(usable).as_py():
            return
        parents = pc.list_parent_indices(frames).to_numpy(zero_copy_only=False)
        pairs = self.matcher.match(pdq_column_words(flat.field("pdq").cast(PDQ)))
        near = np.unique(parents[pairs.query])
        for row in near[usable.to_numpy(zero_copy_only=False)[near]].tolist():
            stored = [FrameHash(f["t"], f["pdq"].hex(), f["quality"]) for f in frames[row].as_py()]
            identity = str(batch.column("identity")[row].as_py())
            for found in self.index.match_video(stored, self.distances):
                if found.is_match:  # vPDQ's share rule, as live screening applies it
                    yield RetroMatch(
                        identity, found.list_id, found.entry_id, SignalType.VIDEO_PDQ.value
                    )
