"""One round of retroactive matching (`vigil scan-jobs retro`, and the round that follows an
exchange's scheduled fetch when its administrator turned that on): every job's stored
fingerprints against the list entries changed since the last round, the new matches queued
for review like a scan's (under the same ceiling), the checkpoint kept for the next round.

The checkpoint (a change-feed number) lives in the database (vigil.store.scan_jobs.
retro_state), shared by every worker; it moves in the transaction that stores the round's
matches, so a round that dies is done again, and the unique (job, object, entry) index keeps
it from queueing a match twice. One round runs at a time (the job lock RETRO_LOCK): a second
one is refused with RetroRunning, and its changes are matched by the next round, since the
checkpoint has not passed them. A round that fails is recorded (time, by whom, the error)
where `vigil scan-jobs list` and the console show it, and the checkpoint stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.screening.backlog.retro import RetroMatch, RetroResult, job_stores, run_retro
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.store.database import Database
from vigil.store.errors import StoreError
from vigil.store.job_locks import held_alone
from vigil.store.models import ScanJob
from vigil.store.scan_jobs.jobs import MatchRow, add_matches
from vigil.store.scan_jobs.retro_state import (
    RETRO_LOCK,
    move_checkpoint,
    record_failure,
    retro_checkpoint,
)

JOB_FOLDER_PREFIX = "job-"
BY_COMMAND = "vigil scan-jobs retro"  # who ran a round, as the summary shows it


class RetroRunning(StoreError):
    """Another process runs a round now."""


@dataclass(frozen=True, slots=True)
class RetroRound:
    since: int
    checkpoint: int
    entries: int  # changed entries matched against
    matches: list[tuple[int, RetroMatch]]  # (job, match)
    queued: int  # new rows for review (a match queued before is not queued again)

    @property
    def objects(self) -> int:
        """Stored objects the round matched (one object may match several entries)."""
        return len({(job_id, match.identity) for job_id, match in self.matches})


def retro_round(
    database: Database,
    data_dir: Path,
    matcher: Matcher | None,
    since: int | None = None,
    *,
    by: str = BY_COMMAND,
) -> RetroRound:
    """``since``: start after this change-feed number instead of the stored checkpoint.
    Raises RetroRunning when another process runs a round; any other failure is recorded
    on the retro state, then raised."""
    with held_alone(database, RETRO_LOCK) as held:
        if not held:
            raise RetroRunning(
                "another retroactive matching round is running; its end is where the next "
                "round starts"
            )
        try:
            return _round(database, data_dir, matcher, since, by)
        except Exception as exc:
            record_round_failure(database, exc, by)
            raise


def live_retro_round(database: Database, data_dir: Path, *, by: str) -> RetroRound:
    """A round with the live match index of every list, so allow-lists apply (as the
    command's round has); opening the index failing is recorded like a round failing."""
    try:
        live = LiveIndex.open(database, index_root(data_dir))
    except Exception as exc:
        record_round_failure(database, exc, by)
        raise
    with live:
        return retro_round(database, data_dir, Matcher(live), by=by)


def record_round_failure(database: Database, error: BaseException, by: str) -> None:
    with database.transaction(write=True) as session:
        record_failure(session, f"{type(error).__name__}: {error}", by=by)


def _round(
    database: Database, data_dir: Path, matcher: Matcher | None, since: int | None, by: str
) -> RetroRound:
    with database.transaction() as session:
        start = retro_checkpoint(session) if since is None else since
    results: list[tuple[int, RetroResult]] = []
    for store in job_stores(data_dir):
        job_id = _job_of(database, store.root)
        if job_id is not None:  # else a folder no job of this database owns
            results.append((job_id, run_retro(database, [store], start, matcher=matcher)))
    # each store's checkpoint: the feed may move between stores, so the least is safe
    reached = min((r.checkpoint for _, r in results), default=None)
    if reached is None:
        reached = _feed_end(database, start)
    found = [(job_id, match) for job_id, result in results for match in result.matches]
    with database.transaction(write=True) as session:
        queued = sum(
            add_matches(session, job_id, [match_row(m) for m in result.matches])
            for job_id, result in results
        )
        checkpoint = move_checkpoint(session, reached, matches=queued, by=by)
    entries = max((r.entries for _, r in results), default=0)
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
