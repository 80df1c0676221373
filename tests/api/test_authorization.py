"""The authorization matrix, built from the routes themselves: every endpoint but the health
checks and sign-in refuses anonymous callers, and each refuses every role and API scope that
lacks the permission it declares. A new route is covered the day it is added.

One application (and database) per backend serves the whole matrix: building one per case
cost more than the case. Each case signs in its own, uniquely named person or key and starts
from an empty cookie jar."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.api.service import add_key, add_user, sign_in
from vigil.api.routes import ROUTERS
from vigil.http.auth import PUBLIC_PATHS, _Requirement, signed_in_user
from vigil.server.app import create_app
from vigil.store import Database
from vigil.store.accounts import API_KEY_SCOPES, ROLE_PERMISSIONS, Permission
from vigil.store.models import Role
from vigil.web.pages import PAGE_ROUTERS

PERSON_ONLY = object()  # marker: the route is for signed-in people, never API keys


@dataclass(frozen=True)
class Console:
    """A console screen: for people only (mount_console refuses API keys whatever their
    scopes), who are judged by ``needs``."""

    needs: object


def _routes() -> Iterator[tuple[str, str, object]]:
    for router in [*ROUTERS, *PAGE_ROUTERS]:  # what create_app mounts (see below)
        for route in router.routes:
            assert isinstance(route, APIRoute)
            needs = _needs(route)
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path, Console(needs) if router in PAGE_ROUTERS else needs


def _inner(needs: object) -> object:
    return needs.needs if isinstance(needs, Console) else needs


def _needs(route: APIRoute) -> object:
    """PERSON_ONLY, "any caller", "none", or the frozenset of permissions required (all)."""
    pending, needed = list(route.dependant.dependencies), set()
    anyone = False
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, _Requirement):
            if dependency.call.permission is None:
                anyone = True
            else:
                needed.add(dependency.call.permission)
        if dependency.call is signed_in_user:
            return PERSON_ONLY
        pending.extend(dependency.dependencies)
    return frozenset(needed) if needed else ("any caller" if anyone else "none")


ROUTES = sorted(_routes(), key=lambda r: (r[1], r[0]))
PROTECTED = [r for r in ROUTES if r[1] not in PUBLIC_PATHS]


@pytest.fixture(scope="module")
def database(module_database: Database) -> Database:
    return module_database


@pytest.fixture
def client(shared_client: TestClient) -> TestClient:
    return shared_client


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_what_it_needs() -> None:
    undeclared = sorted((m, p) for m, p, needs in PROTECTED if _inner(needs) == "none")
    # "Who am I", the way home, the start page and signing out need only valid credentials,
    # on purpose.
    assert undeclared == [("GET", "/"), ("GET", "/home"), ("GET", "/v1/auth/me")]
    anyone = sorted(p for _, p, needs in PROTECTED if _inner(needs) == "any caller")
    assert anyone == ["/docs", "/openapi.json"]


def test_the_matrix_covers_the_service() -> None:
    # OpenAPI writes a path parameter without its converter: {name:path} is {name} there.
    paths = {re.sub(r"\{(\w+):\w+\}", r"{\1}", path) for _, path, _ in ROUTES}
    assert set(create_app(background_jobs=False).openapi()["paths"]) <= paths
    assert {
        "/v1/screen",
        "/v1/screen/hashes",
        "/v1/records/{record_id}/media",
        "/v1/admin/api-keys",
        "/v1/admin/exchanges/{name}/retro/on",
        "/v1/admin/exchanges/{name}/retro/off",
        "/v1/audit",
        "/docs",
        "/openapi.json",
    } <= paths


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in PROTECTED])
def test_no_credentials_no_entry(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, _url(path), follow_redirects=False)
    if method == "GET" and not path.startswith(("/v1/", "/docs", "/openapi.json")):
        # a console page: people are sent to sign in
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        return
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer vigil_nope_nope",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "a" * 5000,
        "vigil_abc_def",
        "Bearer vigil_\x00_x",
    ],
)
def test_bad_bearer_tokens(client: TestClient, header: str) -> None:
    answer = client.get("/v1/records", headers={"Authorization": header})
    assert answer.status_code == 401


def test_health_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health/ready").status_code == 200


def _expect(
    needs: object, granted: frozenset[Permission], is_person: bool, status: int, where: str
) -> None:
    if isinstance(needs, Console):
        if not is_person:
            assert status == 403, where
            return
        needs = needs.needs
    if needs is PERSON_ONLY:
        allowed = is_person
    elif needs in ("none", "any caller"):
        allowed = True
    else:
        assert isinstance(needs, frozenset)
        allowed = needs <= granted
    if allowed:
        assert status not in (401, 403), where
    else:
        assert status == 403, where


@pytest.mark.parametrize("role", list(Role))
def test_roles_against_every_route(client: TestClient, database: Database, role: Role) -> None:
    add_user(database, f"person-{role.value}", [role])
    csrf = sign_in(client, f"person-{role.value}")
    granted = ROLE_PERMISSIONS[role]
    for method, path, needs in PROTECTED:
        if path in ("/v1/auth/sign-out", "/logout"):
            continue  # would end the session the rest of the loop uses
        answer = client.request(method, _url(path), headers=csrf, follow_redirects=False)
        _expect(needs, granted, True, answer.status_code, f"{method} {path}: {answer.text}")


@pytest.mark.parametrize("scope", sorted(s.value for s in API_KEY_SCOPES))
def test_api_key_scopes_against_every_route(
    client: TestClient, database: Database, scope: str
) -> None:
    headers = {"Authorization": f"Bearer {add_key(database, f'key-{scope}', [scope])}"}
    for method, path, needs in PROTECTED:
        answer = client.request(method, _url(path), headers=headers, follow_redirects=False)
        _expect(
            needs,
            frozenset({Permission(scope)}),
            False,
            answer.status_code,
            f"{method} {path}: {answer.text}",
        )


CONSOLE = [(m, p) for m, p, needs in PROTECTED if isinstance(needs, Console)]


@pytest.mark.parametrize("scope", sorted(s.value for s in API_KEY_SCOPES))
def test_no_api_key_reaches_a_console_screen(
    client: TestClient, database: Database, scope: str
) -> None:
    """Console media (review items, clearinghouse files, agency referrals, reports, legal
    packages) are for people with a session: a key of any scope, media:view included, is
    refused on every console route before the route runs (issue 14, item 4)."""
    headers = {
        "Authorization": f"Bearer {add_key(database, f'console-{scope}', [scope])}",
        "X-CSRF-Token": "x",
    }
    assert {p.split("/")[1] for _, p in CONSOLE} >= {
        "review",
        "clearinghouse",
        "agency",
        "reports",
        "legal",
    }
    for method, path in CONSOLE:
        answer = client.request(method, _url(path), headers=headers, follow_redirects=False)
        assert answer.status_code == 403, f"{method} {path}: {answer.status_code}"
        assert answer.json()["error"]["code"] == "console_needs_person", f"{method} {path}"


def test_unsafe_methods_need_the_csrf_token(client: TestClient, database: Database) -> None:
    add_user(database, "csrf-person", [Role.ADMIN])
    csrf = sign_in(client, "csrf-person")
    assert client.get("/v1/admin/users").status_code == 200  # safe: no token needed
    body = {"name": "k", "scopes": ["screen"]}
    refused = client.post("/v1/admin/api-keys", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/v1/admin/api-keys", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.post("/v1/admin/api-keys", json=body, headers=csrf).status_code == 201


def test_a_revoked_key_stops_working(client: TestClient, database: Database) -> None:
    add_user(database, "revoker", [Role.ADMIN])
    csrf = sign_in(client, "revoker")
    token = client.post(
        "/v1/admin/api-keys", json={"name": "soon gone", "scopes": ["records:read"]}, headers=csrf
    ).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/records", headers=bearer).status_code == 200
    prefix = token.split("_")[1]
    assert client.delete(f"/v1/admin/api-keys/{prefix}", headers=csrf).status_code == 200
    assert client.get("/v1/records", headers=bearer).status_code == 401


def test_console_pages_redirect_people_to_sign_in(client: TestClient) -> None:
    answer = client.get("/review", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/review"
    assert client.get("/v1/records", follow_redirects=False).status_code == 401  # JSON, no page
    assert client.post("/review", follow_redirects=False).status_code == 401


def test_the_console_script_and_sign_in_page_are_public(client: TestClient) -> None:
    assert client.get("/static/console.js").status_code == 200
    assert client.get("/login").status_code == 200
    escape = client.get("/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml", follow_redirects=False)
    assert escape.status_code == 404 and "[project]" not in escape.text
