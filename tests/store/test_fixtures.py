"""The PostgreSQL fixtures fail under CI=true, and skip otherwise, when the server is away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
from tests.db import postgres_admin_url  # noqa: F401


def test_needs_postgres(postgres_admin_url):
    pass
"""


def _run_probe(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        **os.environ,
        "CI": ci,
        "PYTHONPATH": str(REPO),
        "VIGIL_TEST_POSTGRES_URL": "postgresql+psycopg://root@127.0.0.1:1/test",  # refused
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "tmp"),
            str(tmp_path / "test_probe.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("ci", "exit_code", "expected"),
    [
        ("true", 1, "CI=true: PostgreSQL tests must run"),
        ("", 0, "SKIPPED"),
    ],
)
def test_unreachable_postgres(tmp_path: Path, ci: str, exit_code: int, expected: str) -> None:
    result = _run_probe(tmp_path, ci)
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert expected in result.stdout
    assert "PostgreSQL unreachable" in result.stdout
