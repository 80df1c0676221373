"""Requests from an agency to the reporting company: asked with a due date (audited), listed
with overdue ones flagged, and answered by the company through the intake's basic auth; a
company only ever sees and answers its own."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.agency.agency_rows import add_referral, add_report, two_agencies
from tests.api.service import service_settings, sign_in
from vigil.agency import info_requests
from vigil.agency.actions import InvalidText
from vigil.agency.scope import OutOfScope
from vigil.api.intake.info_requests import MAX_ANSWER_BYTES
from vigil.clearinghouse.companies import add_company
from vigil.server.app import create_app
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, InfoRequest, InfoRequestState, utcnow

pytestmark = pytest.mark.usefixtures("cheap_argon2")
COMPANY_PASSWORD = "platform-password-long-enough"


def basic(username: str, password: str = COMPANY_PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})
    with TestClient(create_app(settings, background_jobs=False)) as test_client:
        yield test_client


@pytest.fixture
def asked(database: Database) -> dict[str, int]:
    return _ask(database)


@pytest.fixture(scope="module")
def shared_service_options() -> dict[str, Any]:
    return {"clearinghouse": {"enabled": True}}


@pytest.fixture(scope="module")
def asked_once(module_database: Database) -> dict[str, int]:
    """The same questions in the module's database, for the cases of the hostile-input
    matrices below: none of them may change anything (each checks), so they share one world
    and one service (tests/shared_service.py)."""
    return _ask(module_database)


def _ask(database: Database) -> dict[str, int]:
    """Agency A asked company "one" about its report; agency B asked company "two"."""
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        one = add_company(session, "Platform One", "one", COMPANY_PASSWORD)
        two = add_company(session, "Platform Two", "two", COMPANY_PASSWORD)
        referral_one = add_referral(session, add_report(session, one), world.agency_a)
        referral_two = add_referral(session, add_report(session, two), world.agency_b)
        mine = info_requests.ask(
            session,
            world.agency_a.id,
            referral_one.id,
            "Which IP addresses logged in last week?",
            actor="user:agent-a",
            due_days=7,
        )
        theirs = info_requests.ask(
            session,
            world.agency_b.id,
            referral_two.id,
            "Subscriber details?",
            actor="user:agent-b",
            due_days=3,
        )
        return {
            "mine": mine.id,
            "theirs": theirs.id,
            "referral_one": referral_one.id,
            "agency_a": world.agency_a.id,
            "company_one": one.id,
        }


def test_asking_sets_the_company_the_due_date_and_is_audited(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        referral = world.referrals_a[0]
        now = utcnow()
        made = info_requests.ask(
            session,
            world.agency_a.id,
            referral.id,
            "  More?  ",
            actor="user:agent-a",
            due_days=5,
            now=now,
        )
        assert made.company_id == world.company.id and made.question == "More?"
        assert made.due_at == now + timedelta(days=5)
        with pytest.raises(OutOfScope):  # agency B cannot ask about A's referral
            info_requests.ask(session, world.agency_b.id, referral.id, "?", actor="x", due_days=5)
        for question, days in (("", 5), ("x" * 4001, 5), ("ok", 0), ("ok", 366)):
            with pytest.raises(InvalidText):
                info_requests.ask(
                    session,
                    world.agency_a.id,
                    referral.id,
                    question,
                    actor="user:agent-a",
                    due_days=days,
                )
        record = session.scalar(
            select(AuditRecord).where(AuditRecord.action == AuditAction.INFO_REQUEST)
        )
        assert record.actor == "user:agent-a" and record.subject_id == str(made.id)
        assert record.details["company_id"] == world.company.id


def test_open_and_overdue_requests_of_the_agency(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        late = info_requests.ask(
            session,
            world.agency_a.id,
            world.referrals_a[0].id,
            "Late?",
            actor="a",
            due_days=1,
            now=utcnow() - timedelta(days=3),
        )
        soon = info_requests.ask(
            session, world.agency_a.id, world.referrals_a[1].id, "Soon?", actor="a", due_days=2
        )
        info_requests.ask(
            session, world.agency_b.id, world.referrals_b[0].id, "B's", actor="b", due_days=1
        )
        listed = info_requests.agency_requests(session, world.agency_a.id)
        assert [item.id for item in listed] == [late.id, soon.id]
        assert [info_requests.is_overdue(item) for item in listed] == [True, False]
        info_requests.answer(session, world.company.id, late.id, "Here.", actor="company:x")
        assert [item.id for item in info_requests.agency_requests(session, world.agency_a.id)] == [
            soon.id
        ]
        assert not info_requests.is_overdue(session.get(InfoRequest, late.id))


def test_the_company_lists_and_answers_its_own(
    client: TestClient, database: Database, asked: dict[str, int]
) -> None:
    listed = client.get("/ispws/requests", headers=basic("one"))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["requests"]] == [asked["mine"]]
    assert listed.json()["requests"][0]["question"].startswith("Which IP")
    assert "Subscriber" not in listed.text and "agent" not in listed.text
    answered = client.post(
        f"/ispws/requests/{asked['mine']}/answer",
        headers=basic("one"),
        json={"answer": "198.51.100.7 on 2024-05-01"},
    )
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    assert client.get("/ispws/requests", headers=basic("one")).json() == {"requests": []}
    again = client.post(
        f"/ispws/requests/{asked['mine']}/answer", headers=basic("one"), json={"answer": "twice"}
    )
    assert again.status_code == 409
    with database.transaction() as session:
        request = session.get(InfoRequest, asked["mine"])
        assert request.answer == "198.51.100.7 on 2024-05-01"
        record = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.INFO_REQUEST)
            .order_by(AuditRecord.seq)
        ).all()[-1]
        assert record.actor == "company:one" and record.details["action"] == "answered"
    # the agency reads the answer on the referral
    csrf = sign_in(client, "agent-a")
    assert csrf
    page = client.get(f"/v1/agency/referrals/{asked['referral_one']}").json()
    assert page["info_requests"][0]["answer"] == "198.51.100.7 on 2024-05-01"


def test_another_companys_request_is_not_found(
    client: TestClient, database: Database, asked: dict[str, int]
) -> None:
    refused = client.post(
        f"/ispws/requests/{asked['theirs']}/answer",
        headers=basic("one"),
        json={"answer": "I am not company two"},
    )
    assert refused.status_code == 404
    unknown = client.post(
        "/ispws/requests/999999/answer", headers=basic("one"), json={"answer": "nothing"}
    )
    assert unknown.status_code == 404 and unknown.json() == refused.json()
    with database.transaction() as session:
        theirs = session.get(InfoRequest, asked["theirs"])
        assert theirs.state is InfoRequestState.OPEN and theirs.answer is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("one", "wrong-password-entirely"),
        basic("nobody"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer " + "a" * 40},
    ],
)
def test_wrong_credentials_are_refused(
    shared_client: TestClient, asked_once: dict[str, int], headers: dict[str, str]
) -> None:
    client = shared_client
    assert client.get("/ispws/requests", headers=headers).status_code == 401
    answer = client.post(
        f"/ispws/requests/{asked_once['mine']}/answer", headers=headers, json={"answer": "x"}
    )
    assert answer.status_code == 401 and "Which IP" not in answer.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"answer": ', "application/json", 400),
        (b'["answer"]', "application/json", 400),
        (b'{"answer": 42}', "application/json", 400),
        (b'{"answer": "   "}', "application/json", 422),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b'{"answer": "fine"}', "text/plain", 415),
        (b'{"answer": "' + b"x" * (MAX_ANSWER_BYTES + 1) + b'"}', "application/json", 413),
    ],
)
def test_hostile_answers(
    shared_client: TestClient,
    module_database: Database,
    asked_once: dict[str, int],
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    answer = shared_client.post(
        f"/ispws/requests/{asked_once['mine']}/answer",
        headers={**basic("one"), "Content-Type": content_type},
        content=body,
    )
    assert answer.status_code == status, answer.text
    with module_database.transaction() as session:
        assert session.get(InfoRequest, asked_once["mine"]).state is InfoRequestState.OPEN


@pytest.mark.parametrize("request_id", ["abc", "-1", "0", "1e3", "²", "9" * 25])
@pytest.mark.usefixtures("asked_once")
def test_malformed_request_ids(shared_client: TestClient, request_id: str) -> None:
    answer = shared_client.post(
        f"/ispws/requests/{request_id}/answer", headers=basic("one"), json={"answer": "x"}
    )
    assert answer.status_code == 404
