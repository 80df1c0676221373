"""The one registry of background jobs: every job the service runs is declared there, nothing
starts a job thread elsewhere, and the service workers start exactly the registry's jobs -
or none with `vigil serve --no-jobs` (its environment flag) or create_app(background_jobs=False).
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.service import service_settings
from vigil.core.settings import Settings, load_settings
from vigil.jobs import WEB_ONLY_ENV
from vigil.jobs.registry import REGISTRY, JobServices, UnknownJob, chosen
from vigil.jobs.runner import THREAD_PREFIX, thread_name, why_not
from vigil.server.app import create_app, create_app_from_env
from vigil.store import open_database

SOURCE = Path(__file__).resolve().parents[2] / "src" / "vigil"
# The jobs create_app started itself before the registry existed.
SERVICE_JOBS = {"webhooks", "retention", "reports", "intake-expiry", "triage"}
# The jobs added since (issue 16): hash exchanges' fetches and feedback.
EXCHANGE_JOBS = {"exchanges", "exchange-feedback"}
# Backlog scans (issue 17): scan matches released into review under the hourly ceiling.
BACKLOG_JOBS = {"scan-review"}
# Where threads may be started: the loop's daemon thread, used by the runner only, and an
# exchange fetch's page reader, which lives and dies within one fetch_exchange call (it is
# no background job: it reads the next pages while the fetch writes the ones before), and
# uvicorn's thread serving an application on loopback for browser tests and screenshots.
THREAD_STARTERS = {"core/periodic.py", "exchanges/page_prefetch.py", "server/loopback.py"}
DAEMON_STARTERS = {"jobs/runner.py"}


def _calls(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                yield function.id
            elif isinstance(function, ast.Attribute):
                yield function.attr


def _modules_calling(name: str) -> set[str]:
    return {
        str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py") if name in set(_calls(path))
    }


def test_no_thread_or_job_is_started_outside_the_registry() -> None:
    assert _modules_calling("Thread") <= THREAD_STARTERS
    assert _modules_calling("start_daemon") <= DAEMON_STARTERS


def test_the_registry_declares_every_job_the_service_ran_once_each() -> None:
    names = [spec.name for spec in REGISTRY]
    assert set(names) == SERVICE_JOBS | EXCHANGE_JOBS | BACKLOG_JOBS
    assert len(names) == len(set(names))
    assert [spec.name for spec in REGISTRY if spec.exclusive] == ["triage", "scan-review"]


def test_intervals_come_from_the_settings_where_there_is_one() -> None:
    settings = load_settings(webhooks={"poll_seconds": 7}, triage={"poll_seconds": 3})
    intervals = {spec.name: spec.interval(settings) for spec in REGISTRY}
    assert intervals["webhooks"] == 7 and intervals["triage"] == 3
    assert all(seconds > 0 for seconds in intervals.values())


def test_jobs_are_chosen_by_name_in_the_registry_order() -> None:
    assert [spec.name for spec in chosen(["triage", "webhooks"])] == ["webhooks", "triage"]
    assert chosen(None) == REGISTRY and chosen([]) == REGISTRY


@pytest.mark.parametrize("names", [["nope"], ["webhooks", "../triage"], [""]])
def test_an_unknown_job_name_is_refused_with_the_known_ones(names: list[str]) -> None:
    with pytest.raises(UnknownJob) as refused:
        chosen(names)
    assert all(name in str(refused.value) for name in SERVICE_JOBS)


def test_why_a_job_cannot_run(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with open_database(settings) as database:
        services = JobServices(settings, database, vault=None)
        reasons = {spec.name: why_not(spec, services) for spec in REGISTRY}
    assert "master key" in (reasons["webhooks"] or "")
    assert all("master key" in (reasons[name] or "") for name in EXCHANGE_JOBS)
    assert "[clearinghouse] enabled" in (reasons["triage"] or "")
    assert "[clearinghouse] enabled" in (reasons["intake-expiry"] or "")


def _job_threads() -> set[str]:
    return {
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith(THREAD_PREFIX) and thread.is_alive()
    }


def _full_service(database_url: str, tmp_path: Path) -> Settings:
    """Every job wanted: a master key and the clearinghouse on."""
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


def test_the_service_starts_exactly_the_registry_jobs_and_stops_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    before = _job_threads()
    with TestClient(create_app(_full_service(sqlite_url, tmp_path))):
        started = _job_threads() - before
    assert started == {thread_name(spec) for spec in REGISTRY}
    assert not _job_threads() - before  # stopped with the application


def test_without_background_jobs_the_service_starts_none(sqlite_url: str, tmp_path: Path) -> None:
    before = _job_threads()
    with TestClient(create_app(_full_service(sqlite_url, tmp_path), background_jobs=False)):
        assert _job_threads() - before == set()


def test_the_web_only_flag_reaches_the_workers_app(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `vigil serve --no-jobs` sets the flag; uvicorn's workers build the app from the
    # environment with create_app_from_env.
    settings = _full_service(sqlite_url, tmp_path)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VIGIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VIGIL_CLEARINGHOUSE__ENABLED", "true")
    before = _job_threads()
    monkeypatch.setenv(WEB_ONLY_ENV, "1")
    with TestClient(create_app_from_env()):
        assert _job_threads() - before == set()
    monkeypatch.delenv(WEB_ONLY_ENV)
    with TestClient(create_app_from_env()):
        assert {"vigil-intake-expiry", "vigil-triage"} <= _job_threads() - before
