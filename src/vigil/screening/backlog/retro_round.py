"""One round of retroactive matching for `vigil scan-jobs retro`: every job's stored
fingerprints against the list entries changed since the last round, the new matches queued
for review like a scan's (under the same ceiling), the checkpoint kept for the next round.

The checkpoint (a change-feed number) lives in ``<data_dir>/scan-jobs/retro.checkpoint``,
beside the stores it belongs to; it moves only after the round's matches are stored, so a
round that dies is done again, and the unique (job, object, entry) index keeps it from
queueing a match twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.core.files import replacing
from vigil.screening.backlog.retro import RetroMatch, job_stores, run_retro
from vigil.screening.backlog.scan_job import JOBS_DIR
from vigil.screening.matcher import Matcher
from vigil.store.database import Database
from vigil.store.models import ScanJob
from vigil.store.scan_jobs.jobs import MatchRow, add_matches

CHECKPOINT_FILE = "retro.checkpoint"
JOB_FOLDER_PREFIX = "job-"


@dataclass(frozen=True, slots=True)
class RetroRound:
    since: int
    checkpoint: int
    entries: int  # changed entries matched against
    matches: list[tuple[int, RetroMatch]]  # (job, match)
    queued: int  # new rows for review (a match queued before is not queued again)


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / JOBS_DIR / CHECKPOINT_FILE


def read_checkpoint(data_dir: Path) -> int:
    path = checkpoint_path(data_dir)
    return int(path.read_text().strip()) if path.is_file() else 0


def retro_round(
    database: Database, data_dir: Path, matcher: Matcher | None, since: int | None = None
) -> RetroRound:
    start = read_checkpoint(data_dir) if since is None else since
    found: list[tuple[int, RetroMatch]] = []
    reached: list[int] = []  # each store's checkpoint: the feed may move between stores
    entries, queued = 0, 0
    for store in job_stores(data_dir):
        job_id = _job_of(database, store.root)
        if job_id is None:
            continue  # a folder no job of this database owns
        result = run_retro(database, [store], start, matcher=matcher)
        reached.append(result.checkpoint)
        entries = max(entries, result.entries)
        found.extend((job_id, match) for match in result.matches)
        with database.transaction(write=True) as session:
            queued += add_matches(session, job_id, [match_row(m) for m in result.matches])
    checkpoint = min(reached) if reached else _feed_end(database, start)
    _write_checkpoint(data_dir, checkpoint)
    return RetroRound(start, checkpoint, entries, found, queued)


def match_row(match: RetroMatch) -> MatchRow:
    bucket, key, version = split_identity(match.identity)
    return MatchRow(
        match.identity,
        bucket,
        key,
        version,
        match.list_id,
        match.entry_id,
        match.signal_type,
        match.distance,
    )


def split_identity(identity: str) -> tuple[str, str, str]:
    """(bucket, key, version) of ``source://bucket/key#version`` (ObjectRef.identity)."""
    located, _, version = identity.rpartition("#")
    bucket, _, key = located.partition("://")[2].partition("/")
    return bucket, key, version


def _job_of(database: Database, folder: Path) -> int | None:
    number = folder.name.removeprefix(JOB_FOLDER_PREFIX)
    if not number.isdigit():
        return None
    with database.transaction() as session:
        job = session.get(ScanJob, int(number))
        return job.id if job is not None and Path(job.store_dir) == folder else None


def _feed_end(database: Database, start: int) -> int:
    """Where the feed is now, when there was no store to match (the next round need not
    look at changes nobody could match)."""
    return run_retro(database, [], start).checkpoint


def _write_checkpoint(data_dir: Path, checkpoint: int) -> None:
    path = checkpoint_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, temporary_prefix=f".{path.name}.") as out:
        out.write(f"{checkpoint}\n".encode())
