"""/v1/admin/scan-jobs (issue 17): administrators see every backlog scan job with its status
(a running job whose process died says so, as `vigil scan-jobs status` does), counters,
rate, percentage and ETA, and its matches queued against released; they cancel one; everyone
else is refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.scan_job_rows import RUNNING_SOURCE, Jobs, make_jobs
from tests.api.service import add_key, add_user, sign_in
from vigil.screening.backlog.job_overview import PROCESS_GONE
from vigil.screening.backlog.scan_session import lock_name
from vigil.store import Database
from vigil.store.accounts import API_KEY_SCOPES
from vigil.store.audit import AuditRecord
from vigil.store.job_locks import held_alone
from vigil.store.models import Role, ScanJobStatus
from vigil.store.scan_jobs.jobs import SCAN_JOB_SUBJECT, get_job

BASE = "/v1/admin/scan-jobs"


@pytest.fixture
def jobs(database: Database) -> Jobs:
    add_user(database, "root", [Role.ADMIN])
    add_user(database, "reviewer", [Role.REVIEWER])
    return make_jobs(database)


def _by_id(answer: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {job["id"]: job for job in answer["jobs"]}


def test_a_live_job_shows_its_rate_percentage_and_eta(
    client: TestClient, database: Database, jobs: Jobs
) -> None:
    sign_in(client, "root")
    with held_alone(database, lock_name(jobs.running)) as held:
        assert held
        answer = client.get(f"{BASE}/{jobs.running}")
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["source"] == RUNNING_SOURCE and job["engine"] == "ray"
    assert (job["status"], job["stored_status"], job["process_gone"]) == (
        "running",
        "running",
        False,
    )
    assert (job["objects"], job["total"], job["percent"]) == (250, 1000, 25.0)
    assert (job["bytes"], job["errors"], job["chunks"]) == (25_000, 0, 1)
    assert job["rate"] == pytest.approx(2.5, abs=0.05)
    assert job["eta_seconds"] == pytest.approx(300, rel=0.02)
    assert job["checkpoint"] == "uploads/2019/k250" and job["finished_at"] is None


def test_the_list_shows_each_state_as_the_terminal_does(
    client: TestClient, database: Database, jobs: Jobs
) -> None:
    sign_in(client, "root")
    answer = client.get(BASE)
    assert answer.status_code == 200, answer.text
    found = _by_id(answer.json())
    assert list(found) == [jobs.completed, jobs.interrupted, jobs.running]  # newest first
    running = found[jobs.running]
    # nobody holds its lock: its process died, so no ETA is promised
    assert (running["status"], running["stored_status"]) == (PROCESS_GONE, "running")
    assert running["process_gone"] is True and running["eta_seconds"] is None
    assert running["rate"] == pytest.approx(2.5, abs=0.05)
    interrupted = found[jobs.interrupted]
    assert (interrupted["status"], interrupted["process_gone"]) == ("interrupted", False)
    assert (interrupted["objects"], interrupted["errors"], interrupted["total"]) == (40, 2, None)
    assert interrupted["percent"] is None and interrupted["eta_seconds"] is None
    completed = found[jobs.completed]
    assert completed["status"] == "completed" and completed["finished_at"] is not None
    assert completed["percent"] == 100.0 and completed["eta_seconds"] is None
    assert completed["matches"] == {"found": 3, "queued": 1, "released": 2}
    assert found[jobs.interrupted]["matches"] == {"found": 0, "queued": 0, "released": 0}
    assert len(client.get(BASE, params={"limit": 1}).json()["jobs"]) == 1


def test_cancelling_a_job_and_what_cannot_be_cancelled(
    client: TestClient, database: Database, jobs: Jobs
) -> None:
    csrf = sign_in(client, "root")
    answer = client.post(f"{BASE}/{jobs.interrupted}/cancel", headers=csrf)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled" and answer.json()["finished_at"]
    with database.transaction() as session:
        assert get_job(session, jobs.interrupted).status is ScanJobStatus.CANCELLED
        audited = session.scalars(
            select(AuditRecord.actor).where(
                AuditRecord.subject_type == SCAN_JOB_SUBJECT,
                AuditRecord.subject_id == str(jobs.interrupted),
            )
        ).all()
    assert audited == ["user:root"]  # the person who cancelled
    again = client.post(f"{BASE}/{jobs.interrupted}/cancel", headers=csrf)
    assert again.status_code == 409 and again.json()["error"]["code"] == "scan_job_ended"
    done = client.post(f"{BASE}/{jobs.completed}/cancel", headers=csrf)
    assert done.status_code == 409 and "completed" in done.json()["error"]["message"]
    missing = client.post(f"{BASE}/999999/cancel", headers=csrf)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_scan_job"
    with database.transaction() as session:
        assert get_job(session, jobs.completed).status is ScanJobStatus.COMPLETED


def test_an_unknown_or_malformed_id(client: TestClient, jobs: Jobs) -> None:
    csrf = sign_in(client, "root")
    missing = client.get(f"{BASE}/999999")
    assert missing.status_code == 404 and "no scan job 999999" in missing.text
    for bad in ("abc", "1.5", "-1%27%3B", "0", str(2**31), "9" * 40):
        assert client.get(f"{BASE}/{bad}").status_code == 422, bad
        assert client.post(f"{BASE}/{bad}/cancel", headers=csrf).status_code == 422, bad
    for limit in ("0", "501", "x"):
        assert client.get(BASE, params={"limit": limit}).status_code == 422, limit


def test_only_administrators_see_or_cancel_jobs(
    client: TestClient, database: Database, jobs: Jobs
) -> None:
    assert client.get(BASE).status_code == 401
    assert client.post(f"{BASE}/{jobs.running}/cancel").status_code == 401
    csrf = sign_in(client, "reviewer")
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/{jobs.running}").status_code == 403
    assert client.post(f"{BASE}/{jobs.running}/cancel", headers=csrf).status_code == 403
    client.cookies.clear()
    key = add_key(database, "every-scope", sorted(s.value for s in API_KEY_SCOPES))
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get(BASE, headers=bearer).status_code == 403
    assert client.post(f"{BASE}/{jobs.running}/cancel", headers=bearer).status_code == 403
    with database.transaction() as session:
        assert get_job(session, jobs.running).status is ScanJobStatus.RUNNING
