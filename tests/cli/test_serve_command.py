"""`vigil serve` for real: a subprocess on a free port, on the embedded defaults. The README's
Quick start against it (uploads, lists, scans) is tests/test_readme.py, run as written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

VIGIL = Path(sys.executable).parent / "vigil"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update(VIGIL_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return env


@pytest.fixture
def server(environment: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    process = subprocess.Popen([str(VIGIL), "serve", "--port", str(port)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"vigil serve exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("vigil serve did not answer within 60 s")


def test_serve_starts_on_the_embedded_defaults(server: tuple[str, subprocess.Popen[str]],
                                              environment: dict[str, str],
                                              tmp_path: Path) -> None:
    base, process = server
    created = subprocess.run(
        [str(VIGIL), "admin", "create-api-key", "platform", "--scope", "screen", "--json"],
        env=environment, capture_output=True, text=True, check=True)
    token = json.loads(created.stdout)["token"]
    refused = httpx.post(f"{base}/v1/screen", files={"file": b"x"}, timeout=30)
    assert refused.status_code == 401  # no key, no screening
    assert httpx.get(f"{base}/v1/screen").status_code in (401, 405)
    key_file = tmp_path / "cfg" / "vigil" / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert "one-time password" in output
    assert token not in output
