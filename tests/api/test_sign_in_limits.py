"""The sign-in limit counts per account and address, with a higher ceiling per address: a
shift of reviewers behind one NAT signs in, while one account hammered from one address, or
many names sprayed from one address, is stopped with 429."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.service import PASSWORD, add_user
from vigil.core.settings import ApiSettings
from vigil.http.rate_limit import RateLimiter
from vigil.http.sign_in_limits import sign_in_wait
from vigil.store import Database
from vigil.store.models import Role


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_shift_behind_one_address_signs_in(client: TestClient, database: Database) -> None:
    settings = ApiSettings()
    shift = [f"reviewer{number}" for number in range(2 * settings.sign_in_per_account_per_minute)]
    for name in shift:
        add_user(database, name, [Role.REVIEWER])
    for name in shift:
        client.cookies.clear()
        answer = client.post("/v1/auth/sign-in", json={"username": name, "password": PASSWORD})
        assert answer.status_code == 200, (name, answer.text)


def test_one_account_from_one_address_is_slowed(client: TestClient, database: Database) -> None:
    add_user(database, "erin", [Role.REVIEWER])
    statuses = [
        client.post("/v1/auth/sign-in", json={"username": "erin", "password": "wrong"}).status_code
        for _ in range(ApiSettings().sign_in_per_account_per_minute)
    ]
    assert 429 in statuses and statuses[0] == 401
    # The same person, by the console's form, is limited by the same bucket.
    form = client.post("/login", data={"username": "ERIN ", "password": "wrong"})
    assert form.status_code == 429 and "Too many attempts" in form.text
    # A colleague at the same address is not.
    add_user(database, "frank", [Role.REVIEWER])
    other = client.post("/v1/auth/sign-in", json={"username": "frank", "password": PASSWORD})
    assert other.status_code == 200, other.text


def test_the_address_ceiling_stops_a_name_spray() -> None:
    clock = Clock()
    limiter, settings = RateLimiter(clock), ApiSettings(sign_in_per_address_per_minute=60)
    waits = [sign_in_wait(limiter, settings, "192.0.2.7", f"name{n}") for n in range(40)]
    allowed = sum(1 for wait in waits if wait is None)
    assert allowed == 10  # the address's burst: ten seconds' worth of 60 a minute
    assert sign_in_wait(limiter, settings, "198.51.100.1", "name1") is None  # other address
    clock.now += 60
    assert sign_in_wait(limiter, settings, "192.0.2.7", "name99") is None  # refilled


def test_the_account_limit_is_per_address() -> None:
    limiter, settings = RateLimiter(Clock()), ApiSettings(sign_in_per_account_per_minute=6)
    at_one = [sign_in_wait(limiter, settings, "192.0.2.7", "erin") for _ in range(5)]
    assert at_one[0] is None and at_one[-1] is not None and at_one[-1] > 0
    assert sign_in_wait(limiter, settings, "192.0.2.8", "erin") is None
