"""Screening over HTTP end to end: uploads and hashes against a real list built from the
benign corpus, match records, evidence fetched back under audit, flags and webhooks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tests.api.service import add_key, add_user, running, sign_in
from tests.screening.listed import fingerprint, make_list
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.lists.catalogue import get_list
from vigil.store.models import AuditAction, AuditRecord, MatchRecord, Role, WebhookDelivery


@pytest.fixture
def listed(corpus_images: list[Path]) -> list[Path]:
    return corpus_images[:2]


@pytest.fixture
def service(
    settings: Settings, database: Database, listed: list[Path], tmp_path: Path
) -> Iterator[TestClient]:
    rows = [("pdq", fingerprint(path).pdq, f"entry-{n}") for n, path in enumerate(listed)]
    make_list(database, "known", rows, tmp_path)
    with database.transaction(write=True) as session:
        get_list(session, "known").version = "2026-11"  # as a source's import would set it
    yield from running(settings)


@pytest.fixture
def platform(database: Database) -> dict[str, str]:
    token = add_key(database, "platform", ["screen", "flag", "records:read"])
    return {"Authorization": f"Bearer {token}"}


def _unrelated_jpeg() -> bytes:
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    content_id: str,
    context: str | None = None,
) -> dict:
    data = {"content_id": content_id, "account_id": "uploader-7"}
    if context:
        data["context"] = context
    answer = client.post(
        "/v1/screen",
        headers=headers,
        data=data,
        files={"file": ("upload.jpg", content, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_listed_upload_matches_and_is_recorded(
    service: TestClient, platform: dict, listed: list[Path]
) -> None:
    context = '{"ip_address": "192.0.2.7", "port": 4431, "visibility": "private"}'
    result = _upload(service, platform, listed[0].read_bytes(), "post-1", context)
    assert result["verdict"] == "match"
    assert [m["list"] for m in result["matches"]] == ["known"]
    assert result["evidence_kept"] is True
    record = service.get(f"/v1/records/{result['record_id']}", headers=platform).json()
    assert record["content_id"] == "post-1"
    assert record["hits"][0]["list_version"] == "2026-11"
    assert record["context"]["ip_address"] == "192.0.2.7"


def test_unmatched_content_leaves_nothing(
    service: TestClient, platform: dict, database: Database
) -> None:
    result = _upload(service, platform, _unrelated_jpeg(), "post-2")
    assert result["verdict"] == "no_match" and result["record_id"] is None
    assert result["fingerprint"]["pdq"]
    assert _count(database, MatchRecord) == 0


def test_evidence_is_served_to_reviewers_only_and_audited(
    service: TestClient, platform: dict, database: Database, listed: list[Path]
) -> None:
    content = listed[0].read_bytes()
    record_id = _upload(service, platform, content, "post-3")["record_id"]
    add_user(database, "curator", [Role.LIST_CURATOR])
    sign_in(service, "curator")
    assert service.get(f"/v1/records/{record_id}/media").status_code == 403
    add_user(database, "reviewer", [Role.REVIEWER])
    csrf = sign_in(service, "reviewer")
    answer = service.get(f"/v1/records/{record_id}/media")
    assert answer.status_code == 200 and answer.content == content
    # A fetch is a hand-out, audited at once; it is not a view until the client says so.
    assert _audited(database, AuditAction.EXPORT) == [("user:reviewer", record_id)]
    assert _audited(database, AuditAction.MEDIA_VIEWED) == []
    check = answer.headers["X-Vigil-View-Check"]
    viewed = service.post(
        f"/v1/records/{record_id}/media/viewed", json={"check": check}, headers=csrf
    )
    assert viewed.status_code == 200 and viewed.json()["record_id"] == record_id
    assert _audited(database, AuditAction.MEDIA_VIEWED) == [("user:reviewer", record_id)]


def test_a_media_view_needs_the_fetch_own_check_once(
    service: TestClient, platform: dict, database: Database, listed: list[Path]
) -> None:
    record_id = _upload(service, platform, listed[0].read_bytes(), "post-4")["record_id"]
    other = _upload(service, platform, listed[1].read_bytes(), "post-5")["record_id"]
    add_user(database, "reviewer", [Role.REVIEWER])
    add_user(database, "second", [Role.REVIEWER])
    service.headers.update(sign_in(service, "reviewer"))
    check = service.get(f"/v1/records/{record_id}/media").headers["X-Vigil-View-Check"]
    viewed = f"/v1/records/{record_id}/media/viewed"
    for refused in ["", "x" * 101]:
        assert service.post(viewed, json={"check": refused}).status_code == 422
    assert service.post(viewed, json={"check": "made-up"}).status_code == 409
    # Another record, or another person, cannot use this fetch's check.
    assert (
        service.post(f"/v1/records/{other}/media/viewed", json={"check": check}).status_code == 409
    )
    assert service.post("/v1/records/nope/media/viewed", json={"check": check}).status_code == 404
    service.headers.update(sign_in(service, "second"))
    assert service.post(viewed, json={"check": check}).status_code == 409
    service.headers.update(sign_in(service, "reviewer"))
    assert service.post(viewed, json={"check": check}).status_code == 200
    assert service.post(viewed, json={"check": check}).status_code == 409  # once
    assert _audited(database, AuditAction.MEDIA_VIEWED) == [("user:reviewer", record_id)]


def _audited(database: Database, action: AuditAction) -> list[tuple[str, str | None]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == action, AuditRecord.subject_type == "match_record"
            )
        ).all()
    return [(row.actor, row.subject_id) for row in rows]


def test_hash_only_batch(service: TestClient, platform: dict, listed: list[Path]) -> None:
    known = fingerprint(listed[1])
    items = [
        {"content_id": "h1", "hashes": {"pdq": known.pdq, "pdq_quality": 100}},
        {"content_id": "h2", "hashes": {"sha256": "ab" * 32}},
    ]
    answer = service.post("/v1/screen/hashes", headers=platform, json={"items": items})
    assert answer.status_code == 200, answer.text
    verdicts = [r["verdict"] for r in answer.json()["results"]]
    assert verdicts == ["match", "no_match"]


def test_multipart_batch(service: TestClient, platform: dict, listed: list[Path]) -> None:
    files = [
        ("files", ("a.jpg", listed[1].read_bytes(), "image/jpeg")),
        ("files", ("b.jpg", _unrelated_jpeg(), "image/jpeg")),
    ]
    items = '[{"content_id": "b1"}, {"content_id": "b2", "account_id": "u"}]'
    answer = service.post("/v1/screen/batch", headers=platform, files=files, data={"items": items})
    assert answer.status_code == 200, answer.text
    assert [r["verdict"] for r in answer.json()["results"]] == ["match", "no_match"]


def test_a_user_report_goes_to_review(service: TestClient, platform: dict) -> None:
    answer = service.post(
        "/v1/flags",
        headers=platform,
        data={
            "source": "user_report",
            "content_id": "post-9",
            "note": "reported by a user",
        },
        files={"file": ("x.jpg", _unrelated_jpeg(), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "review"
    record = service.get(f"/v1/records/{answer.json()['record_id']}", headers=platform)
    assert record.json()["source"] == "user_report"


def test_a_verdict_is_announced_by_webhook(
    service: TestClient, platform: dict, database: Database, listed: list[Path]
) -> None:
    manager = {"Authorization": f"Bearer {add_key(database, 'hooks', ['webhooks:manage'])}"}
    created = service.post(
        "/v1/webhooks",
        headers=manager,
        json={"url": "https://platform.example/vigil", "events": ["verdict"]},
    )
    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    listing = service.get("/v1/webhooks", headers=manager).json()["endpoints"]
    assert "secret" not in listing[0]
    _upload(service, platform, listed[0].read_bytes(), "post-4")
    assert _count(database, WebhookDelivery) == 1


def test_openapi_for_authenticated_callers(service: TestClient, platform: dict) -> None:
    schema = service.get("/openapi.json", headers=platform).json()
    assert "/v1/screen" in schema["paths"] and "/v1/screen/hashes" in schema["paths"]
    assert service.get("/docs", headers=platform).status_code == 200
