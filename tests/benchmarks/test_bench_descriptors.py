"""benchmarks/bench_descriptors.py at a toy size: it runs to the end, every descriptor is
timed and a near copy of a listed vector comes back (the benchmark asserts that itself).
Timings are not asserted: on a shared machine a toy run's timing proves nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_at_a_toy_size() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_descriptors",
            *("--sizes", "3000", "--dimensions", "16,64", "--pictures", "3", "--rounds", "1"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout
    for label in ("colour layout (built in)", "ONNX, 32x32 grey", "ONNX, 32x32 RGB"):
        assert re.search(rf"{re.escape(label)}.* [\d.]+ ms/picture", output), output
    for dimension in (16, 64):
        assert re.search(rf"3,000 x {dimension} .* 1 query .* 8 at once", output), output
    assert "load (checked)" in output
    assert re.search(r"of [\d,]+ pairs of distinct pictures .*, \d+ at 0\.9", output), output
    assert re.search(r"JPEG quality 40 +median [\d.]+; +[\d.]+% at 0\.9", output), output
