"""Hostile and malformed requests: each gets a clear JSON error with the right status, never
a stack trace, and never leaves a partial record behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.service import add_key, running, service_settings
from vigil.store import Database
from vigil.store.models import MatchRecord


@pytest.fixture
def screen(database: Database) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_key(database, 'platform', ['screen'])}"}


def _records(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(MatchRecord)) or 0


def _error(answer, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in answer.text
    return body["error"]


def test_oversized_upload_is_refused_early(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    settings = service_settings(database_url, tmp_path / "data", api={"max_upload_bytes": 10_000})
    headers = {"Authorization": f"Bearer {add_key(database, 'p', ['screen'])}"}
    for client in running(settings):
        answer = client.post(
            "/v1/screen",
            headers=headers,
            files={"file": ("big.jpg", b"\xff" * 20_000)},
            data={"content_id": "c1"},
        )
        assert _error(answer, 413)["code"] == "payload_too_large"
    assert _records(database) == 0


def test_streamed_body_over_the_limit(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    settings = service_settings(database_url, tmp_path / "data", api={"max_upload_bytes": 10_000})
    headers = {
        "Authorization": f"Bearer {add_key(database, 'p', ['screen'])}",
        "Content-Type": "application/json",
    }

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: chunked
        for _ in range(20):
            yield b" " * 1000

    for client in running(settings):
        answer = client.post("/v1/screen/hashes", headers=headers, content=chunks())
        _error(answer, 413)


def test_wrong_content_type(client: TestClient, screen: dict[str, str]) -> None:
    answer = client.post("/v1/screen", headers=screen, json={"content_id": "c"})
    assert _error(answer, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"null",
        b'{"items": "x"}',
        b'{"items": []}',
        b'{"items": [{"content_id": "c"}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_json(client: TestClient, screen: dict[str, str], body: bytes) -> None:
    answer = client.post(
        "/v1/screen/hashes", content=body, headers={**screen, "Content-Type": "application/json"}
    )
    error = _error(answer, 422)
    assert "details" not in error or all("input" not in d for d in error["details"])


@pytest.mark.parametrize(
    "hashes",
    [
        {"pdq": "zz" * 32},
        {"pdq": "ab" * 31},
        {"md5": "0" * 31},
        {"sha256": "x"},
        {},
        {"sha1": 12},
        {"pdq": "a" * 64, "colour": "red"},
        {"pdq_quality": 50},
    ],
)
def test_invalid_hashes_refuse_the_whole_batch(
    client: TestClient, screen: dict[str, str], database: Database, hashes: dict
) -> None:
    items = [
        {"content_id": "fine", "hashes": {"md5": "1" * 32}},
        {"content_id": "bad", "hashes": hashes},
    ]
    answer = client.post("/v1/screen/hashes", headers=screen, json={"items": items})
    assert "items[1]" in _error(answer, 422)["message"]
    assert _records(database) == 0


def test_batch_size_is_bounded(database_url: str, tmp_path: Path, database: Database) -> None:
    settings = service_settings(database_url, tmp_path / "data", api={"max_batch_items": 3})
    headers = {"Authorization": f"Bearer {add_key(database, 'p', ['screen'])}"}
    items = [{"content_id": str(i), "hashes": {"md5": f"{i:032x}"}} for i in range(4)]
    for client in running(settings):
        _error(client.post("/v1/screen/hashes", headers=headers, json={"items": items}), 413)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_id", ""),
        ("content_id", "x" * 300),
        ("context", "{not json"),
        ("context", '{"ip_address": "999.1.1.1"}'),
        ("context", '{"port": 70000}'),
        ("context", '{"unknown": 1}'),
        ("account_id", "a" * 300),
    ],
)
def test_bad_upload_fields(
    client: TestClient, screen: dict[str, str], database: Database, field: str, value: str
) -> None:
    data = {"content_id": "c1", field: value}
    answer = client.post(
        "/v1/screen",
        headers=screen,
        data=data,
        files={"file": ("a.jpg", b"\xff\xd8\xff" + b"0" * 100)},
    )
    _error(answer, 422)
    assert _records(database) == 0


def test_rate_limit_per_key(client: TestClient, database: Database) -> None:
    token = add_key(database, "slow client", ["records:read"], rate_limit_per_minute=6)
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [client.get("/v1/records", headers=headers).status_code for _ in range(5)]
    assert statuses[0] == 200 and statuses[-1] == 429
    refused = client.get("/v1/records", headers=headers)
    assert int(refused.headers["retry-after"]) >= 1
    assert _error(refused, 429)["code"] == "rate_limited"
    other = {"Authorization": f"Bearer {add_key(database, 'other', ['records:read'])}"}
    assert client.get("/v1/records", headers=other).status_code == 200


def test_unknown_routes_and_methods(client: TestClient, screen: dict[str, str]) -> None:
    _error(client.get("/v1/nowhere", headers=screen), 404)
    _error(client.put("/v1/screen/hashes", headers=screen, json={}), 405)


def test_unknown_record(client: TestClient, database: Database) -> None:
    headers = {"Authorization": f"Bearer {add_key(database, 'reader', ['records:read'])}"}
    _error(client.get("/v1/records/" + "0" * 32, headers=headers), 404)
    _error(client.get("/v1/records?limit=100000", headers=headers), 422)
    _error(client.get("/v1/records?verdict=maybe", headers=headers), 422)


def test_security_headers(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
