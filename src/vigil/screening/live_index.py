"""The match index of ``<data_dir>/index``, kept in step with the database's change feed.

The freshness contract: before a lookup answers, the process has applied every list change
committed before the lookup started (entries added, disabled, quarantined, deleted; lists
switched off or re-tuned), whatever other processes run or don't. ``ensure_current`` keeps
it with one cheap query (the feed's committed sequence number); only when that moved does
the process read the changes, from the database itself.

One process at a time is the writer (the index's lock decides): it logs the changes it
reads into the index and compacts into a new snapshot when the index says it is worth it.
Every other process opens the same directory read-only, picks up the writer's log and
snapshots (cheap, shared) and then reads whatever the writer has not logged yet straight
from the feed, in memory only. A reader never waits for the writer: an idle service (whose
writer polls only when it serves) must not leave ``vigil scan`` matching a stale index.

Threads: polling mutates the index (and may swap it for a writable one), so polls take
``lock``; a service screening from several threads holds the same lock around each lookup.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.index.changes import Change
from vigil.index.match_index import MatchIndex
from vigil.index.snapshot import current
from vigil.screening.feed_changes import FrameTimes, ListSettings, index_change
from vigil.store.database import Database
from vigil.store.lists.change_feed import DEFAULT_BATCH, ChangeBatch, read_changes
from vigil.store.lists.change_feed import last_committed_seq as committed_seq
from vigil.store.models import EntryFrame, HashList

INDEX_DIR = "index"
# How long a reader waits for a writer that has just taken the lock to write its first
# snapshot (building from a large feed takes seconds), and how often it looks.
FIRST_SNAPSHOT_WAIT_SECONDS = 120.0
FIRST_SNAPSHOT_POLL_SECONDS = 0.2


class LiveIndex:
    """A MatchIndex plus the settings of every list, both as current as the feed."""

    def __init__(
        self,
        database: Database,
        root: Path,
        index: MatchIndex,
        *,
        writer: bool,
        built_from_feed: bool,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.database = database
        self.root = root
        self.index = index
        self.writer = writer
        self.built_from_feed = built_from_feed  # False: an existing snapshot was reused
        self.lists: dict[int, ListSettings] = {}
        self._batch = batch
        self._checked = 0.0  # time.monotonic() when the feed was last found applied
        # Reentrant: a lookup holding it may poll (Matcher.screen calls ensure_current).
        self.lock = threading.RLock()

    @classmethod
    def open(cls, database: Database, root: Path, *, batch: int = DEFAULT_BATCH) -> LiveIndex:
        """Load the snapshot (building it from the whole feed when there is none) and catch
        up with the feed; read-only when another process is the writer."""
        built = current(root) is None and _build(database, root, batch)
        index, writer = _open_index(root)
        if writer and _ahead_of(database, index.seq):
            index.close()
            built = _build(database, root, batch)
            index, writer = _open_index(root)
        live = cls(database, root, index, writer=writer, built_from_feed=built, batch=batch)
        live.poll()
        return live

    def ensure_current(self, started: float | None = None) -> None:
        """Apply every change committed before ``started`` (a ``time.monotonic()`` value;
        default: now). Within one request, later calls with the same ``started`` cost
        nothing; otherwise one query says whether anything is new."""
        with self.lock:
            if started is not None and self._checked >= started:
                return
            checked = time.monotonic()
            if _committed(self.database) != self.index.seq:
                self._poll()
            self._checked = checked

    def poll(self) -> None:
        """Apply everything committed since the last poll."""
        with self.lock:
            self._poll()
            self._checked = time.monotonic()

    def _poll(self) -> None:
        self._load_lists()
        logged = self.writer or self._take_over()
        if not logged:
            self.index.refresh()  # the writer's log and snapshots: shared, cheap
        for batch, times in _batches(self.database, self.index.seq, self._batch):
            self.index.apply(
                [index_change(e, times) for e in batch.entries],
                through=batch.next_seq,
                logged=logged,
            )
        if logged and self.index.needs_compaction:
            self.index.write_snapshot()

    def _take_over(self) -> bool:
        """Become the writer once the previous one has gone, so this process does not stay
        behind the feed with nobody logging it."""
        try:
            index = MatchIndex.open(self.root, writable=True, repair=True)
        except PermissionError:
            return False
        self.index.close()
        self.index, self.writer = index, True
        return True

    def _load_lists(self) -> None:
        # Lists are few and their settings small: reading them all is simpler than following
        # their feed changes, and right for readers, which do not read the feed.
        with self.database.transaction() as session:
            rows = session.scalars(select(HashList)).all()
            self.lists = {row.id: ListSettings.of_row(row) for row in rows}

    def close(self) -> None:
        with self.lock:
            self.index.close()

    def __enter__(self) -> LiveIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def index_root(data_dir: Path) -> Path:
    return data_dir / INDEX_DIR


def _batches(
    database: Database, after: int, limit: int
) -> Iterator[tuple[ChangeBatch, FrameTimes]]:
    while True:
        with database.transaction() as session:
            batch = read_changes(session, after, limit)
            times = _frame_times(session, batch)
        yield batch, times
        after = batch.next_seq
        if batch.complete:
            return


def _feed_changes(database: Database, limit: int) -> Iterator[Change]:
    last = 0
    for batch, times in _batches(database, 0, limit):
        for entry in batch.entries:
            yield index_change(entry, times)
            last = entry.seq
        if batch.next_seq > last:  # list changes and gaps still move seq on
            yield Change.mark(batch.next_seq)
            last = batch.next_seq


def _frame_times(session: Session, batch: ChangeBatch) -> FrameTimes:
    """Time offsets of the batch's listed video frames (the feed carries only their hashes)."""
    videos = [e.entry_id for e in batch.entries if e.frames]
    if not videos:
        return {}
    times: dict[int, list[float | None]] = defaultdict(list)
    rows = session.execute(
        select(EntryFrame.entry_id, EntryFrame.time_offset)
        .where(EntryFrame.entry_id.in_(videos))
        .order_by(EntryFrame.entry_id, EntryFrame.position)
    )
    for entry_id, offset in rows:
        times[entry_id].append(offset)
    return times


