"""Console pages over HTTP without a browser: the two-reviewer rule, the platform list and
the decision history, on the demo data (benign pictures only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, running, service_settings
from vigil.cli.demo_data import seed_demo
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import (
    Case,
    CaseItem,
    EntryDisableRequest,
    EntryStatus,
    ListEntry,
    MatchRecord,
    RequestStatus,
    Role,
)


@pytest.fixture
def two_reviewer_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(
        database_url, tmp_path / "data", review={"two_reviewers_to_disable": True}
    )


@pytest.fixture
def console(
    two_reviewer_settings: Settings, corpus_images: list[Path], database: Database
) -> Iterator[TestClient]:
    seed_demo(two_reviewer_settings, corpus_images[0].parent)
    add_user(database, "first", [Role.REVIEWER])
    add_user(database, "second", [Role.REVIEWER])
    yield from running(two_reviewer_settings)


def _known_case(database: Database) -> tuple[str, int]:
    with database.transaction() as session:
        case = session.scalars(select(Case).where(Case.platform_account_id == "acct-1001")).one()
        return case.public_id, case.items[0].id


def _entry_of(database: Database, item_id: int) -> ListEntry:
    with database.transaction() as session:
        record = session.scalars(
            select(MatchRecord)
            .join(CaseItem, CaseItem.record_id == MatchRecord.id)
            .where(CaseItem.id == item_id)
        ).one()
        entry = session.get(ListEntry, record.hits[0].entry_id)
        assert entry is not None
        return entry


def test_disabling_an_entry_needs_a_second_reviewer(
    console: TestClient, database: Database
) -> None:
    case_id, item_id = _known_case(database)
    csrf = console_sign_in(console, "first")
    answer = console.post(
        f"/review/cases/{case_id}/decide",
        headers=csrf,
        data={
            "kind": "false_positive",
            "item_id": item_id,
            "reason": "a landscape",
            "disable_entries": "true",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert _entry_of(database, item_id).status is EntryStatus.ACTIVE  # not yet
    with database.transaction() as session:
        request_id = session.scalars(select(EntryDisableRequest.id)).one()
    assert "a landscape" in console.get("/review/requests").text
    refused = console.post(
        f"/review/requests/{request_id}", headers=csrf, data={"verdict": "approve"}
    )
    assert refused.status_code == 422  # not one's own request
    csrf = console_sign_in(console, "second")
    console.post(f"/review/requests/{request_id}", headers=csrf, data={"verdict": "approve"})
    assert _entry_of(database, item_id).status is EntryStatus.DISABLED
    with database.transaction() as session:
        request = session.get(EntryDisableRequest, request_id)
        assert request is not None and request.status is RequestStatus.APPROVED
    history = console.get(f"/review/cases/{case_id}").text
    assert "false positive" in history and "user:first" in history


def test_a_confirmed_item_joins_the_platform_list(console: TestClient, database: Database) -> None:
    case_id, item_id = _known_case(database)
    csrf = console_sign_in(console, "first")
    console.post(
        f"/review/cases/{case_id}/decide",
        headers=csrf,
        data={"kind": "confirm", "item_id": item_id},
    )
    added = console.post(f"/review/items/{item_id}/platform-list", headers=csrf)
    assert added.status_code == 200 and "platform-confirmed" in added.text
    with database.transaction() as session:
        entries = session.scalars(
            select(ListEntry)
            .join(ListEntry.hash_list)
            .where(ListEntry.hash_list.has(name="platform-confirmed"))
        ).all()
    assert entries and all(entry.classification for entry in entries)


def test_pages_refuse_bad_input(console: TestClient, database: Database) -> None:
    case_id, item_id = _known_case(database)
    csrf = console_sign_in(console, "first")
    assert console.get("/review/cases/" + "x" * 40).status_code == 404
    assert (
        console.post(
            f"/review/cases/{case_id}/decide",
            headers=csrf,
            data={"kind": "obliterate", "item_id": item_id},
        ).status_code
        == 422
    )
    assert (
        console.post(
            f"/review/items/{item_id}/classify", headers=csrf, data={"classification": "Z9"}
        ).status_code
        == 422
    )
    assert (
        console.post("/review/requests/1", headers=csrf, data={"verdict": "maybe"}).status_code
        == 422
    )
    assert console.get("/review?priority=7").status_code == 422
    assert (
        console.post(
            f"/review/cases/{case_id}/decide",
            headers={},
            data={"kind": "confirm", "item_id": item_id},
        ).status_code
        == 403
    )


def test_administrators_see_exposure_not_content(console: TestClient, database: Database) -> None:
    _, item_id = _known_case(database)
    csrf = console_sign_in(console, "first")
    handed = console.post(f"/review/items/{item_id}/reveal", headers=csrf)
    assert handed.status_code == 200
    check = {"check": handed.headers["x-vigil-view-check"]}  # the browser showed it
    assert console.post(f"/review/items/{item_id}/viewed", headers=csrf, json=check).is_success
    add_user(database, "boss", [Role.ADMIN])
    console_sign_in(console, "boss")
    landing = console.get("/", follow_redirects=False)
    assert landing.headers["location"] == "/home"
    assert '<a href="/review/exposure">' in console.get("/home").text
    page = console.get("/review/exposure")
    assert page.status_code == 200 and "first" in page.text and "<img" not in page.text
    assert console.get(f"/review/items/{item_id}/preview").status_code == 403
    assert console.get("/review").status_code == 403
