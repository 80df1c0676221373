"""Issue 18: over the API an administrator re-enables a disabled account and resets a
person's password, as the console and the CLI can, with the same permission (users:manage),
the same audit records and the same refusals (vigil.http.account_admin)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import PASSWORD, add_user, sign_in
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord, Role

NEW_PASSWORD = "a long and new pass phrase 7"


def _as(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    client.cookies.clear()
    return sign_in(client, username, password)


def _changes(database: Database, username: str) -> list[tuple[str, str, bool | None]]:
    """(actor, change, generated) of each user_changed record about ``username``."""
    with database.transaction() as session:
        records = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.USER_CHANGED)
            .order_by(AuditRecord.seq)
        ).all()
    return [
        (r.actor, r.details["change"], r.details.get("generated"))
        for r in records
        if r.details.get("username") == username
    ]


@pytest.fixture
def admin(client: TestClient, database: Database) -> dict[str, str]:
    add_user(database, "ann", [Role.ADMIN])
    add_user(database, "rita", [Role.REVIEWER])
    return _as(client, "ann")


def test_a_disabled_account_is_enabled_again(
    client: TestClient, database: Database, admin: dict[str, str]
) -> None:
    disabled = client.patch("/v1/admin/users/rita", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"]
    enabled = client.post("/v1/admin/users/RITA/enable", headers=admin)
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] and not enabled.json()["disabled"]
    assert enabled.json()["roles"] == ["reviewer"]
    again = client.post("/v1/admin/users/rita/enable", headers=admin)  # nothing to do
    assert again.status_code == 200 and not again.json()["enabled"]
    assert _changes(database, "rita") == [
        ("user:ann", "disabled", None),
        ("user:ann", "enabled", None),
    ]
    _as(client, "rita")  # signs in with the password she had


def test_a_generated_password_is_answered_once_and_must_be_replaced(
    client: TestClient, database: Database, admin: dict[str, str]
) -> None:
    reset = client.post("/v1/admin/users/rita/password", headers=admin)
    assert reset.status_code == 200, reset.text
    body = reset.json()
    assert body["must_change_password"] and len(body["one_time_password"]) >= 12
    client.cookies.clear()
    old = client.post("/v1/auth/sign-in", json={"username": "rita", "password": PASSWORD})
    assert old.status_code == 401
    signed = client.post(
        "/v1/auth/sign-in", json={"username": "rita", "password": body["one_time_password"]}
    )
    assert signed.status_code == 200 and signed.json()["must_change_password"]
    assert _changes(database, "rita") == [("user:ann", "password reset", True)]


def test_a_chosen_password_is_checked_and_not_echoed(
    client: TestClient, database: Database, admin: dict[str, str]
) -> None:
    weak = client.post("/v1/admin/users/rita/password", headers=admin, json={"password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    assert "short" not in weak.text
    named = client.post(
        "/v1/admin/users/rita/password", headers=admin, json={"password": "rita-rita-rita-rita"}
    )
    assert named.status_code == 422  # holds the username
    chosen = client.post(
        "/v1/admin/users/rita/password", headers=admin, json={"password": NEW_PASSWORD}
    )
    assert chosen.status_code == 200, chosen.text
    assert "one_time_password" not in chosen.json() and NEW_PASSWORD not in chosen.text
    assert _changes(database, "rita") == [("user:ann", "password reset", False)]
    _as(client, "rita", NEW_PASSWORD)


def test_refusals_match_the_console(
    client: TestClient, database: Database, admin: dict[str, str]
) -> None:
    for action in ("enable", "password"):
        unknown = client.post(f"/v1/admin/users/nobody/{action}", headers=admin)
        assert unknown.status_code == 404, action
        own = client.post(f"/v1/admin/users/ann/{action}", headers=admin)
        assert own.status_code == 409 and "another administrator" in own.text, action
        too_long = client.post(f"/v1/admin/users/{'r' * 101}/{action}", headers=admin)
        assert too_long.status_code == 422, action
    client.patch("/v1/admin/users/rita", headers=admin, json={"disabled": True})
    disabled = client.post("/v1/admin/users/rita/password", headers=admin)
    assert disabled.status_code == 409 and "enable it first" in disabled.text
    for body in (
        {"password": "x" * 1025},
        {"password": 12345678901234},
        {"password": NEW_PASSWORD, "must_change_password": False},
    ):
        refused = client.post("/v1/admin/users/rita/password", headers=admin, json=body)
        assert refused.status_code == 422, body
    malformed = client.post(
        "/v1/admin/users/rita/password",
        headers={**admin, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert malformed.status_code in (400, 422)
    assert _changes(database, "rita") == [("user:ann", "disabled", None)]


def test_only_user_managers_may(client: TestClient, database: Database) -> None:
    add_user(database, "rita", [Role.REVIEWER])
    add_user(database, "aud", [Role.AUDITOR])
    csrf = _as(client, "aud")
    assert client.post("/v1/admin/users/rita/enable", headers=csrf).status_code == 403
    assert client.post("/v1/admin/users/rita/password", headers=csrf).status_code == 403
    assert _changes(database, "rita") == []
