"""Decode bombs over HTTP (issue 14, item 1): the caller is answered plainly, never left
hanging: 503 with Retry-After when every decoder is busy, the reason when over a limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import decode_bombs
from tests.api.service import add_key, running, service_settings
from vigil.fingerprint import limits
from vigil.store import Database

MIB = 1 << 20


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    before = limits.process_limits()  # the app sets its process's limits: put them back
    settings = service_settings(
        database_url,
        tmp_path / "data",
        decoding={"max_bytes": 8 * MIB, "concurrent": 1, "wait_seconds": 0.3},
    )
    try:
        yield from running(settings)
    finally:
        limits.set_process_limits(before)


@pytest.fixture
def platform(database: Database, service: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_key(database, 'platform', ['screen'])}"}


def screen(client: TestClient, headers: dict[str, str], content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/screen",
        headers=headers,
        data={"content_id": "c-1"},
        files={"file": ("upload.png", content, "image/png")},
    )


def test_busy_decoders_answer_503_with_retry_after(
    service: TestClient, platform: dict[str, str]
) -> None:
    picture = decode_bombs.png16(64, 64)
    with limits.slots_for(limits.process_limits()).slot():  # the one slot is taken
        started = time.monotonic()
        answer = screen(service, platform, picture)
        assert time.monotonic() - started < 10
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["error"]["code"] == "decoders_busy"
    assert screen(service, platform, picture).status_code == 200  # free again


def test_a_bomb_over_the_budget_is_answered_with_its_reason(
    service: TestClient, platform: dict[str, str]
) -> None:
    answer = screen(service, platform, decode_bombs.png16(2_000, 2_000))  # 16 MB decoded
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error_reason"] == "over_decode_budget" and body["error"]
    assert body["verdict"] == "review" and body["record_id"]
