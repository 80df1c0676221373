"""benchmarks/bench_backlog_scan.py at a toy size: generated benign objects in moto's S3
server, scanned in fresh processes; every run ends completed, with the same Parquet rows and
matches as the first, every listed object found, and the profile split into its steps. The
1.25 ratio itself is not asserted: at a toy size Ray's start-up is most of its time, and on a
shared machine a toy run's timing proves nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY = ["--objects", "60", "--listed-every", "5", "--noise-entries", "50", "--profile", "20"]
OBJECTS = 60


def _run(runs: str, database: str = "sqlite", environment: dict[str, str] | None = None) -> str:
    command = [sys.executable, "-m", "benchmarks.bench_backlog_scan", *TOY]
    result = subprocess.run(
        [*command, "--runs", runs, "--database", database],
        cwd=REPO,
        env=environment if environment is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _check_runs(output: str, names: list[str]) -> None:
    runs = re.findall(
        r"^(\w+ \(\w+=\d\)): 60 objects in [\d.]+ s: [\d,]+ objects/s.*$", output, re.M
    )
    assert runs == names, output
    assert output.count("job completed") == len(names), output
    assert re.search(r"memory: driver peak RSS [\d,]+ MB", output), output
    listed = re.search(
        r"listed objects found: (\d+)/(\d+); objects matched: \d+; error rows: 0", output
    )
    assert listed and listed.group(1) == listed.group(2) and int(listed.group(2)) > 0, output
    for step in ("list", "read", "decode\\+hash", "match", "parquet write"):
        assert re.search(rf"  {step}: CPU [\d.]+ ms/object \(the scan's thread", output), output
    assert re.search(r"^load after: .*load average", output, re.M), output


def test_the_benchmark_runs_with_the_local_engine() -> None:
    output = _run("local:2,local:1")
    _check_runs(output, ["local (workers=2)", "local (workers=1)"])
    assert "same Parquet rows: yes (60 rows); same matches: yes" in output, output
    assert "children (" in output, output  # the pool's processes were sampled


@pytest.mark.postgres
def test_the_benchmark_runs_on_postgresql(postgres_admin_url: str) -> None:
    environment = {**os.environ, "VIGIL_TEST_POSTGRES_URL": postgres_admin_url}
    output = _run("local:2", "postgresql", environment)
    _check_runs(output, ["local (workers=2)"])


@pytest.mark.slow
def test_the_benchmark_compares_ray_with_the_local_engine() -> None:
    pytest.importorskip("ray")
    output = _run("local:2,ray:2")
    _check_runs(output, ["local (workers=2)", "ray (num_cpus=2)"])
    assert "same Parquet rows: yes (60 rows); same matches: yes" in output, output
    assert re.search(r"RATIO ray/local time: [\d.]+ \(scan alone", output), output
    assert re.search(r"ray workers \(\d+ processes\) peak RSS sum [\d,]+ MB", output), output
