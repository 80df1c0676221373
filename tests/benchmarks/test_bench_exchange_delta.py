"""benchmarks/bench_exchange_delta.py at a toy size, on SQLite and PostgreSQL: it runs to the
end, and its serving processes (the index writer and a reader) both match every entry of the
delta and none it deleted, from the snapshot and the change feed, without a rebuild. The
1 s target itself is not asserted: on a shared machine a toy run's timing proves nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY = ["--entries", "4000", "--delta", "300", "--deletions", "30", "--processes", "2"]
WINDOWS = ["--reference-seconds", "0.5", "--after-seconds", "1"]


def _run(database: str, environment: dict[str, str]) -> str:
    command = [sys.executable, "-m", "benchmarks.bench_exchange_delta", "--database", database]
    result = subprocess.run(
        [*command, *TOY, *WINDOWS],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _check(output: str) -> None:
    processes = re.findall(r"process \d \((index writer|reader)\): visible .*", output)
    assert sorted(kind for kind in processes) == ["index writer", "reader"], output
    for line in re.findall(r"process \d .*", output):
        assert "delta matched 300/300" in line, line
        assert "deleted still matched 0/30" in line, line
        assert "rebuild or snapshot reload: no" in line, line
    assert re.search(r"lookups/s before the delta \(reference\): [\d,]+ / during", output)
    assert re.search(r"time to visible: p50 [\d.]+ s / max [\d.]+ s", output)
    assert "index snapshot unchanged through the delta (no rebuild): yes" in output


def test_the_benchmark_runs_on_sqlite() -> None:
    _check(_run("sqlite", dict(os.environ)))


@pytest.mark.postgres
def test_the_benchmark_runs_on_postgresql(postgres_admin_url: str) -> None:
    _check(_run("postgresql", {**os.environ, "VIGIL_TEST_POSTGRES_URL": postgres_admin_url}))
