from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.api.service import running, service_settings
from vigil.store import Settings
from vigil.store.accounts import passwords


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    yield from running(settings)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2 at production cost would make each sign-in here take a fifth of a second.
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                             parallelism=1))
