"""A running Vigil service for API tests: the real application on the test database (SQLite
or PostgreSQL), a real evidence vault under tmp_path, and credentials for every role."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from vigil.core.settings import Settings, load_settings
from vigil.server.app import create_app
from vigil.server.loopback import serving
from vigil.store import Database
from vigil.store.accounts import approve_grant, create_api_key, create_user, grant_for_key
from vigil.store.evidence import MasterKey
from vigil.store.models import Role

PASSWORD = "correct horse battery staple"


def service_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    key = base64.b64encode(MasterKey.generate().material).decode()
    api = {"secure_cookies": False, **overrides.pop("api", {})}
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        evidence={"master_key": key},
        api=api,
        **overrides,
    )


@dataclass
class Credentials:
    """Authorization headers (API keys) and signed-in clients (people), by name."""

    keys: dict[str, str] = field(default_factory=dict)  # name -> token

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


def add_key(database: Database, name: str, scopes: list[str], **options: Any) -> str:
    """A working key: one with media:view is approved as a second administrator would."""
    with database.transaction(write=True) as session:
        key, token = create_api_key(session, name, scopes, created_by="test", **options)
        grant = grant_for_key(session, key) if key.awaiting_approval else None
        if grant is not None:
            approve_grant(session, grant.id, actor="second-administrator")
    return token


def add_user(database: Database, username: str, roles: list[Role]) -> None:
    with database.transaction(write=True) as session:
        create_user(session, username, PASSWORD, roles, actor="test")


def console_sign_in(client: TestClient, username: str = "analyst") -> dict[str, str]:
    """Signs in through the console's form (a fresh cookie jar); returns the CSRF header."""
    client.cookies.clear()
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return {"X-CSRF-Token": client.cookies["vigil_csrf"]}


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Signs the client in (it keeps the cookie); returns the CSRF header to send."""
    answer = client.post("/v1/auth/sign-in", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {body["csrf_header"]: body["csrf_token"]}


@contextmanager
def live_service(settings: Settings) -> Iterator[str]:
    """The application served by uvicorn on a free local port (for real HTTP clients and
    browsers); yields its base URL."""
    with serving(create_app(settings, background_jobs=False)) as base_url:
        yield base_url


def running(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, background_jobs=False)) as client:
        yield client
