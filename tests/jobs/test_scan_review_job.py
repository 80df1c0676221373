"""The "scan-review" background job releases queued backlog scan matches into review under
[scanning] review_ceiling_per_hour, one process at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.backlog.queued_matches import listed_entry, queue_matches
from vigil.core.settings import ScanningSettings, load_settings
from vigil.jobs.registry import REGISTRY, JobServices
from vigil.store import Database
from vigil.store.models import MatchRecord
from vigil.store.scan_jobs.matches import queued_count


def test_the_job_releases_up_to_the_ceiling_and_no_more_this_hour(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    entry_id, list_id = listed_entry(database, tmp_path, corpus_images[0])
    queue_matches(database, entry_id, list_id, ["a", "b", "c"])
    settings = load_settings(data_dir=tmp_path).model_copy(
        update={"scanning": ScanningSettings(review_ceiling_per_hour=2)}
    )
    [spec] = [spec for spec in REGISTRY if spec.name == "scan-review"]
    assert spec.exclusive and not spec.needs_vault
    work = spec.build(JobServices(settings, database, None))
    assert work.run_once() == 2
    assert work.run_once() == 0
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MatchRecord)) == 2
        assert queued_count(session) == 1
