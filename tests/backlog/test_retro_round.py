"""`vigil scan-jobs retro`: a job's stored fingerprints against the entries listed after the
scan, on SQLite and PostgreSQL: the new matches are reported and queued for review once,
the next round starts where this one ended, and no media is read again."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from tests.backlog.test_engines import job_matches, scan, settings_for
from tests.screening.listed import cli_env, fingerprint, make_list
from vigil.cli.app import app
from vigil.screening.backlog.retro_round import split_identity
from vigil.screening.backlog.scan_session import EngineChoice
from vigil.store import Database
from vigil.store.models import ScanJob
from vigil.store.scan_jobs.matches import queued_count
from vigil.store.scan_jobs.retro_state import retro_summary


def _retro(tmp_path: Path, url: str, *args: str) -> str:
    result = CliRunner().invoke(
        app, ["scan-jobs", "retro", *args], env=cli_env(tmp_path, url), catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_entries_listed_after_a_scan_match_its_stored_fingerprints(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for image in corpus_images[:4]:
        shutil.copy(image, tree / image.name)
    settings = settings_for(tmp_path, database_url, "data")
    job_id, _ = scan(settings, database, str(tree), EngineChoice())
    assert job_matches(database, job_id) == []
    for image in tree.iterdir():
        image.unlink()  # nothing is read again: the media are gone
    make_list(
        database,
        "late",
        [
            ("sha256", fingerprint(corpus_images[1]).sha256, "d-1"),
            ("pdq", fingerprint(corpus_images[3]).pdq, "p-3"),
        ],
        tmp_path,
    )
    output = _retro(tmp_path, database_url)
    assert "2 matches of 2 stored objects, 2 new for review" in output
    assert sorted(signal for _, _, signal, _ in job_matches(database, job_id)) == [
        "pdq",
        "sha256",
    ]
    with database.transaction() as session:
        assert session.get_one(ScanJob, job_id).matches == 2
        assert queued_count(session, job_id) == 2
    with database.transaction() as session:
        summary = retro_summary(session)
    assert summary.checkpoint > 0 and summary.last_matches == 2 and summary.last_error is None
    assert not (settings.data_dir / "scan-jobs" / "retro.checkpoint").exists()  # no file
    assert "0 matches" in _retro(tmp_path, database_url)  # nothing changed since
    assert "2 matches of 2 stored objects, 0 new for review" in _retro(
        tmp_path, database_url, "--since", "0"
    )
    with database.transaction() as session:
        assert queued_count(session, job_id) == 2


def test_an_identity_splits_into_bucket_key_and_version() -> None:
    assert split_identity('s3://b/a/k.jpg#"etag"') == ("b", "a/k.jpg", '"etag"')
    assert split_identity("file:////srv/x#1:2") == ("", "/srv/x", "1:2")
    assert split_identity("s3://b/we#ird#v") == ("b", "we#ird", "v")
