"""/ispws under a flood of bad credentials (issue 14, item 6): past a few attempts an address
or a user name is answered 429 without any password hashed, the same wrong pair is answered
from memory, and the real company keeps reporting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.api.service import service_settings
from tests.clearinghouse.conftest import MAX_BYTES, PASSWORD, USERNAME, Intake, basic
from tests.clearinghouse.documented import report_xml
from vigil.clearinghouse import companies
from vigil.core.settings import Settings

FREE = 5  # the default sign_in_free_failures


@pytest.fixture
def intake_settings(database_url: str, tmp_path: Path) -> Settings:
    """A first wait of a minute, not the default second: on a loaded machine one request's
    password hash can outlast a second, the wait lapses and a guess is hashed, and these
    tests count the hashes."""
    return service_settings(
        database_url,
        tmp_path / "data",
        clearinghouse={
            "enabled": True,
            "max_upload_bytes": MAX_BYTES,
            "sign_in_backoff_seconds": 60.0,
        },
    )


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification (argon2) the intake runs, decoys included."""
    ran: list[str] = []
    real_verify, real_decoy = companies.verify_password, companies.verify_decoy

    def verify(stored: str, password: str) -> bool:
        ran.append("verify")
        return real_verify(stored, password)

    def decoy(password: str) -> None:
        ran.append("decoy")
        real_decoy(password)

    monkeypatch.setattr(companies, "verify_password", verify)
    monkeypatch.setattr(companies, "verify_decoy", decoy)
    return ran


@pytest.fixture
def elsewhere(intake: Intake) -> Iterator[TestClient]:
    """A client from another address, on the same running application."""
    yield TestClient(intake.client.app, client=("203.0.113.50", 40000))


def _code(answer: object) -> str | None:
    return etree.fromstring(answer.content).findtext("responseCode")  # type: ignore[attr-defined]


def _status(client: TestClient, username: str = USERNAME, password: str = PASSWORD) -> object:
    return client.get("/ispws/status", headers=basic(username, password))


def test_a_flood_gets_429_without_hashing(intake: Intake, hashes: list[str]) -> None:
    answers = [_status(intake.client, password=f"guess-{n}") for n in range(30)]
    assert [a.status_code for a in answers[:FREE]] == [401] * FREE
    limited = answers[FREE:]
    assert {a.status_code for a in limited} == {429}
    assert len(hashes) == FREE
    first = limited[0]
    assert _code(first) == "2000"  # not authenticated, as the documentation's code says
    assert int(first.headers["Retry-After"]) >= 1
    assert etree.fromstring(first.content).tag == "reportResponse"
    assert first.headers["Request-ID"]


def test_finish_is_limited_with_its_own_document(intake: Intake) -> None:
    for n in range(FREE):
        intake.post_form("finish", {"id": "1"}, auth=basic(password=f"guess-{n}"))
    limited = intake.post_form("finish", {"id": "1"}, auth=basic(password="guess-x"))
    assert limited.status_code == 429
    root = etree.fromstring(limited.content)
    assert (root.tag, root.findtext("responseCode")) == ("reportDoneResponse", "2000")


def test_guessing_other_names_is_limited_by_address(intake: Intake, hashes: list[str]) -> None:
    answers = [_status(intake.client, username=f"name-{n}") for n in range(12)]
    assert [a.status_code for a in answers] == [401] * FREE + [429] * (12 - FREE)
    assert len(hashes) == FREE


def test_the_same_wrong_pair_is_hashed_once(intake: Intake, hashes: list[str]) -> None:
    answers = [_status(intake.client, password="an-old-password") for _ in range(20)]
    assert {a.status_code for a in answers} == {401}
    assert len(hashes) == 1
    assert _status(intake.client).status_code == 200  # the company is not held back


def test_the_company_reports_while_an_address_floods(
    intake: Intake, elsewhere: TestClient, hashes: list[str]
) -> None:
    for n in range(20):  # guessing names, none of them the company's
        _status(elsewhere, username=f"name-{n}")
    assert _status(elsewhere, username="name-x").status_code == 429
    submitted = intake.post_xml("submit", report_xml())
    assert (submitted.status_code, _code(submitted)) == (200, "0")


def test_the_company_signs_in_while_its_name_is_flooded(
    intake: Intake, elsewhere: TestClient
) -> None:
    assert _status(intake.client).status_code == 200  # the company signed in before
    intake.client.app.state.vigil.companies.clear()  # its 5 s cache has expired
    for n in range(20):
        _status(elsewhere, password=f"guess-{n}")
    assert _status(elsewhere, password="guess-more").status_code == 429
    assert _status(intake.client).status_code == 200


def test_wrong_then_right_from_one_address(intake: Intake) -> None:
    """A company that mistyped its password a few times gets in once it has it right."""
    for n in range(FREE - 1):
        assert _status(intake.client, password=f"typo-{n}").status_code == 401
    assert _status(intake.client).status_code == 200
    assert _status(intake.client, password="typo-after").status_code == 401
