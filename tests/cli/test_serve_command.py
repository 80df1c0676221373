"""`vigil serve` for real: a subprocess on a free port, on the embedded defaults. The README's
Quick start against it (uploads, lists, scans) is tests/test_readme.py, run as written."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.served import VIGIL, private_environment, serving


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return private_environment(tmp_path)


@pytest.fixture
def server(environment: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with serving(environment) as running:
        yield running


def _stopped(process: subprocess.Popen[str]) -> str:
    """Everything the service printed, once it has stopped."""
    process.terminate()
    return process.communicate(timeout=20)[0]


def test_serve_starts_on_the_embedded_defaults(
    server: tuple[str, subprocess.Popen[str]], environment: dict[str, str], tmp_path: Path
) -> None:
    base, process = server
    created = subprocess.run(
        [str(VIGIL), "admin", "create-api-key", "platform", "--scope", "screen", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
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


def _on_a_busy_port(environment: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        return subprocess.run(
            [str(VIGIL), "serve", "--port", str(port), *options],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


def test_a_busy_port_uses_up_no_one_time_password(environment: dict[str, str]) -> None:
    failed = _on_a_busy_port(environment)
    assert failed.returncode == 2
    assert "cannot listen on 127.0.0.1:" in failed.stderr
    assert "one-time password" not in failed.stdout + failed.stderr
    # The first administrator is still to be created, and its password shown, next time.
    with serving(environment) as (base, process):
        output = _stopped(process)
    assert _first_password(output)
    assert f"Console: {base}/login" in output


def _first_password(output: str) -> str:
    """The administrator's one-time password, from the private file the output names: a
    service's output is not a terminal, so it is never printed (issue 14, item 12)."""
    found = re.search(
        r"created the administrator 'admin'; the one-time password is in (\S+)", output
    )
    assert found, output
    path = Path(found.group(1))
    assert path.stat().st_mode & 0o777 == 0o600
    password = path.read_text().strip()
    assert password and password not in output
    return password


def test_the_first_password_is_kept_out_of_the_service_log(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with serving(environment) as (base, process):
        first = _stopped(process)
    password = _first_password(first)
    # Named once on the first start: by the line that created it, not again by the next.
    assert first.count(str(tmp_path / "cfg" / "vigil" / "one-time-password-admin")) == 1
    with serving(environment) as (base, process):  # later starts say where it is
        signed_in = httpx.post(
            f"{base}/v1/auth/sign-in", timeout=30, json={"username": "admin", "password": password}
        )
        later = _stopped(process)
    assert signed_in.status_code == 200 and signed_in.json()["must_change_password"]
    assert "one-time-password-admin" in later and password not in later


def _password(output: str, user: str) -> str:
    found = re.search(rf"'{user}' with the (?:one-time )?password (\S+)", output)
    assert found, output
    return found.group(1)


@pytest.mark.slow
def test_the_demo_says_how_to_sign_in_every_time(environment: dict[str, str]) -> None:
    failed = _on_a_busy_port(environment, "--demo")
    assert failed.returncode == 2
    assert "password" not in failed.stdout + failed.stderr.replace("reset-password", "")

    with serving(environment, "--demo") as (base, process):
        output = _stopped(process)
    admin, reviewer = _first_password(output), _password(output, "reviewer")
    assert f"Console: {base}/login" in output and "'reviewer' (reviewer)" in output

    with serving(environment, "--demo") as (base, process):
        signed_in = httpx.post(
            f"{base}/v1/auth/sign-in", timeout=30, json={"username": "admin", "password": admin}
        )
        output = _stopped(process)
    assert signed_in.status_code == 200 and signed_in.json()["must_change_password"]
    assert f"Console: {base}/login" in output
    assert "'admin' (administrator), 'reviewer' (reviewer)" in output
    assert "vigil admin reset-password" in output
    assert admin not in output and reviewer not in output
