"""A running clearinghouse for intake tests: the real application with [clearinghouse]
enabled on the test database (SQLite and PostgreSQL), a real evidence vault under tmp_path,
and one reporting company with the documentation's example user name."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.service import running, service_settings
from vigil.clearinghouse.companies import add_company
from vigil.core.settings import Settings
from vigil.store import Database

USERNAME = "usr123"
PASSWORD = "pswd123-long-enough"  # the documentation's pswd123 is shorter than our policy
OTHER_USERNAME = "other-platform"
MAX_BYTES = 256 * 1024


def basic(username: str = USERNAME, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class Intake:
    client: TestClient
    database: Database
    settings: Settings

    def post_xml(self, endpoint: str, body: bytes, **headers: str) -> object:
        return self.client.post(
            f"/ispws/{endpoint}",
            content=body,
            headers={**basic(), "Content-Type": "text/xml; charset=utf-8", **headers},
        )

    def post_form(
        self,
        endpoint: str,
        fields: dict[str, str],
        files: dict[str, tuple[str, bytes]] | None = None,
        auth: dict[str, str] | None = None,
    ) -> object:
        # curl --form: always multipart/form-data, also without a file
        parts = {name: (None, value.encode()) for name, value in fields.items()}
        parts.update(
            {
                name: (file_name, content, "application/octet-stream")
                for name, (file_name, content) in (files or {}).items()
            }
        )
        return self.client.post(f"/ispws/{endpoint}", files=parts, headers=auth or basic())


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_argon2: None) -> None:
    """Every intake request verifies a password: argon2 at minimal cost in tests."""


@pytest.fixture
def intake_settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={"enabled": True, "max_upload_bytes": MAX_BYTES},
    )


@pytest.fixture
def intake(intake_settings: Settings, database: Database) -> Iterator[Intake]:
    with database.transaction(write=True) as session:
        add_company(session, "Example Platform", USERNAME, PASSWORD)
        add_company(session, "Other Platform", OTHER_USERNAME, PASSWORD)
    for client in running(intake_settings):
        yield Intake(client, database, intake_settings)
