"""One running service for all the cases of a module (once per backend), for matrices of many
cases that each only add their own, uniquely named rows and check what they are answered:
building an application per case cost more than the case.

Use in a module by overriding the per-test fixtures:

    @pytest.fixture(scope="module")
    def database(module_database: Database) -> Database:
        return module_database

    @pytest.fixture
    def client(shared_client: TestClient) -> TestClient:
        return shared_client

A module whose service needs other settings overrides ``shared_service_options`` (the
keyword arguments of ``tests.api.service.service_settings``). The per-test fixtures may be used
beside these: they never touch the module's database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from vigil.store import Database, open_database

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def module_database(module_database_url: str) -> Iterator[Database]:
    db = open_database(module_database_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def shared_service_options() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="module")
def module_service(
    module_database_url: str,
    shared_service_options: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    # Imported here: most test modules never start a service (see tests/api/service.py).
    from tests.api.service import running, service_settings

    data_dir = tmp_path_factory.mktemp("shared-service") / "data"
    yield from running(service_settings(module_database_url, data_dir, **shared_service_options))


@pytest.fixture
def shared_client(module_service: TestClient) -> TestClient:
    """The module's service as a new one would be for this case: signed out, and no sign-in
    attempts counted yet from the test client's address (only a few a minute are allowed)."""
    from vigil.http.rate_limit import RateLimiter

    module_service.cookies.clear()
    module_service.app.state.vigil.limiter = RateLimiter()
    return module_service
