"""The README is executed: its *Quick start*, *Hash lists* and *Matching and scanning* shell
blocks run as written, in bash, against a real `vigil serve`, and what the text promises is
checked, so the README cannot drift from what Vigil does.

How the run differs from a reader's, and why (each is mechanical):

* `http://127.0.0.1:8000` in the blocks becomes a free port, because 8000 may be taken; the
  service is started as `./run.sh` starts it (`vigil serve`), with `--port`.
* The blocks run in a scratch copy of the clone's surroundings, so the files they write
  (`demo-list.csv`, reports) never land in the repository: a folder whose `.venv` is this
  test's environment and whose `../shared` is the real one beside the clone.
* HOME is a temporary folder and no VIGIL_/XDG_ variable is passed on, so the embedded
  defaults the README names (`~/.local/share/vigil/`, `~/.config/vigil/master.key`) are
  private to the test, and checked.
* "Upload again" in the Quick start's prose is its `curl` command run a second time, after
  the Hash lists block, in the same shell.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CORPUS, REPO
from tests.served import free_port
from vigil.fingerprint.pipeline import fingerprint_path

README = REPO / "README.md"
QUICK_START, HASH_LISTS, MATCHING = (
    "Quick start: screen an upload",
    "Hash lists",
    "Matching and scanning",
)
README_PORT = "127.0.0.1:8000"
STEPS = ("quick-start", "hash-lists", "upload-again", "matching")

pytestmark = pytest.mark.slow  # about a minute: it hashes the corpus three times


# --- reading the README ------------------------------------------------------------------


def section(title: str) -> str:
    match = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README.read_text(), re.MULTILINE | re.DOTALL
    )
    assert match, f"README has no section {title!r}"
    return match.group(1)


def shell_blocks(title: str) -> list[str]:
    blocks = re.findall(r"^```sh\n(.*?)^```", section(title), re.MULTILINE | re.DOTALL)
    assert blocks, f"README section {title!r} has no sh block"
    return blocks


def command_starting(block: str, word: str) -> str:
    """The command that starts with ``word``, with its continuation lines."""
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(word))
    end = start
    while lines[end].endswith("\\"):
        end += 1
    return "\n".join(lines[start : end + 1])


def promised_scan_summary() -> str:
    summary = re.search(r"`(\d+ files hashed, [^`]+ failed)`", section(MATCHING))
    assert summary, "the Matching section no longer quotes the scan's summary line"
    return summary.group(1)


# --- the scratch clone and the service -------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """Where the README's commands run, as a reader's terminal would."""

    clone: Path
    home: Path
    env: dict[str, str]
    outputs: Path


@pytest.fixture
def reader(tmp_path: Path) -> Reader:
    clone = tmp_path / "clone"
    clone.mkdir()
    (tmp_path / "shared").symlink_to(CORPUS.parent.parent, target_is_directory=True)
    _venv(clone / ".venv")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "XDG_"))}
    env.update(HOME=str(home), COLUMNS="120")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    return Reader(clone, home, env, outputs)


def _venv(target: Path) -> None:
    """`source .venv/bin/activate` must give this test's `vigil` and `python`."""
    if (Path(sys.prefix) / "bin" / "activate").is_file():
        target.symlink_to(sys.prefix, target_is_directory=True)
        return
    bin_dir = target / "bin"  # not a venv: an activate script that puts this Python first
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "activate").write_text(
        f'export PATH="{bin_dir}:{Path(sys.executable).parent}:$PATH"\n'
    )


@dataclass(frozen=True)
class Service:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        return self.log.read_text(errors="replace")


@pytest.fixture
def service(reader: Reader) -> Iterator[Service]:
    """`./run.sh` with no arguments: `vigil serve` on the embedded defaults."""
    port = free_port()
    log = reader.outputs / "serve.log"
    vigil = Path(sys.executable).parent / "vigil"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(vigil), "serve", "--port", str(port)],
            cwd=reader.clone,
            env=reader.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = Service(port, process, log)
    try:
        _wait_until_up(running)
        yield running
    finally:
        running.stop()


def _wait_until_up(service: Service) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"vigil serve exited:\n{service.log.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{service.port}/health", timeout=1).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("vigil serve did not answer within 90 s")


# --- running the blocks ----------------------------------------------------------------


def script(port: int) -> str:
    """One bash session, as a reader types it: each step's output goes to its own files;
    `set -e` stops at the first failing command and the ERR trap names it."""
    quick_start = shell_blocks(QUICK_START)[0]
    steps = {
        "quick-start": quick_start,
        "hash-lists": "\n".join(shell_blocks(HASH_LISTS)),
        "upload-again": command_starting(quick_start, "curl"),
        "matching": "\n".join(shell_blocks(MATCHING)),
    }
    assert tuple(steps) == STEPS
    lines = [
        "set -eE -o pipefail",
        'trap \'echo "exit $? from: $BASH_COMMAND" >> "$OUT/failed"\' ERR',
    ]
    for name, text in steps.items():
        text = text.replace(README_PORT, f"127.0.0.1:{port}")
        lines += [
            "{",
            text,
            f'}} > "$OUT/{name}.out" 2> "$OUT/{name}.err"',
            f'echo done > "$OUT/{name}.done"',
        ]
    lines.append('printf %s "$TOKEN" > "$OUT/token"')  # to check the service never logs it
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    outputs: Path
    returncode: int

    def out(self, step: str) -> str:
        return (self.outputs / f"{step}.out").read_text()

    def err(self, step: str) -> str:
        return (self.outputs / f"{step}.err").read_text()

    def finished(self, *steps: str) -> None:
        """Fail naming the command that stopped a step, with what it wrote to stderr."""
        failed = self.outputs / "failed"
        for step in steps:
            if not (self.outputs / f"{step}.done").exists():
                why = failed.read_text() if failed.exists() else f"bash exit {self.returncode}"
                errors = self.outputs / f"{step}.err"
                pytest.fail(
                    f"README step {step!r} failed ({why.strip()}):\n"
                    f"{errors.read_text() if errors.exists() else '(not run)'}"
                )