def _open_index(root: Path) -> tuple[MatchIndex, bool]:
    # repair: a writer that crashed mid-append leaves a torn last record; cutting it off
    # is safe, as the feed hands those changes out again from the index's seq.
    try:
        return MatchIndex.open(root, writable=True, repair=True), True
    except PermissionError:  # another process holds the lock: follow its log
        return _follow(root), False


def _follow(root: Path) -> MatchIndex:
    """The writer's index, read-only. A writer that took the lock a moment ago may still be
    folding the feed into its first snapshot (two backlog workers starting together): wait
    for it, within a bound, rather than fail the worker."""
    deadline = time.monotonic() + FIRST_SNAPSHOT_WAIT_SECONDS
    while True:
        try:
            return MatchIndex.open(root)
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(FIRST_SNAPSHOT_POLL_SECONDS)


def _build(database: Database, root: Path, limit: int) -> bool:
    """Fold the whole feed into a fresh snapshot (first use, or a snapshot of another
    database). False when another process is the writer: it builds instead."""
    try:
        MatchIndex.from_changes(_feed_changes(database, limit)).write_snapshot(root)
    except PermissionError:
        return False
    return True


def _committed(database: Database) -> int:
    # A bare connection, not an ORM session: this runs before every lookup.
    with database.engine.connect() as connection:
        return committed_seq(connection)


def _ahead_of(database: Database, seq: int) -> bool:
    """The index holds changes the database never committed: it belongs to another (or a
    restored) database, and following the feed from its seq would miss changes."""
    return seq > _committed(database)
