"""Scan matches reach review at the reviewers' pace (vigil.screening.backlog.review_release),
on SQLite and PostgreSQL: at most the ceiling of objects per hour, oldest found first, each a
match record with its hits and a case item, released once; the rest wait in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.backlog.queued_matches import listed_entry, queue_matches
from vigil.screening.backlog.review_release import content_id, release_matches
from vigil.store import Database
from vigil.store.models import CaseItem, MatchRecord, Verdict, utcnow
from vigil.store.scan_jobs.matches import queued_count


def test_release_stops_at_the_ceiling_and_goes_on_an_hour_later(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    entry_id, list_id = listed_entry(database, tmp_path, corpus_images[0])
    job_id = queue_matches(database, entry_id, list_id, ["c", "a", "b"])
    now = utcnow()
    assert release_matches(database, 2, now) == 2
    assert release_matches(database, 2, now + timedelta(minutes=30)) == 0
    with database.transaction() as session:
        records = session.scalars(select(MatchRecord).order_by(MatchRecord.id)).all()
        assert [r.platform_content_id for r in records] == ["s3://b/c#v", "s3://b/a#v"]
        assert {r.verdict for r in records} == {Verdict.REVIEW}
        assert {r.submitted_by for r in records} == {f"scan-job:{job_id}"}
        assert [h.entry_id for h in records[0].hits] == [entry_id]
        assert records[0].hits[0].list_name == "bank"
        assert session.scalar(select(func.count()).select_from(CaseItem)) == 2
        assert queued_count(session) == 1
    assert release_matches(database, 2, now + timedelta(minutes=61)) == 1
    assert release_matches(database, 2, now + timedelta(minutes=62)) == 0
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MatchRecord)) == 3
        assert queued_count(session) == 0


def test_a_ceiling_of_zero_releases_nothing(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    entry_id, list_id = listed_entry(database, tmp_path, corpus_images[0])
    queue_matches(database, entry_id, list_id, ["a"])
    assert release_matches(database, 0) == 0
    with database.transaction() as session:
        assert queued_count(session) == 1


def test_a_long_identity_is_shortened_to_a_unique_content_id() -> None:
    long_one, other = "s3://b/" + "k" * 400 + "#1", "s3://b/" + "k" * 400 + "#2"
    assert len(content_id(long_one)) == 255
    assert content_id(long_one) != content_id(other)
    assert content_id("s3://b/short#v") == "s3://b/short#v"
