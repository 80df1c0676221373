"""Everything screening looks up, kept current from the database's change stream and
persisted as a snapshot plus a change log.

One writer process applies changes (appending them to the log) and now and then compacts
into a new snapshot; any number of reader processes open the same directory memory-mapped
and call ``refresh`` to pick up the log's new records or a newer snapshot.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import groupby, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.core.private_files import FILE_MODE, private_directory
from vigil.fingerprint.video import FrameHash
from vigil.index.change_log import HEADER_BYTES, ChangeLog
from vigil.index.changes import Change, Kind, Op
from vigil.index.codes import PdqInput
from vigil.index.digest_index import DigestIndex, DigestInput, DigestMatches, DigestSegment
from vigil.index.distances import ListDistances
from vigil.index.errors import CorruptIndexError, SequenceError
from vigil.index.pdq_index import DEFAULT_DISTANCES, PdqIndex, PdqMatches
from vigil.index.pdq_segment import PdqSegment
from vigil.index.photo_match import PhotoMatch, best_variants
from vigil.index.snapshot import (
    Group,
    current,
    load_snapshot,
    log_path,
    publish,
    remove_stale,
    snapshot_name,
    write_snapshot,
)
from vigil.index.video_match import (
    DEFAULT_MIN_QUALITY,
    FrameHits,
    QueryFrames,
    VideoMatch,
    match_videos,
)

DIGEST_KINDS = (Kind.MD5, Kind.SHA1, Kind.SHA256)
LOCK = "LOCK"
COMPACT_ROWS = 100_000  # rows added since the snapshot before compaction is worth it


class MatchIndex:
    """PDQ photo hashes, video frames and MD5/SHA-1/SHA-256 digests of every list."""

    def __init__(
        self,
        *,
        pdq: PdqIndex | None = None,
        video: PdqIndex | None = None,
        digests: Mapping[Kind, DigestIndex] | None = None,
        seq: int = 0,
    ) -> None:
        self.pdq = pdq if pdq is not None else PdqIndex()
        self.video = video if video is not None else PdqIndex(timed=True)
        self.digests = dict(digests) if digests else {}
        for kind in DIGEST_KINDS:
            self.digests.setdefault(kind, DigestIndex(kind.algorithm))
        self.seq = seq  # last change applied
        self.snapshot_seq = seq  # last change the loaded snapshot includes
        self.min_frame_quality = DEFAULT_MIN_QUALITY
        self._root: Path | None = None
        self._snapshot: Path | None = None
        self._log: ChangeLog | None = None
        self._log_end = HEADER_BYTES
        self._log_seq = seq  # last change read from the log (readers may be ahead of it)
        self._lock: int | None = None

    # Lookups ---------------------------------------------------------------------------

    def search_pdq(
        self, hashes: PdqInput, distances: ListDistances = DEFAULT_DISTANCES
    ) -> PdqMatches:
        """Every listed photo hash within its list's distance of any of ``hashes``."""
        return self.pdq.search(hashes, distances)

    def match_photo(
        self, variants: Mapping[str, str], distances: ListDistances = DEFAULT_DISTANCES
    ) -> list[PhotoMatch]:
        """``variants``: name -> PDQ hex, e.g. {"original": ..., "rotate90": ...}."""
        names = list(variants)
        return best_variants(self.pdq.search([variants[n] for n in names], distances), names)

    def lookup_digests(
        self, kind: Kind, digests: DigestInput, lists: Collection[int] | None = None
    ) -> DigestMatches:
        return self.digests[kind].lookup(digests, lists)

    def match_video(
        self, frames: Sequence[FrameHash], distances: ListDistances = DEFAULT_DISTANCES, **rule: Any
    ) -> list[VideoMatch]:
        """vPDQ matching of a query video's frames; ``rule``: options of match_videos."""
        query = QueryFrames.of(frames, self.min_frame_quality)
        if not query.hashes:
            return []
        found = self.video.search(list(query.hashes), distances)
        hits = FrameHits(
            found.query, found.entry_id, found.list_id, np.asarray(found.time, dtype=np.float64)
        )
        sizes = self.video.row_counts(np.unique(found.entry_id))
        return match_videos(query, hits, sizes, **rule)

    # Changes ---------------------------------------------------------------------------

    def apply(
        self, changes: Iterable[Change], *, through: int | None = None, logged: bool = True
    ) -> int:
        """Apply changes with seq above ``self.seq`` (older ones were applied already) and
        return how many. ``through``: the feed has nothing else up to this seq (its
        ``next_seq``), so ``seq`` moves there. Logged first when this process is the writer;
        ``logged=False`` lets a reader apply what it read from the database itself, in
        memory only, ahead of the writer's log (``refresh`` then skips what it holds)."""
        fresh = [c for c in changes if c.seq > self.seq]
        if any(b.seq <= a.seq for a, b in pairwise(fresh)):
            raise SequenceError("changes must come in increasing sequence order")
        if through is not None and through > max(self.seq, fresh[-1].seq if fresh else 0):
            fresh.append(Change.mark(through))
        if not fresh:
            return 0
        if self._root is not None and logged:
            if self._log is None or self._lock is None:
                raise PermissionError("opened read-only: only the writer applies changes")
            self._log.append(fresh)
        self._apply_in_memory(fresh)
        return sum(c.op is not Op.MARK for c in fresh)

    def _apply_in_memory(self, changes: list[Change]) -> None:
        # Kinds are independent indexes; within one, a run of adds or removes is one call.
        for (kind, op), run in groupby(changes, key=lambda c: (c.kind, c.op)):
            batch = list(run)
            if op is Op.MARK:
                continue
            if op is Op.REMOVE:
                self._target(kind).remove([c.entry_id for c in batch])
            else:
                self._add(kind, list({c.entry_id: c for c in batch}.values()))
        self.seq = changes[-1].seq

    def _target(self, kind: Kind) -> PdqIndex | DigestIndex:
        if kind is Kind.PDQ:
            return self.pdq
        return self.video if kind is Kind.VIDEO else self.digests[kind]

    def _add(self, kind: Kind, batch: list[Change]) -> None:
        ids = [c.entry_id for c in batch]
        lists = [c.list_id for c in batch]
        if kind is Kind.PDQ:
            self.pdq.add([c.value for c in batch], ids, lists)
        elif kind is Kind.VIDEO:
            self._add_videos(batch)
        else:
            self.digests[kind].add([c.value for c in batch], ids, lists)

    def _add_videos(self, batch: list[Change]) -> None:
        self.video.remove([c.entry_id for c in batch])  # also videos left with no frames
        frames = [(c, f) for c in batch for f in c.frames if f.quality >= self.min_frame_quality]
        if frames:
            self.video.add(
                [f.pdq for _, f in frames],
                [c.entry_id for c, _ in frames],
                [c.list_id for c, _ in frames],
                [f.t for _, f in frames],
            )

    @classmethod
    def from_changes(cls, changes: Iterable[Change]) -> MatchIndex:
        """Fold a full history (e.g. the first load from the database) straight into base
        segments: the last change of each entry decides whether and how it is listed."""
        last: dict[tuple[Kind, int], Change] = {}
        seq = 0
        for change in changes:
            if change.seq <= seq:
                raise SequenceError("changes must come in increasing sequence order")
            if change.op is not Op.MARK:
                last[(change.kind, change.entry_id)] = change
            seq = change.seq
        index = cls()
        for kind, batch in groupby(
            sorted((c for c in last.values() if c.op is Op.ADD), key=lambda c: (c.kind, c.seq)),
            key=lambda c: c.kind,
        ):
            index._add(kind, list(batch))
        index.seq = seq
        return index.compacted()

    @property
    def needs_compaction(self) -> bool:
        added = self.pdq.delta_size + self.video.delta_size
        return added > max(COMPACT_ROWS, len(self.pdq) // 100)

    def compacted(self, *, memory_budget: int | None = None) -> MatchIndex:
        """A copy whose base segments hold every live row; the changes applied are kept."""
        index = MatchIndex(
            pdq=self.pdq.compacted(memory_budget=memory_budget),
            video=self.video.compacted(),
            digests={k: d.compacted() for k, d in self.digests.items()},
            seq=self.seq,
        )
        index.min_frame_quality = self.min_frame_quality
        return index

    # Files -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, root: Path | str, *, writable: bool = False, verify: bool = True, repair: bool = False
    ) -> MatchIndex:
        """Load the live snapshot memory-mapped and replay its change log.

        The writer (``writable``; one process, enforced by a lock) creates an empty index in
        a new directory and treats a torn log tail as corruption unless ``repair`` cuts it
        off. Readers cannot tell a torn tail from a write in progress, so they stop before
        it and pick it up on ``refresh``. Any checksum mismatch raises CorruptIndexError.
        """
        root = Path(root)
        lock = _take_lock(root) if writable else None
        try:
            if writable and current(root) is None:
                MatchIndex()._publish(root, None)
            index = cls._load(root, writable=writable, verify=verify, repair=repair)
        except BaseException:
            if lock is not None:
                os.close(lock)
            raise
        index._lock = lock
        return index

    @classmethod
    def _load(cls, root: Path, *, writable: bool, verify: bool, repair: bool) -> MatchIndex:
        snapshot_dir = current(root)
        if snapshot_dir is None:
            raise FileNotFoundError(f"no index snapshot in {root}")
        snapshot = load_snapshot(snapshot_dir, verify=verify)
        index = cls._from_groups(snapshot.groups, snapshot.seq)
        index._root, index._snapshot = root, snapshot_dir
        index._log = _open_log(root, snapshot.seq)
        index._replay(strict=writable, repair=repair)
        return index

    @classmethod
    def _from_groups(cls, groups: dict[str, Group], seq: int) -> MatchIndex:
        pdq = PdqSegment.from_arrays(groups["pdq"].arrays, groups["pdq"].meta)
        video = PdqSegment.from_arrays(groups["video"].arrays, groups["video"].meta)
        digests = {
            k: DigestIndex(k.algorithm, DigestSegment(groups[k.algorithm].arrays))
            for k in DIGEST_KINDS
        }
        return cls(pdq=PdqIndex(pdq), video=PdqIndex(video, timed=True), digests=digests, seq=seq)

    def _replay(self, *, strict: bool, repair: bool) -> None:
        assert self._log is not None
        read = self._log.read(self._log_end, strict=strict and not repair, after_seq=self._log_seq)
        if not read.complete and repair:
            self._log.truncate(read.end)
        if read.changes:
            self._log_seq = read.changes[-1].seq
            # A reader that applied the database's changes itself is ahead of the log:
            # each change is the entry's whole state at its seq, so older ones are skipped.
            fresh = [c for c in read.changes if c.seq > self.seq]
            if fresh:
                self._apply_in_memory(fresh)
        self._log_end = read.end

    def refresh(self) -> int:
        """Readers: apply what the writer logged since, or reload a newer snapshot.
        Returns how far ``seq`` moved (-1 after a reload)."""
        if self._root is None:
            return 0
        if current(self._root) != self._snapshot:
            self._adopt(MatchIndex._load(self._root, writable=False, verify=True, repair=False))
            return -1
        before = self.seq
        self._replay(strict=False, repair=False)
        return self.seq - before

    def write_snapshot(
        self, root: Path | str | None = None, *, memory_budget: int | None = None
    ) -> Path:
        """Compact into a new snapshot at ``self.seq``, start its empty log and make it
        live. The writer then continues on the memory-mapped new snapshot."""
        target = Path(root) if root is not None else self._root
        if target is None:
            raise ValueError("no directory to write to")
        if self._root is not None and self._lock is None:
            raise PermissionError("opened read-only: only the writer writes snapshots")
        lock = _take_lock(target) if self._lock is None else None
        try:
            path = self._publish(target, memory_budget)
        finally:
            if lock is not None:
                os.close(lock)
        if self._root == target:
            self._adopt(MatchIndex._load(target, writable=True, verify=False, repair=False))
        return path

    def _adopt(self, loaded: MatchIndex) -> None:
        """Continue on ``loaded``'s structures and files; settings and the lock stay."""
        self.pdq, self.video, self.digests = loaded.pdq, loaded.video, loaded.digests
        self.seq, self.snapshot_seq = loaded.seq, loaded.snapshot_seq
        self._root, self._snapshot = loaded._root, loaded._snapshot
        self._log, self._log_end, self._log_seq = loaded._log, loaded._log_end, loaded._log_seq

    def _publish(self, target: Path, memory_budget: int | None) -> Path:
        compact = self.compacted(memory_budget=memory_budget)
        path = write_snapshot(target, self.seq, compact._groups())
        ChangeLog.create(log_path(target, self.seq), self.seq)
        previous = current(target)
        publish(target, path)
        # The previous snapshot stays for readers that have not refreshed yet.
        remove_stale(target, {path.name} | ({previous.name} if previous else set()))
        return path

    def _groups(self) -> dict[str, Group]:
        groups = {
            "pdq": Group(self.pdq.base.arrays(), self.pdq.base.meta()),
            "video": Group(self.video.base.arrays(), self.video.base.meta()),
        }
        for kind, index in self.digests.items():
            groups[kind.algorithm] = Group(index.base.arrays(), {"algorithm": kind.algorithm})
        return groups

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> MatchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def arrays(self) -> Iterator[npt.NDArray[Any]]:
        """Every array behind the base segments (for memory accounting)."""
        for group in self._groups().values():
            yield from group.arrays.values()


def _open_log(root: Path, seq: int) -> ChangeLog:
    path = log_path(root, seq)
    if not path.exists():
        raise CorruptIndexError(str(path), f"change log of {snapshot_name(seq)} missing")
    log = ChangeLog(path)
    if log.base_seq != seq:
        raise CorruptIndexError(str(path), f"log follows seq {log.base_seq}, snapshot is {seq}")
    return log


def _take_lock(root: Path) -> int:
    private_directory(root)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise PermissionError(f"another process is writing {root}") from None
    return fd
