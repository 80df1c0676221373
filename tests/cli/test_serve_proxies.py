"""Forwarded client addresses are believed only from the proxies the operator names.

uvicorn's default believes X-Forwarded-For from loopback, so any local process could pose
as another client: escape the sign-in limit per address and forge the audit log's source.
Each test runs a real `vigil serve` and reads the audit record the sign-in left.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.served import VIGIL, free_port, private_environment, serving
from vigil.store import Database, open_database
from vigil.store.models import AuditAction, AuditRecord

FORGED = "203.0.113.9"


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return private_environment(tmp_path)


def _failed_sign_in_sources(data_dir: Path) -> list[str]:
    database: Database = open_database(f"sqlite:///{data_dir / 'vigil.db'}")
    try:
        with database.transaction() as session:
            rows = session.scalars(
                select(AuditRecord).where(AuditRecord.action == AuditAction.SIGN_IN_FAILED)
            ).all()
            return [str(row.details.get("source_ip")) for row in rows]
    finally:
        database.dispose()


def _sign_in_from_forged_address(base: str) -> None:
    answer = httpx.post(
        f"{base}/v1/auth/sign-in",
        json={"username": "admin", "password": "not the password"},
        headers={"X-Forwarded-For": FORGED},
    )
    assert answer.status_code == 401


@pytest.mark.slow
def test_forwarded_for_from_loopback_is_not_believed(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with serving(environment) as (base, _process):
        _sign_in_from_forged_address(base)
    assert _failed_sign_in_sources(tmp_path / "data") == ["127.0.0.1"]


@pytest.mark.slow
def test_forwarded_for_from_a_named_proxy_is_believed(
    environment: dict[str, str], tmp_path: Path
) -> None:
    environment["VIGIL_SERVER__TRUSTED_PROXIES"] = '["127.0.0.1"]'
    with serving(environment) as (base, _process):
        _sign_in_from_forged_address(base)
    assert _failed_sign_in_sources(tmp_path / "data") == [FORGED]


def test_a_malformed_proxy_address_is_refused(environment: dict[str, str]) -> None:
    environment["VIGIL_SERVER__TRUSTED_PROXIES"] = '["not-an-address"]'
    done = subprocess.run(
        [str(VIGIL), "serve", "--port", str(free_port())],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "trusted_proxies" in done.stderr + done.stdout
