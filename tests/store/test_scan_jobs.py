"""Backlog scan jobs in the store (vigil.store.scan_jobs) on SQLite and PostgreSQL: a chunk's
matches and the checkpoint move together, a chunk stored again adds no row, resumable and
ended jobs, and the queue of matches released oldest first, one object at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from vigil.store import Database
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.models import ScanJobMatch, ScanJobStatus, ScanMatchState, utcnow
from vigil.store.scan_jobs.jobs import (
    SCAN_JOB_SUBJECT,
    ChunkTally,
    InvalidScanJobRequest,
    MatchRow,
    ScanJobEnded,
    ScanJobNotFound,
    cancel_job,
    commit_chunk,
    end_job,
    get_job,
    latest_resumable,
    list_jobs,
    resume_job,
    start_job,
)
from vigil.store.scan_jobs.matches import (
    mark_released,
    oldest_queued,
    queued_count,
    released_within,
)

SOURCE = "s3://bucket/prefix"


def _start(database: Database, source: str = SOURCE) -> int:
    with database.transaction(write=True) as session:
        return start_job(
            session, source=source, engine="local", options={"lists": None}, store_dir="/tmp/x"
        ).id


def _match(key: str, entry_id: int, distance: int | None = None) -> MatchRow:
    identity = f"s3://bucket/{key}#v1"
    return MatchRow(identity, "bucket", key, "v1", 1, entry_id, "pdq", distance)


def _chunk(number: int, checkpoint: str, objects: int = 2) -> ChunkTally:
    return ChunkTally(number, checkpoint, objects=objects, bytes=100 * objects, errors=1)


def test_a_chunk_moves_the_checkpoint_with_its_matches(database: Database) -> None:
    job_id = _start(database)
    with database.transaction(write=True) as session:
        added = commit_chunk(
            session, job_id, _chunk(1, "b"), [_match("a", 10, 3), _match("a", 11), _match("b", 10)]
        )
    assert added == 3
    with database.transaction() as session:
        job = get_job(session, job_id)
        assert (job.checkpoint, job.chunks, job.objects, job.bytes, job.errors, job.matches) == (
            "b",
            1,
            2,
            200,
            1,
            3,
        )


def test_a_chunk_stored_again_adds_no_duplicate(database: Database) -> None:
    job_id = _start(database)
    rows = [_match("a", 10), _match("b", 12)]
    with database.transaction(write=True) as session:
        commit_chunk(session, job_id, _chunk(1, "b"), rows)
    with database.transaction(write=True) as session:  # the same chunk, after a crash
        added = commit_chunk(session, job_id, _chunk(1, "b"), [*rows, _match("b", 13)])
    assert added == 1
    with database.transaction() as session:
        count = session.scalar(select(func.count()).select_from(ScanJobMatch))
        assert count == 3
        assert get_job(session, job_id).matches == 3


def test_a_failed_chunk_leaves_the_checkpoint_where_it_was(database: Database) -> None:
    job_id = _start(database)
    with database.transaction(write=True) as session:
        commit_chunk(session, job_id, _chunk(1, "b"), [_match("a", 10)])
    with pytest.raises(RuntimeError), database.transaction(write=True) as session:
        commit_chunk(session, job_id, _chunk(2, "d"), [_match("c", 10)])
        raise RuntimeError("killed before the commit")
    with database.transaction() as session:
        job = get_job(session, job_id)
        assert (job.checkpoint, job.chunks, job.matches) == ("b", 1, 1)
        assert session.scalar(select(func.count()).select_from(ScanJobMatch)) == 1


def test_the_unfinished_job_of_a_source_is_resumed_and_ended_ones_are_not(
    database: Database,
) -> None:
    first = _start(database)
    with database.transaction(write=True) as session:
        end_job(session, first, ScanJobStatus.COMPLETED)
    second = _start(database)
    other = _start(database, "manifest:/x.csv")
    with database.transaction(write=True) as session:
        end_job(session, second, ScanJobStatus.INTERRUPTED, error="killed")
        assert latest_resumable(session, SOURCE).id == second  # type: ignore[union-attr]
        job = resume_job(session, second, engine="ray")
        assert (job.status, job.engine, job.finished_at) == (ScanJobStatus.RUNNING, "ray", None)
        with pytest.raises(ScanJobEnded):
            resume_job(session, first)
        assert get_job(session, first).finished_at is not None
        assert [j.id for j in list_jobs(session)] == [other, second, first]


def test_a_cancelled_job_stays_cancelled(database: Database) -> None:
    job_id = _start(database)
    with database.transaction(write=True) as session:
        assert cancel_job(session, job_id, actor="ada").status is ScanJobStatus.CANCELLED
        with pytest.raises(ScanJobEnded):
            cancel_job(session, job_id, actor="ada")
        with pytest.raises(ScanJobEnded):
            resume_job(session, job_id)
        assert latest_resumable(session, SOURCE) is None
        with pytest.raises(ScanJobNotFound):
            get_job(session, job_id + 100)


def test_queued_matches_are_released_oldest_object_first(database: Database) -> None:
    job_id = _start(database)
    with database.transaction(write=True) as session:
        commit_chunk(session, job_id, _chunk(1, "b"), [_match("b", 1), _match("a", 2)])
        commit_chunk(session, job_id, _chunk(2, "c"), [_match("b", 3), _match("c", 1)])
    now = utcnow()
    with database.transaction(write=True) as session:
        objects = oldest_queued(session, 2)
        assert [o.identity.split("/")[-1] for o in objects] == ["b#v1", "a#v1"]
        assert [m.entry_id for m in objects[0].matches] == [1, 3]  # all of the object's
        for number, queued in enumerate(objects):
            mark_released(session, queued.matches, f"record{number}", now)
    with database.transaction() as session:
        assert released_within(session, now + timedelta(minutes=59)) == 2
        assert released_within(session, now + timedelta(minutes=61)) == 0
        assert queued_count(session, job_id) == 1
        left = oldest_queued(session, 5)
        assert [(o.identity, [m.entry_id for m in o.matches]) for o in left] == [
            ("s3://bucket/c#v1", [1])
        ]
        states = session.scalars(select(ScanJobMatch.state).order_by(ScanJobMatch.id)).all()
        assert states.count(ScanMatchState.RELEASED) == 3


def test_a_cancellation_is_audited_under_the_person(database: Database) -> None:
    job_id = _start(database)
    with database.transaction(write=True) as session:
        cancel_job(session, job_id, actor="  ada  ")
    with database.transaction() as session:
        [record] = session.scalars(
            select(AuditRecord).where(AuditRecord.subject_type == SCAN_JOB_SUBJECT)
        ).all()
    assert (record.actor, record.action, record.subject_id) == (
        "ada",
        AuditAction.SETTING_CHANGED,
        str(job_id),
    )
    assert record.details["change"] == "cancelled"
    assert record.details["old"] == {"status": "running"}


@pytest.mark.parametrize("actor", ["", "   "])
def test_a_cancellation_without_a_person_is_refused_and_changes_nothing(
    database: Database, actor: str
) -> None:
    job_id = _start(database)
    with pytest.raises(InvalidScanJobRequest), database.transaction(write=True) as session:
        cancel_job(session, job_id, actor=actor)
    with database.transaction() as session:
        assert get_job(session, job_id).status is ScanJobStatus.RUNNING
