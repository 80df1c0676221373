"""`vigil serve` for real: its workers run the background jobs by default, and none with
--no-jobs (also with several worker processes, which learn it from the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.served import private_environment, serving

RUNNING = "background jobs running:"


def _served_output(tmp_path: Path, *options: str) -> str:
    with serving(private_environment(tmp_path), *options) as (_base, process):
        pass  # up: every worker has run its lifespan start
    assert process.stdout is not None
    return process.stdout.read()


@pytest.mark.slow
def test_serve_runs_the_jobs_by_default(tmp_path: Path) -> None:
    output = _served_output(tmp_path)
    assert f"{RUNNING} webhooks, retention, reports" in output


@pytest.mark.slow
def test_serve_with_no_jobs_runs_none_in_any_worker(tmp_path: Path) -> None:
    output = _served_output(tmp_path, "--no-jobs", "--workers", "2")
    assert output.count("Application startup complete") == 2  # both workers came up
    assert RUNNING not in output and "vigil worker" in output
