"""benchmarks/bench_exchange_fetch.py at a toy size, on SQLite and PostgreSQL: it runs to the
end, prints its rates, memory and reference, and the fetch killed half way and resumed ends
with the same list as the whole fetch. The 20,000 entries/s target itself is not asserted: on
a shared machine a toy run's timing proves nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY = ["--entries", "400", "--page", "50"]


def _run(database: str, environment: dict[str, str]) -> str:
    command = [sys.executable, "-m", "benchmarks.bench_exchange_fetch", "--database", database]
    result = subprocess.run(
        [*command, *TOY],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _check(output: str) -> None:
    assert re.search(r"fetch: 400 NCMEC entries \([\d,]+ list rows\) in \d+ pages", output)
    assert re.search(r"[\d,]+ entries/s, [\d,]+ rows/s", output), output
    assert re.search(r"peak RSS [\d,]+ MB; RSS after 10% / 50% / 100% of the rows: ", output)
    assert re.search(r"reference \(same run\).*fetch / import time: [\d.]+", output), output
    assert "resume: first fetch killed (SIGKILL) once half the rows were stored" in output
    assert re.search(r"only in whole 0, only in resumed 0: same final list", output), output


def test_the_benchmark_runs_on_sqlite() -> None:
    _check(_run("sqlite", dict(os.environ)))


@pytest.mark.postgres
def test_the_benchmark_runs_on_postgresql(postgres_admin_url: str) -> None:
    _check(_run("postgresql", {**os.environ, "VIGIL_TEST_POSTGRES_URL": postgres_admin_url}))
