"""Issue 14, item 8 over HTTP: media access for administrators is asked for by one and
approved by a second administrator under /v1/admin/grants."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.service import add_user, sign_in
from vigil.store import Database
from vigil.store.models import Role


def _as(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    return sign_in(client, username)


def test_a_media_key_waits_for_a_second_administrator(
    client: TestClient, database: Database
) -> None:
    add_user(database, "ann", [Role.ADMIN])
    add_user(database, "ben", [Role.ADMIN])
    csrf = _as(client, "ann")
    made = client.post(
        "/v1/admin/api-keys",
        headers=csrf,
        json={"name": "viewer", "scopes": ["media:view", "records:read"]},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["awaiting_approval"] and body["pending_grant"]["state"] == "pending"
    grant_id, bearer = body["pending_grant"]["id"], {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/v1/records", headers=bearer).status_code == 401
    own = client.post(f"/v1/admin/grants/{grant_id}/approve", headers=csrf)
    assert own.status_code == 403 and own.json()["error"]["code"] == "second_approver_required"

    csrf = _as(client, "ben")
    listed = client.get("/v1/admin/grants").json()["grants"]
    assert [(g["id"], g["state"], g["api_key"]) for g in listed] == [
        (grant_id, "pending", body["prefix"])
    ]
    approved = client.post(f"/v1/admin/grants/{grant_id}/approve", headers=csrf)
    assert approved.status_code == 200 and approved.json()["decided_by"] == "user:ben"
    assert client.get("/v1/records", headers=bearer).status_code == 200
    again = client.post(f"/v1/admin/grants/{grant_id}/approve", headers=csrf)
    assert again.status_code == 409


def test_reviewer_role_for_an_administrator_waits_for_a_second_one(
    client: TestClient, database: Database
) -> None:
    for name in ("ann", "cat", "dan"):
        add_user(database, name, [Role.ADMIN])
    csrf = _as(client, "ann")
    asked = client.patch("/v1/admin/users/cat", headers=csrf, json={"roles": ["admin", "reviewer"]})
    assert asked.status_code == 202, asked.text
    assert asked.json()["roles"] == ["admin"]
    grant_id = asked.json()["pending_grant"]["id"]
    # An administrator ann creates on the spot cannot approve ann's request.
    made = client.post(
        "/v1/admin/users",
        headers=csrf,
        json={"username": "puppet", "roles": ["admin"], "password": "a-long-enough-passphrase"},
    )
    assert made.status_code == 201
    csrf = _as(client, "cat")  # nor the one who would receive it
    assert client.post(f"/v1/admin/grants/{grant_id}/approve", headers=csrf).status_code == 403
    csrf = _as(client, "dan")
    assert client.post(f"/v1/admin/grants/{grant_id}/approve", headers=csrf).status_code == 200
    users = {u["username"]: u["roles"] for u in client.get("/v1/admin/users").json()["users"]}
    assert users["cat"] == ["admin", "reviewer"]


def test_a_new_administrator_asked_with_media_roles(client: TestClient, database: Database) -> None:
    add_user(database, "ann", [Role.ADMIN])
    csrf = _as(client, "ann")
    made = client.post(
        "/v1/admin/users", headers=csrf, json={"username": "gus", "roles": ["admin", "reviewer"]}
    )
    assert made.status_code == 201
    assert made.json()["roles"] == ["admin"]
    assert made.json()["pending_roles"] == ["admin", "reviewer"]


def test_hostile_grant_ids(client: TestClient, database: Database) -> None:
    add_user(database, "ann", [Role.ADMIN])
    csrf = _as(client, "ann")
    for grant_id in ("0", "-1", str(2**70), "abc", "1e3"):
        answer = client.post(f"/v1/admin/grants/{grant_id}/refuse", headers=csrf)
        assert answer.status_code == 422, grant_id
    assert client.post("/v1/admin/grants/12345/refuse", headers=csrf).status_code == 404
