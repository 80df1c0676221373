"""`vigil worker`: lists the registry's jobs, refuses unknown or unavailable ones, and - as a
real process - runs a job (intake expiry expires a stale report) until SIGTERM, then stops
cleanly. Both backends."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.clearinghouse.intake_rows import add_report, company_row
from tests.served import VIGIL, private_environment
from vigil.cli.app import app
from vigil.jobs.registry import REGISTRY
from vigil.store import Database
from vigil.store.models import IntakeReport, IntakeState, utcnow

WIDE = {"COLUMNS": "250"}


def _invoke(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["worker", *args], env=WIDE | env)
    return result.exit_code, result.output


def test_list_shows_every_job_with_its_interval() -> None:
    code, output = _invoke("--list", VIGIL_WEBHOOKS__POLL_SECONDS="4")
    assert code == 0
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert set(lines) == {spec.name for spec in REGISTRY}
    assert "every 4 s" in lines["webhooks"] and "one process at a time" in lines["triage"]


@pytest.mark.parametrize("names", [["--jobs", "nope"], ["--jobs", "webhooks,nope"]])
def test_an_unknown_job_is_refused_before_anything_runs(names: list[str], tmp_path: Path) -> None:
    code, output = _invoke(*names, VIGIL_DATA_DIR=str(tmp_path))
    assert code == 2 and "nope" in output and "intake-expiry" in output
    assert not (tmp_path / "vigil.db").exists()  # refused before the database is opened


def test_a_named_job_the_settings_disable_is_refused(tmp_path: Path) -> None:
    code, output = _invoke("--jobs", "triage", VIGIL_DATA_DIR=str(tmp_path))
    assert code == 2 and "[clearinghouse] enabled" in output


def test_with_nothing_to_run_the_worker_says_so(tmp_path: Path) -> None:
    # No master key, no clearinghouse and no review room for scan matches: every job is
    # left out.
    code, output = _invoke(
        VIGIL_DATA_DIR=str(tmp_path), VIGIL_SCANNING__REVIEW_CEILING_PER_HOUR="0"
    )
    assert code == 2 and "no background job can run" in output


def _stale_open_report(database: Database) -> int:
    with database.transaction(write=True) as session:
        report = add_report(session, company_row(session, "Alpha"), state=IntakeState.OPEN)
        long_ago = utcnow() - timedelta(days=30)
        session.execute(
            update(IntakeReport)
            .where(IntakeReport.id == report.id)
            .values(opened_at=long_ago, last_activity_at=long_ago)
        )
        return report.id


def _state(database: Database, report_id: int) -> IntakeState:
    with database.session() as session:
        return session.scalars(select(IntakeReport.state).where(IntakeReport.id == report_id)).one()


@pytest.mark.slow
def test_a_worker_runs_its_job_and_stops_on_sigterm(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    report_id = _stale_open_report(database)
    environment = private_environment(
        tmp_path, VIGIL_DATABASE_URL=database_url, VIGIL_CLEARINGHOUSE__ENABLED="true"
    )
    worker = subprocess.Popen(
        [str(VIGIL), "worker", "--jobs", "intake-expiry"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            _state(database, report_id) is IntakeState.OPEN
            and worker.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert _state(database, report_id) is IntakeState.EXPIRED
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
    finally:
        worker.kill()
        worker.wait(timeout=30)
    assert worker.returncode == 0, output
    assert "running intake-expiry" in output and "stopped" in output
    assert "triage" not in output  # only the job named
