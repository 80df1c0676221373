"""Run `vigil hash` in-process (CliRunner) or as `python -m vigil`, and read its JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from vigil.cli.app import app

WIDE = {"COLUMNS": "250"}  # Rich wraps tables to 80 columns when not on a terminal


def hash_argv(*args: str | Path) -> list[str]:
    """argv for `vigil hash ARGS`."""
    return ["hash", *(str(arg) for arg in args)]


def run_hash(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, hash_argv(*args), env=env, catch_exceptions=False)


def run_module(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m vigil hash ARGS` in a fresh interpreter, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "vigil", *hash_argv(*args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"COLUMNS": "250"},
    )


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]
