"""`vigil scan s3://...` killed with SIGKILL part way, then `vigil scan-jobs resume`: every
object is in the Parquet store exactly once, no match is stored twice and none is lost, on
SQLite and PostgreSQL. The scan runs as `python -m vigil` in a child process against moto's
S3 server in this one; the resume runs in-process, listing only the keys after the checkpoint
(its LIST requests recorded), in a plain and in a versioned bucket. Between the kill and the
resume an object before the checkpoint is deleted and one is added: neither stops the resume,
and the added one is not this job's (new uploads are screened on upload)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.backlog.listing_requests import ListingRequests
from tests.backlog.test_engines import job_matches, parquet_rows
from tests.screening.listed import cli_env, fingerprint, make_list
from vigil.cli.app import app
from vigil.store import Database
from vigil.store.models import ScanJob, ScanJobStatus

OBJECTS = 80
CHUNK = 4
IMAGES = 8  # distinct corpus images, each stored under OBJECTS / IMAGES keys


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in cli_env(tmp_path, database_url).items() if v is not None}
    return env | {"VIGIL_SCANNING__CHUNK_OBJECTS": str(CHUNK)}


def _committed_chunks(database: Database) -> int:
    with database.transaction() as session:
        return max(session.scalars(select(ScanJob.chunks)).all(), default=0)


@pytest.mark.parametrize(
    "versioned",
    # Over a minute each; the versioned listing's start is also tested in test_resume_listing.
    [False, pytest.param(True, marks=pytest.mark.slow)],
    ids=["plain", "versioned"],
)
def test_a_killed_scan_resumes_with_every_object_once_and_no_match_lost(
    s3: Any,
    bucket: str,
    database: Database,
    database_url: str,
    tmp_path: Path,
    corpus_images: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    versioned: bool,
) -> None:
    keys = [f"media/{n:03d}.jpg" for n in range(OBJECTS)]
    if versioned:  # every key has an older version (another image) the scan must pass over
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for n, key in enumerate(keys):
            s3.put_object(Bucket=bucket, Key=key, Body=corpus_images[(n + 1) % IMAGES].read_bytes())
    current = {}
    for n, key in enumerate(keys):
        answer = s3.put_object(Bucket=bucket, Key=key, Body=corpus_images[n % IMAGES].read_bytes())
        current[key] = answer.get("VersionId") or answer["ETag"]
    make_list(
        database,
        "bank",
        [
            ("sha256", fingerprint(corpus_images[0]).sha256, "d-0"),
            ("sha256", fingerprint(corpus_images[5]).sha256, "d-5"),
        ],
        tmp_path,
    )
    expected = sorted(k for n, k in enumerate(keys) if n % IMAGES in (0, 5))
    env = _env(tmp_path, database_url)
    child = subprocess.Popen(
        [sys.executable, "-m", "vigil", "scan", f"s3://{bucket}/media/", "--workers", "1"],
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while _committed_chunks(database) < 3 and child.poll() is None:
            assert time.monotonic() < deadline, "the scan committed no chunks"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    with database.transaction() as session:
        job = session.scalars(select(ScanJob)).one()
        assert job.status is ScanJobStatus.RUNNING  # nobody could record the kill
        assert 3 <= job.chunks < OBJECTS // CHUNK, "the scan ended before the kill"
        job_id, checkpoint = job.id, job.checkpoint
    assert checkpoint is not None and checkpoint > keys[1]
    s3.delete_object(Bucket=bucket, Key=keys[1])  # already scanned: its row stays
    s3.put_object(Bucket=bucket, Key="media/000a.jpg", Body=corpus_images[0].read_bytes())
    requests = ListingRequests()
    requests.watch_sources(monkeypatch)

    listed = CliRunner().invoke(app, ["scan-jobs", "list"], env=env, catch_exceptions=False)
    assert "process gone" in listed.output
    resumed = CliRunner().invoke(
        app, ["scan-jobs", "resume", str(job_id), "--workers", "1"], env=env
    )
    assert resumed.exit_code == 0, resumed.output + str(resumed.exception)
    marker = "KeyMarker" if versioned else "StartAfter"
    assert requests.asked and requests.asked[0][marker] == checkpoint
    assert requests.answered and min(requests.answered) >= checkpoint  # none before it

    rows = parquet_rows(database, job_id)
    counts = Counter(row["key"] for row in rows)
    assert sorted(counts) == keys and set(counts.values()) == {1}  # not media/000a.jpg
    assert {row["identity"] for row in rows} == {
        f"s3://{bucket}/{key}#{version}" for key, version in current.items()
    }
    matches = job_matches(database, job_id)
    assert [key for key, *_ in matches] == expected  # none twice, none lost
    with database.transaction() as session:
        job = session.get_one(ScanJob, job_id)
        assert (job.status, job.objects, job.matches) == (
            ScanJobStatus.COMPLETED,
            OBJECTS,
            len(expected),
        )
