"""Running registered jobs: a failing run is logged without its message and retried, a job
closes what it holds when stopped, and a job declared exclusive runs in one process at a time
(PostgreSQL advisory lock, SQLite lock file) - also across real processes."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vigil.core.settings import load_settings
from vigil.jobs.registry import JobServices, JobSpec, Work
from vigil.jobs.runner import BackgroundJobs, JobUnavailable
from vigil.store import Database, open_database
from vigil.store.job_locks import advisory_key, held_alone, lock_file

SHORT = 0.01


@dataclass
class Overlap:
    """Counts runs, and the most that were under way at once."""

    runs: int = 0
    most: int = 0
    _now: int = 0
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> int:
        with self._guard:
            self._now += 1
            self.runs += 1
            self.most = max(self.most, self._now)
        time.sleep(0.03)  # long enough for another worker's run to start meanwhile
        with self._guard:
            self._now -= 1
        return 1


def _spec(
    run: Callable[[], object],
    *,
    exclusive: bool = False,
    name: str = "probe",
    close: Callable[[], None] = lambda: None,
) -> JobSpec:
    return JobSpec(
        name,
        "a test job",
        lambda _settings: SHORT,
        lambda _services: Work(run, close),
        exclusive=exclusive,
    )


@contextmanager
def _workers(database_url: str, tmp_path: Path, spec: JobSpec, count: int = 2) -> Iterator[None]:
    """``count`` workers as separate processes would be: each its own database handle."""
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url)
    handles = [open_database(database_url) for _ in range(count)]
    runners = [BackgroundJobs() for _ in range(count)]
    try:
        for runner, handle in zip(runners, handles, strict=True):
            runner.start(JobServices(settings, handle, None), (spec,))
        yield
    finally:
        for runner in runners:
            runner.stop()
        for handle in handles:
            handle.dispose()


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_an_exclusive_job_runs_in_one_worker_at_a_time(database_url: str, tmp_path: Path) -> None:
    overlap = Overlap()
    with _workers(database_url, tmp_path, _spec(overlap.run, exclusive=True)):
        _until(lambda: overlap.runs >= 20)
    assert overlap.runs >= 20 and overlap.most == 1


def test_a_job_not_exclusive_runs_in_every_worker_at_once(
    database_url: str, tmp_path: Path
) -> None:
    # The control: the probe does see overlapping runs when nothing prevents them.
    overlap = Overlap()
    with _workers(database_url, tmp_path, _spec(overlap.run)):
        _until(lambda: overlap.most >= 2)
    assert overlap.most == 2


HOLDER = """
import sys
from vigil.store import open_database
from vigil.store.job_locks import held_alone
with open_database(sys.argv[1]) as database, held_alone(database, "probe") as held:
    print("held" if held else "refused", flush=True)
    sys.stdin.readline()
"""


def test_the_lock_holds_across_processes(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with open_database(database_url) as database:
            with held_alone(database, "probe") as held:
                assert not held
            with held_alone(database, "another job") as held:
                assert held  # one lock per job
            holder.communicate("\n", timeout=30)
            with held_alone(database, "probe") as held:
                assert held  # released when the holder ends
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_lock_is_released_when_the_run_fails(database: Database) -> None:
    with pytest.raises(RuntimeError), held_alone(database, "probe"):
        raise RuntimeError("the run failed")
    with held_alone(database, "probe") as held:
        assert held


def test_in_memory_sqlite_locks_within_the_process() -> None:
    with (
        open_database("sqlite://") as database,
        held_alone(database, "probe") as first,
        held_alone(database, "probe") as second,
    ):
        assert first and not second


def test_lock_keys_and_files_are_stable_and_per_job() -> None:
    assert advisory_key("triage") == advisory_key("triage") != advisory_key("webhooks")
    assert -(2**63) <= advisory_key("triage") < 2**63
    assert lock_file("/var/vigil/vigil.db", "triage") == Path("/var/vigil/vigil.db.triage.lock")
    assert lock_file("file:/var/vigil/vigil.db?mode=rw", "triage") == Path(
        "/var/vigil/vigil.db.triage.lock"
    )


def test_a_failing_run_is_logged_without_its_message_and_retried(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("postgres://user:hunter2@db failed")

    with (
        caplog.at_level(logging.ERROR, logger="vigil.jobs.runner"),
        _workers(sqlite_url, tmp_path, _spec(flaky), count=1),
    ):
        _until(lambda: len(calls) >= 3)
    assert len(calls) >= 3
    assert "background job probe failed (RuntimeError)" in caplog.text
    assert "hunter2" not in caplog.text  # driver messages may hold secrets: never logged


def test_stopping_closes_what_a_job_holds(sqlite_url: str, tmp_path: Path) -> None:
    closed = threading.Event()
    with _workers(sqlite_url, tmp_path, _spec(lambda: None, close=closed.set), count=1):
        assert not closed.is_set()
    assert closed.is_set()


def test_a_job_that_cannot_be_built_leaks_nothing(sqlite_url: str, tmp_path: Path) -> None:
    closed = threading.Event()
    fine = _spec(lambda: None, name="fine", close=closed.set)

    def refuse(_services: JobServices) -> Work:
        raise ValueError("bad weights file")

    broken = JobSpec("broken", "a test job", lambda _settings: SHORT, refuse)
    runner = BackgroundJobs()
    with open_database(sqlite_url) as database, pytest.raises(ValueError):
        runner.start(JobServices(load_settings(data_dir=tmp_path), database, None), (fine, broken))
    assert closed.is_set() and runner.names == []


def test_a_named_job_that_cannot_run_is_refused(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    needs_key = JobSpec(
        "keyed",
        "a test job",
        lambda _settings: SHORT,
        lambda _services: Work(lambda: None),
        needs_vault=True,
    )
    services = JobServices(load_settings(data_dir=tmp_path), open_database(sqlite_url), None)
    with pytest.raises(JobUnavailable, match="master key"):
        BackgroundJobs().start(services, (needs_key,), strict=True)
    runner = BackgroundJobs()
    with caplog.at_level(logging.WARNING, logger="vigil.jobs.runner"):
        runner.start(services, (needs_key,))  # all jobs: left out, loudly
    assert runner.names == [] and "keyed does NOT run" in caplog.text
    services.database.dispose()
