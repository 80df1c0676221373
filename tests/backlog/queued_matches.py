"""Scan matches queued for review, for the release and job tests: a listed entry and a job
whose one chunk matched it on several objects."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.screening.listed import fingerprint, make_list
from vigil.store import Database
from vigil.store.models import ListEntry
from vigil.store.scan_jobs.jobs import ChunkTally, MatchRow, commit_chunk, start_job


def queue_matches(database: Database, entry_id: int, list_id: int, keys: list[str]) -> int:
    rows = [MatchRow(f"s3://b/{key}#v", "b", key, "v", list_id, entry_id, "sha256") for key in keys]
    with database.transaction(write=True) as session:
        job = start_job(session, source="s3://b/", engine="local", options={}, store_dir="x")
        commit_chunk(session, job.id, ChunkTally(1, keys[-1], len(keys), 0, 0), rows)
        return job.id


def listed_entry(database: Database, tmp_path: Path, image: Path) -> tuple[int, int]:
    """(entry id, list id) of the one entry of list "bank": ``image``'s SHA-256."""
    make_list(database, "bank", [("sha256", fingerprint(image).sha256, "case-1")], tmp_path)
    with database.transaction() as session:
        entry = session.scalars(select(ListEntry)).one()
        return entry.id, entry.list_id
