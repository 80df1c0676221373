"""Webhook endpoints over the API: destinations that are not public are refused at
registration, endpoints belong to whoever registered them, and their secrets are sealed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_key, add_user, running, service_settings, sign_in
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.evidence import load_master_key
from vigil.store.models import Role, WebhookEndpoint
from vigil.store.records.outbox import endpoint_secret

# Literal public addresses: nothing is resolved over the network in these tests.
PUBLIC = [
    "https://8.8.8.8/hooks",
    "https://[2606:4700:4700::1111]/hooks",
    "https://names-that-do-not-resolve.invalid/hooks",
]  # checked again on delivery


def _bearer(database: Database, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_key(database, name, ['webhooks:manage'])}"}


def _register(client: TestClient, headers: dict[str, str], url: str) -> dict:
    answer = client.post("/v1/webhooks", headers=headers, json={"url": url, "events": ["verdict"]})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "http://2130706433/",  # 127.0.0.1 in decimal
        "http://0x7f000001/",  # ... in hex
        "http://0177.0.0.1/",  # ... in octal
        "http://127.1/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://0.0.0.0:8000/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[2002:7f00:1::1]/",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_non_public_destinations_are_refused(
    client: TestClient, database: Database, url: str
) -> None:
    answer = client.post(
        "/v1/webhooks",
        headers=_bearer(database, "prober"),
        json={"url": url, "events": ["verdict"]},
    )
    assert answer.status_code == 422, answer.text
    # Octal spellings httpx does not even parse; the rest resolve to a refused address.
    assert answer.json()["error"]["message"] in (
        "webhook URL refused: the destination is not a public address",
        "webhook URL not a valid URL",
    )
    with database.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []


@pytest.mark.parametrize("url", PUBLIC)
def test_public_destinations_are_accepted(client: TestClient, database: Database, url: str) -> None:
    created = _register(client, _bearer(database, "platform"), url)
    assert created["url"] == url


def test_an_allowed_network_admits_an_on_premises_receiver(
    database_url: str,
    database: Database,
    tmp_path: Path,
) -> None:
    settings = service_settings(
        database_url, tmp_path / "data", webhooks={"allowed_networks": ["10.1.2.0/24"]}
    )
    for client in running(settings):
        headers = _bearer(database, "on-premises")
        assert _register(client, headers, "http://10.1.2.7:8080/hooks")["id"]
        beside = client.post(
            "/v1/webhooks",
            headers=headers,
            json={"url": "http://10.1.3.7/hooks", "events": ["verdict"]},
        )
        assert beside.status_code == 422


def test_endpoints_belong_to_their_owner(client: TestClient, database: Database) -> None:
    mine, theirs = _bearer(database, "mine"), _bearer(database, "theirs")
    add_user(database, "root", [Role.ADMIN])
    own = _register(client, mine, PUBLIC[0])["id"]
    other = _register(client, theirs, PUBLIC[1])["id"]
    csrf = sign_in(client, "root")
    admins = _register(client, csrf, PUBLIC[2])["id"]
    client.cookies.clear()

    listing = client.get("/v1/webhooks", headers=mine).json()["endpoints"]
    assert [row["id"] for row in listing] == [own]
    for endpoint in (other, admins):
        # Another owner's endpoint answers exactly as one that does not exist.
        for answer in (
            client.get(f"/v1/webhooks/{endpoint}/deliveries", headers=mine),
            client.delete(f"/v1/webhooks/{endpoint}", headers=mine),
            client.get("/v1/webhooks/999999/deliveries", headers=mine),
        ):
            assert answer.status_code == 404
            assert answer.json()["error"]["message"] == "no such webhook endpoint"
    assert client.delete(f"/v1/webhooks/{own}", headers=mine).json()["enabled"] is False
    with database.session() as session:
        enabled = {row.id: row.enabled for row in session.scalars(select(WebhookEndpoint))}
    assert enabled == {own: False, other: True, admins: True}

    # An administrator's session sees every endpoint and can stop any of them.
    csrf = sign_in(client, "root")
    everything = client.get("/v1/webhooks", headers=csrf).json()["endpoints"]
    assert {row["id"] for row in everything} == {own, other, admins}
    assert client.delete(f"/v1/webhooks/{other}", headers=csrf).status_code == 200


def test_the_signing_secret_is_stored_sealed(
    client: TestClient, database: Database, settings: Settings
) -> None:
    created = _register(client, _bearer(database, "platform"), PUBLIC[0])
    with database.session() as session:
        endpoint = session.get(WebhookEndpoint, created["id"])
        assert endpoint is not None
        assert created["secret"] not in endpoint.sealed_secret
        assert endpoint_secret(endpoint, load_master_key(settings)) == created["secret"]


def test_without_a_master_key_registration_is_refused_not_stored_in_clear(
    database_url: str,
    database: Database,
    tmp_path: Path,
) -> None:
    settings = service_settings(database_url, tmp_path / "data")
    keyless = settings.model_copy(
        update={"evidence": settings.evidence.model_copy(update={"master_key": None})}
    )
    for client in running(keyless):
        answer = client.post(
            "/v1/webhooks",
            headers=_bearer(database, "platform"),
            json={"url": PUBLIC[0], "events": ["verdict"]},
        )
        assert answer.status_code == 503
        assert "master key" in answer.json()["error"]["message"]
    with database.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []
