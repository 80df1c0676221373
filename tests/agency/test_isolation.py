"""Agency isolation, checked for EVERY route of the agency API and the agency screens, taken
from the routers themselves (a new route is covered the day it is added): another agency's
member given agency A's referral ids gets 404 and never A's data, a person with the agency
role but no agency reaches nothing, and every other role gets 403.

One application and one world (two agencies, their referrals) per backend serve every case:
no case may change them (each checks that), so building them per case only cost time."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

from tests.agency.agency_rows import add_member, two_agencies
from tests.api.service import sign_in
from vigil.agency import info_requests
from vigil.api.routes.agency import router as api_router
from vigil.store import Database
from vigil.store.models import InfoRequest, Referral, ReferralOutcome, Role
from vigil.web.pages.agency import router as page_router

pytestmark = pytest.mark.usefixtures("cheap_argon2")
SECRET_QUESTION = "Agency A's question about the suspect's second account"
# Valid input for every body field a route may take: the request must reach the scope check.
SAMPLE_FIELDS: dict[str, Any] = {
    "reason": "not ours",
    "kind": "arrest",
    "note": "n",
    "question": "more?",
    "due_days": 3,
}


def _routes() -> list[tuple[str, str, APIRoute]]:
    found = []
    for router in (api_router, page_router):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            found.extend((method, route.path, route) for method in sorted(route.methods))
    return found


ROUTES = _routes()
WITH_ID = [(method, path, route) for method, path, route in ROUTES if "{referral_id}" in path]
LISTS = [(method, path) for method, path, _ in ROUTES if "{" not in path]


def _body(route: APIRoute, path: str) -> dict[str, Any]:
    """Valid input for the route's body: a JSON model's fields, or the form's fields."""
    values: dict[str, Any] = {}
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            values.update({name: SAMPLE_FIELDS[name] for name in annotation.model_fields})
        else:
            values[param.alias] = SAMPLE_FIELDS[param.alias]
    if not values:
        return {}
    return {"json": values} if path.startswith("/v1/") else {"data": values}


def test_the_routes_are_all_here() -> None:
    paths = {(method, path) for method, path, _ in ROUTES}
    assert len(WITH_ID) >= 12 and len(LISTS) >= 3
    assert {
        ("GET", "/v1/agency/referrals/{referral_id}/package"),
        ("GET", "/v1/agency/referrals/{referral_id}/vics"),
        ("POST", "/agency/referrals/{referral_id}/decline"),
        ("GET", "/agency"),
    } <= paths


@pytest.fixture(scope="module")
def database(module_database: Database) -> Database:
    return module_database


@pytest.fixture
def client(shared_client: TestClient) -> TestClient:
    return shared_client


@pytest.fixture(scope="module")
def world(database: Database) -> dict[str, Any]:
    with database.transaction(write=True) as session:
        built = two_agencies(session)
        add_member(session, "agent-nowhere", None)
        first = built.referrals_a[0]
        info_requests.ask(
            session, built.agency_a.id, first.id, SECRET_QUESTION, actor="user:agent-a", due_days=7
        )
        return {
            "a_ids": [r.id for r in built.referrals_a],
            "a_reports": [r.report_id for r in built.referrals_a],
            "b_ids": [r.id for r in built.referrals_b],
        }


def _url(path: str, referral_id: int) -> str:
    return re.sub(r"\{referral_id\}", str(referral_id), path)


def _snapshot(database: Database) -> tuple[Any, ...]:
    with database.transaction() as session:
        return (
            sorted(
                (r.id, r.state.value, r.acted_by or "") for r in session.scalars(select(Referral))
            ),
            session.scalars(select(ReferralOutcome.id)).all(),
            sorted(session.scalars(select(InfoRequest.id)).all()),
        )


@pytest.mark.parametrize("intruder", ["agent-b", "agent-nowhere"])
def test_another_agency_gets_404_for_every_route(
    client: TestClient, database: Database, world: dict[str, Any], intruder: str
) -> None:
    before = _snapshot(database)
    csrf = sign_in(client, intruder)
    for method, path, route in WITH_ID:
        for referral_id in world["a_ids"]:
            answer = client.request(
                method,
                _url(path, referral_id),
                headers=csrf,
                follow_redirects=False,
                **_body(route, path),
            )
            where = f"{intruder} {method} {path}: {answer.status_code} {answer.text[:200]}"
            assert answer.status_code == 404, where
            assert SECRET_QUESTION not in answer.text, where
            assert "Platform" not in answer.text, where  # A's reporting company
    assert _snapshot(database) == before  # nothing was accepted, declined, recorded or asked
    for method, path in LISTS:
        answer = client.request(method, path, headers=csrf, follow_redirects=False)
        where = f"{intruder} {method} {path}: {answer.status_code}"
        if intruder == "agent-nowhere":
            assert answer.status_code == 404, where
        else:
            assert answer.status_code == 200, where
        assert SECRET_QUESTION not in answer.text, where
        for report_id in world["a_reports"]:
            assert f"Report {report_id}<" not in answer.text, where
            assert f'"report_id":{report_id},' not in answer.text, where


def test_agency_a_reaches_its_own_and_b_its_own(client: TestClient, world: dict[str, Any]) -> None:
    """The same routes answer for the owner: the 404s above are about scope, not breakage."""
    sign_in(client, "agent-a")
    for method, path, _route in WITH_ID:
        if method == "GET":
            answer = client.get(_url(path, world["a_ids"][0]))
            assert answer.status_code == 200, f"{path}: {answer.text[:300]}"
    for method, path, _route in WITH_ID:
        if method == "GET":
            assert client.get(_url(path, world["b_ids"][0])).status_code == 404, path
    queue = client.get("/v1/agency/referrals").json()["referrals"]
    assert sorted(item["id"] for item in queue) == sorted(world["a_ids"])


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.AGENCY])
def test_other_roles_are_forbidden_everywhere(
    client: TestClient, database: Database, world: dict[str, Any], role: Role
) -> None:
    with database.transaction(write=True) as session:
        add_member(session, f"person-{role.value}", None, roles=(role,))
    csrf = sign_in(client, f"person-{role.value}")
    for method, path, route in ROUTES:
        answer = client.request(
            method,
            _url(path, world["a_ids"][0]),
            headers=csrf,
            follow_redirects=False,
            **_body(route, path),
        )
        assert answer.status_code == 403, f"{role} {method} {path}: {answer.status_code}"
        assert SECRET_QUESTION not in answer.text
