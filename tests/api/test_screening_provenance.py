"""Provenance over HTTP, on SQLite and PostgreSQL: the screening answer and the stored match
record say, for each match, which exchange (name and kind) shared the entry, its entry id,
member, classification and tags, or the file it came from; every field of the answer is
declared in the OpenAPI models, so an undeclared one would fail here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.service import add_key, running
from tests.exchanges.shared_entries import feed_list
from tests.screening.listed import fingerprint, make_list
from vigil.core.settings import Settings
from vigil.store import Database

PROVENANCE = ("external_id", "classification", "exchange", "exchange_kind", "member", "tags")


@pytest.fixture
def service(
    settings: Settings, database: Database, corpus_images: list[Path], tmp_path: Path
) -> Iterator[TestClient]:
    shared, filed = fingerprint(corpus_images[2]), fingerprint(corpus_images[0])
    assert shared.sha256 is not None and filed.sha256 is not None
    feed_list(database, "hub", "shared", [("sha256", shared.sha256, "hub-entry-2")])
    make_list(database, "known", [("sha256", filed.sha256, "file-entry-0")], tmp_path)
    yield from running(settings)


@pytest.fixture
def platform(database: Database) -> dict[str, str]:
    token = add_key(database, "platform", ["screen", "records:read"])
    return {"Authorization": f"Bearer {token}"}


def _screen(client: TestClient, headers: dict[str, str], image: Path) -> dict:
    answer = client.post(
        "/v1/screen",
        headers=headers,
        data={"content_id": image.name, "account_id": "uploader-7"},
        files={"file": ("upload.jpg", image.read_bytes(), "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_answer_and_the_record_name_the_exchange_entry(
    service: TestClient, platform: dict, corpus_images: list[Path]
) -> None:
    body = _screen(service, platform, corpus_images[2])
    [match] = body["matches"]
    assert {key: match[key] for key in PROVENANCE} == {
        "external_id": "hub-entry-2",
        "classification": "A1",
        "exchange": "hub",
        "exchange_kind": "ncmec",
        "member": "member-7",
        "tags": ["csam", "verified"],
    }
    assert match["source"] == "exchange:hub" and match["list"] == "shared"

    record = service.get(f"/v1/records/{body['record_id']}", headers=platform)
    assert record.status_code == 200, record.text
    [hit] = record.json()["hits"]
    assert {key: hit[key] for key in PROVENANCE} == {key: match[key] for key in PROVENANCE}


def test_a_file_entry_names_its_file_and_no_exchange(
    service: TestClient, platform: dict, corpus_images: list[Path]
) -> None:
    [match] = _screen(service, platform, corpus_images[0])["matches"]
    assert (match["exchange"], match["exchange_kind"], match["member"], match["tags"]) == (
        None,
        None,
        None,
        [],
    )
    assert (match["external_id"], match["source"]) == ("file-entry-0", "known.csv")
