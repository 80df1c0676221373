"""The console's suspect entries page and the API's list of suspects: a list curator sees
each surge and decides; a reviewer sees it but cannot decide. Hashes are synthetic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, running, service_settings, sign_in
from tests.store.samples import add_entry, add_list
from vigil.core.settings import FloodGuardSettings
from vigil.store import Database
from vigil.store.lists.flood_guard import enforce_flood_guard
from vigil.store.lists.match_counts import record_matches
from vigil.store.models import EntryStatus, FloodSuspicion, ListEntry, Role, SuspicionState


@pytest.fixture
def suspects(database: Database) -> list[int]:
    now = datetime.now(UTC)
    with database.transaction(write=True) as session:
        bank = add_list(session, "bank")
        ids = [add_entry(session, bank, n).id for n in (1, 2)]
        for entry_id in ids:
            record_matches(session, entry_id, now, 51)
    with database.transaction(write=True) as session:
        enforce_flood_guard(session, FloodGuardSettings(min_history_hours=0), now=now)
    add_user(database, "curator", [Role.LIST_CURATOR])
    add_user(database, "reviewer", [Role.REVIEWER])
    return ids


@pytest.fixture
def console(database_url: str, tmp_path: Path, suspects: list[int]) -> Iterator[TestClient]:
    yield from running(service_settings(database_url, tmp_path / "data"))


def test_a_curator_sees_the_surge_and_decides(
    console: TestClient, database: Database, suspects: list[int]
) -> None:
    right, wrong = suspects
    csrf = console_sign_in(console, "curator")
    page = console.get("/lists/suspects")
    assert page.status_code == 200 and "51 matches" in page.text and "Quarantine" in page.text
    for entry_id, decision in ((right, "confirm"), (wrong, "quarantine")):
        answer = console.post(
            f"/lists/suspects/{entry_id}",
            headers=csrf,
            data={"decision": decision, "reason": "looked at it"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    assert "No suspect entries" in console.get("/lists/suspects").text
    with database.transaction() as session:
        states = {s.entry_id: s.state for s in session.scalars(select(FloodSuspicion))}
        assert states == {right: SuspicionState.CONFIRMED, wrong: SuspicionState.QUARANTINED}
        assert session.get_one(ListEntry, wrong).status is EntryStatus.QUARANTINED
        assert session.get_one(FloodSuspicion, 1).decided_by == "user:curator"


def test_a_reviewer_sees_suspects_but_cannot_decide(
    console: TestClient, database: Database, suspects: list[int]
) -> None:
    csrf = console_sign_in(console, "reviewer")
    page = console.get("/lists/suspects")
    assert page.status_code == 200 and "51 matches" in page.text
    assert "Quarantine</button>" not in page.text
    refused = console.post(
        f"/lists/suspects/{suspects[0]}",
        headers=csrf,
        data={"decision": "quarantine", "reason": "x"},
    )
    assert refused.status_code == 403
    with database.transaction() as session:
        assert {s.state for s in session.scalars(select(FloodSuspicion))} == {SuspicionState.OPEN}


@pytest.mark.parametrize(
    "form",
    [
        {"decision": "delete", "reason": "x"},
        {"decision": "confirm", "reason": "  "},
        {"decision": "confirm"},
    ],
)
def test_bad_decisions_are_refused(
    console: TestClient, database: Database, suspects: list[int], form: dict[str, str]
) -> None:
    csrf = console_sign_in(console, "curator")
    answer = console.post(f"/lists/suspects/{suspects[0]}", headers=csrf, data=form)
    assert answer.status_code == 422
    missing = console.post(
        "/lists/suspects/99999", headers=csrf, data={"decision": "confirm", "reason": "x"}
    )
    assert missing.status_code == 404
    with database.transaction() as session:
        assert session.get_one(FloodSuspicion, 1).state is SuspicionState.OPEN


def test_the_api_lists_suspects(console: TestClient, suspects: list[int]) -> None:
    sign_in(console, "reviewer")
    answer = console.get("/v1/lists/suspects")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["entry_id"] for s in body["suspects"]] == suspects
    assert (
        body["suspects"][0]["list"] == "bank" and "51 matches" in body["suspects"][0]["explanation"]
    )
