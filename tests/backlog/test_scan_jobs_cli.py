"""`vigil scan s3://...` and `vigil scan-jobs` in-process on SQLite and PostgreSQL: a scan
runs to its summary, a second run of the same source starts a new job, status and cancel,
and bad input ends in one line and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from tests.screening.listed import cli_env
from vigil.cli.app import app
from vigil.store import Database
from vigil.store.models import ScanJob, ScanJobStatus


def _vigil(tmp_path: Path, url: str, *args: str) -> Result:
    result = CliRunner().invoke(app, list(args), env=cli_env(tmp_path, url))
    assert "Traceback" not in result.output, result.output
    return result


def test_a_bucket_scan_runs_to_its_summary_and_the_jobs_show_it(
    s3: Any, bucket: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{n}.txt", Body=b"text %d" % n)
    done = _vigil(tmp_path, database_url, "scan", f"s3://{bucket}/", "--workers", "1")
    assert done.exit_code == 0, done.output
    assert "scan job 1 completed: 3 objects" in done.output
    listed = _vigil(tmp_path, database_url, "scan-jobs", "list")
    assert f"s3://{bucket}/" in listed.output and "completed" in listed.output
    status = _vigil(tmp_path, database_url, "scan-jobs", "status", "1")
    assert "objects: 3" in status.output and "checkpoint: k2.txt" in status.output
    again = _vigil(tmp_path, database_url, "scan", f"s3://{bucket}/", "--workers", "1")
    assert "started scan job 2" in again.output  # a completed job is never continued
    refused = _vigil(tmp_path, database_url, "scan-jobs", "cancel", "1")
    assert refused.exit_code == 2 and "already completed" in refused.output
    resumed = _vigil(tmp_path, database_url, "scan-jobs", "resume", "2")
    assert resumed.exit_code == 2 and "completed" in resumed.output


def test_a_cancelled_job_is_not_resumed(
    s3: Any, bucket: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"text")
    with database.transaction(write=True) as session:
        session.add(ScanJob(source=f"s3://{bucket}/", engine="local", options={}, store_dir="x"))
    assert _vigil(tmp_path, database_url, "scan-jobs", "cancel", "1").exit_code == 0
    with database.transaction() as session:
        assert session.get_one(ScanJob, 1).status is ScanJobStatus.CANCELLED
    refused = _vigil(tmp_path, database_url, "scan-jobs", "resume", "1")
    assert refused.exit_code == 2 and "cancelled" in refused.output


def test_bad_sources_and_engines_end_in_one_line(
    database: Database, database_url: str, tmp_path: Path, unused_endpoint: str
) -> None:
    for args, said in [
        (["scan", "gs://bucket/x"], "only s3://"),
        (["scan", "s3://bucket/", "--engine", "spark"], "--engine must be one of"),
        (["scan", "s3://no-such-bucket/", "--workers", "1"], "error:"),
        (["scan-jobs", "status", "42"], "no scan job 42"),
    ]:
        result = _vigil(tmp_path, database_url, *args)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.output, (args, result.output)
