"""Integer ids in URLs: every route that takes one bounds it to the database's BIGINT range,
so a number beyond 64 bits is a 422, never a 500 from the database driver (issue 14,
item 13)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.api.service import add_user, console_sign_in, running
from vigil.api.intake.info_requests import router as intake_requests
from vigil.api.routes import ROUTERS
from vigil.core.settings import Settings
from vigil.http.row_ids import MAX_ROW_ID
from vigil.store import Database
from vigil.store.models import Role
from vigil.web.pages import PAGE_ROUTERS

TOO_LARGE = 2**64


def _integer_parameters() -> Iterator[tuple[str, str, str, object]]:
    for router in [*ROUTERS, *PAGE_ROUTERS, intake_requests]:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for parameter in route.dependant.path_params + route.dependant.query_params:
                if parameter.field_info.annotation in (int, int | None):
                    method = sorted(route.methods)[0]
                    yield method, route.path, parameter.name, parameter.field_info


INTEGER_PARAMETERS = list(_integer_parameters())


def _upper_bound(field_info: object) -> int | None:
    bounds = [getattr(item, "le", None) for item in getattr(field_info, "metadata", [])]
    return min((bound for bound in bounds if bound is not None), default=None)


@pytest.mark.parametrize(
    ("method", "path", "name", "field_info"),
    INTEGER_PARAMETERS,
    ids=[f"{m} {p} {n}" for m, p, n, _ in INTEGER_PARAMETERS],
)
def test_every_integer_parameter_is_bounded(
    method: str, path: str, name: str, field_info: object
) -> None:
    bound = _upper_bound(field_info)
    assert bound is not None and bound <= MAX_ROW_ID, f"{method} {path}: {name} is unbounded"


ID_ROUTES = [
    (method, path) for method, path, name, _ in INTEGER_PARAMETERS if f"{{{name}}}" in path
]


@pytest.fixture
def reviewer(settings: Settings, database: Database) -> Iterator[TestClient]:
    """A person with every role an id route asks for (the check runs after permission)."""
    add_user(database, "everyone", [r for r in Role if r is not Role.AGENCY])
    for client in running(settings):
        csrf = console_sign_in(client, "everyone")
        client.headers.update(csrf)
        yield client


def test_ids_beyond_64_bits_are_refused_plainly(reviewer: TestClient) -> None:
    assert len(ID_ROUTES) > 20
    failures: list[str] = []
    # The largest BIGINT too: tables numbered in INTEGER overflow on PostgreSQL before that.
    for (method, path), number in product(ID_ROUTES, (TOO_LARGE, MAX_ROW_ID)):
        if "agency/" in path:
            continue  # an agency's own routes refuse this person first (bounds: test above)
        url = re.sub(r"\{\w+_id\}", str(number), path)
        answer = reviewer.request(method, url, headers={"Accept": "application/json"})
        failures += [f"{method} {url}: {answer.status_code}"] * (answer.status_code >= 500)
    assert not failures
