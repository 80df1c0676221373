"""The TOTP second factor through the API and the console: enrolled, its secret is sealed in
the database, and signing in with a code works; a service without the master key answers
503 rather than skipping or failing the factor silently."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.service import PASSWORD, add_user, sign_in
from vigil.core.settings import load_settings
from vigil.server.app import create_app
from vigil.store import Database
from vigil.store.accounts import begin_totp_enrolment, find_user
from vigil.store.evidence import MasterKey
from vigil.store.models import Role


def _enrol(client: TestClient, csrf: dict[str, str]) -> pyotp.TOTP:
    begun = client.post("/v1/auth/totp/begin", headers=csrf)
    assert begun.status_code == 200, begun.text
    app = pyotp.TOTP(parse_qs(urlparse(begun.json()["provisioning_uri"]).query)["secret"][0])
    confirmed = client.post("/v1/auth/totp/confirm", headers=csrf, json={"code": app.now()})
    assert confirmed.status_code == 200, confirmed.text
    return app


def _next_code(app: pyotp.TOTP) -> str:
    # The step after the one enrolment used: inside the drift window, and not a replay.
    return app.at(time.time() + 30)


def test_an_enrolled_factor_is_sealed_and_signs_in(client: TestClient, database: Database) -> None:
    add_user(database, "dave", [Role.REVIEWER])
    app = _enrol(client, sign_in(client, "dave"))
    with database.session() as session:
        row = session.execute(text("SELECT * FROM users WHERE username = 'dave'")).one()
    assert row.totp_enabled and not any(app.secret in str(value) for value in row)

    client.cookies.clear()
    asked = client.post("/v1/auth/sign-in", json={"username": "dave", "password": PASSWORD})
    assert asked.status_code == 401 and asked.json()["error"]["code"] == "second_factor_required"
    signed_in = client.post(
        "/v1/auth/sign-in",
        json={"username": "dave", "password": PASSWORD, "totp_code": _next_code(app)},
    )
    assert signed_in.status_code == 200, signed_in.text


def test_the_console_signs_in_with_the_code(client: TestClient, database: Database) -> None:
    add_user(database, "dave", [Role.REVIEWER])
    app = _enrol(client, sign_in(client, "dave"))
    client.cookies.clear()
    answer = client.post(
        "/login",
        data={"username": "dave", "password": PASSWORD, "totp_code": _next_code(app)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_without_the_master_key_the_factor_is_unavailable_not_skipped(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    add_user(database, "dave", [Role.REVIEWER])
    add_user(database, "erin", [Role.REVIEWER])
    with database.transaction(write=True) as session:
        dave = find_user(session, "dave")
        assert dave is not None
        uri = begin_totp_enrolment(session, dave, master_key=MasterKey.generate())
        dave.totp_enabled = True  # enrolled under a key this service does not have
    app = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    keyless = load_settings(
        data_dir=tmp_path / "data", database_url=database_url, api={"secure_cookies": False}
    )  # and no key file: conftest
    with TestClient(create_app(keyless, background_jobs=False)) as client:
        answer = client.post(
            "/v1/auth/sign-in",
            json={"username": "dave", "password": PASSWORD, "totp_code": app.now()},
        )
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "second_factor_unavailable"
        console = client.post(
            "/login", data={"username": "dave", "password": PASSWORD, "totp_code": app.now()}
        )
        assert console.status_code == 503
        csrf = sign_in(client, "erin")  # no second factor: unaffected
        begun = client.post("/v1/auth/totp/begin", headers=csrf)
        assert begun.status_code == 503, begun.text
    with database.session() as session:
        dave = find_user(session, "dave")
        erin = find_user(session, "erin")
        assert dave is not None and dave.failed_sign_ins == 0  # not counted as a wrong code
        assert erin is not None and erin.sealed_totp_secret is None
