"""The freshness contract across processes: with `vigil serve` running idle on the same data,
the command line matches what the database holds now, not what the service last logged.

Before the contract, a CLI process followed the serving process's index log, which an idle
service never wrote: `vigil lists import` then `vigil scan` found nothing, and a disabled
entry went on matching in `vigil match`. Each run here is a real subprocess on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.served import VIGIL, private_environment, serving
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_path


@pytest.fixture
def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    return private_environment(tmp_path, VIGIL_DATABASE_URL=database_url, COLUMNS="250")


@pytest.fixture
def idle_service(environment: dict[str, str]) -> Iterator[str]:
    with serving(environment) as (base, _process):
        yield base


def _vigil(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(VIGIL), *(str(a) for a in args)], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode in (0, 1), done.stderr
    return done


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _list_file(path: Path, images: list[Path]) -> Path:
    rows = ["signal_type,signal,external_id,classification"]
    for image in images:
        rows.append(
            f"sha256,{fingerprint_path(image, FingerprintOptions()).sha256},{image.name},A1"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def _matched(lines: list[dict[str, Any]]) -> set[str]:
    return {Path(line["path"]).name for line in lines if line["matches"]}


@pytest.mark.slow
def test_cli_follows_the_database_while_the_service_is_idle(
    idle_service: str, environment: dict[str, str], corpus_images: list[Path], tmp_path: Path
) -> None:
    listed, other = corpus_images[20:23], corpus_images[23:25]
    backlog = tmp_path / "backlog"
    backlog.mkdir()
    for image in [*listed, *other]:
        (backlog / image.name).write_bytes(image.read_bytes())
    env = environment

    _vigil(env, "lists", "create", "bank")
    _vigil(env, "lists", "import", "bank", _list_file(tmp_path / "bank.csv", listed))
    scanned = _lines(_vigil(env, "scan", backlog).stdout)
    assert _matched(scanned) == {image.name for image in listed}

    [first] = _lines(_vigil(env, "match", backlog / listed[0].name).stdout)
    entry_id = first["matches"][0]["entry_id"]
    _vigil(env, "lists", "disable", "bank", "--entry", str(entry_id), "--reason", "test")
    [after] = _lines(_vigil(env, "match", backlog / listed[0].name).stdout)
    assert after["matches"] == []  # disabled a moment ago: no longer matches


@pytest.mark.slow
def test_two_cli_processes_at_once_both_see_a_new_list(
    idle_service: str, environment: dict[str, str], corpus_images: list[Path], tmp_path: Path
) -> None:
    listed = corpus_images[25:27]
    _vigil(environment, "lists", "create", "bank")
    _vigil(environment, "lists", "import", "bank", _list_file(tmp_path / "bank.csv", listed))
    runs = [
        subprocess.Popen(
            [str(VIGIL), "match", *map(str, listed)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    for output in outputs:
        assert _matched(_lines(output)) == {image.name for image in listed}