def run_readme(reader: Reader, service: Service) -> Run:
    env = reader.env | {"OUT": str(reader.outputs)}
    done = subprocess.run(
        ["bash", "-c", script(service.port)],
        cwd=reader.clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return Run(reader.outputs, done.returncode)


# --- what the README promises ----------------------------------------------------------


def test_the_readme_does_what_it_says(reader: Reader, service: Service) -> None:
    run = run_readme(reader, service)
    _check_quick_start(run)
    _check_hash_lists(run, reader)
    _check_matching(run, reader)
    _check_service_and_defaults(run, reader, service)
    assert run.returncode == 0


def _answer(text: str) -> dict[str, Any]:
    answer = json.loads(text)
    assert isinstance(answer, dict), text
    return answer


def _check_quick_start(run: Run) -> None:
    run.finished("quick-start")
    first = _answer(run.out("quick-start"))
    assert first["verdict"] == "no_match", first
    run.finished("hash-lists", "upload-again")
    again = _answer(run.out("upload-again"))
    assert again["verdict"] == "match", (
        "the second upload after the demo list was imported did not match",
        again,
    )
    assert again.get("record_id"), again
    assert again.get("evidence_kept") is True, again
    weak = fingerprint_path(CORPUS / "background.jpg")  # the README's example of a weak hash
    assert f"`pdq_quality`, {weak.pdq_quality})" in section(QUICK_START)
    assert weak.pdq_quality is not None and weak.pdq_quality < 50


def _check_hash_lists(run: Run, reader: Reader) -> None:
    run.finished("hash-lists")
    shown = run.out("hash-lists")
    assert re.search(r"^List:\s+demo-list$", shown, re.MULTILINE), shown
    assert re.search(r"^State:\s+enabled$", shown, re.MULTILINE), shown
    assert re.search(r"^Entries:\s+48 active, 0 disabled", shown, re.MULTILINE), shown
    assert "entry 1 of 'demo-list' disabled" in shown, shown
    rows = list(csv.DictReader((reader.clone / "demo-list.csv").open()))
    assert len(rows) == len(list(CORPUS.glob("*.jpg")))
    assert {row["classification"] for row in rows} == {"demo"}
    exported = [json.loads(line) for line in (reader.clone / "demo.jsonl").open()]
    assert len(exported) == 47  # the 48 active entries less the one disabled
    assert rows[0]["external_id"] not in {e["external_id"] for e in exported}


def _check_matching(run: Run, reader: Reader) -> None:
    run.finished("matching")
    picture = "bridge_by_sander_klootwijk.jpg"
    [matched] = [json.loads(line) for line in run.out("matching").splitlines()]
    assert matched["path"].endswith(picture) and matched["error"] is None, matched
    assert [(m["list"], m["external_id"], m["classification"]) for m in matched["matches"]] == [
        ("demo-list", picture, "demo")
    ], ("vigil match found nothing after the import, with vigil serve running", matched)
    assert promised_scan_summary() in run.err("matching"), (
        "vigil scan after the import, with vigil serve running, did not report what the "
        "README quotes",
        run.err("matching"),
    )
    report = [json.loads(line) for line in (reader.clone / "report.jsonl").open()]
    names = {Path(line["path"]).name for line in report}
    assert picture in names
    assert "background.jpg" not in names  # a weak hash is never looked up
    assert "aitzgorri_by_aitzol_berasategi.jpg" not in names  # entry 1, disabled
    assert all(line["matches"] and line["error"] is None for line in report)
    listed = (reader.clone / "paths.txt").read_text().split()
    table = list(csv.DictReader((reader.clone / "report.csv").open()))
    assert [row["path"] for row in table] == listed  # --all: a row for every file
    assert {Path(row["path"]).name for row in table if row["external_id"]} == {
        Path(p).name for p in listed
    } - {"aitzgorri_by_aitzol_berasategi.jpg", "background.jpg"}


def _check_service_and_defaults(run: Run, reader: Reader, service: Service) -> None:
    run.finished(*STEPS)
    key = reader.home / ".config" / "vigil" / "master.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (reader.home / ".local" / "share" / "vigil").is_dir()
    log = service.stop()
    assert "one-time password" in log
    # The service's output is not a terminal: the password is in a private file, not the log.
    kept = reader.home / ".config" / "vigil" / "one-time-password-admin"
    assert kept.stat().st_mode & 0o777 == 0o600 and str(kept) in log
    assert kept.read_text().strip() not in log
    token = (run.outputs / "token").read_text()
    assert token and token not in log
