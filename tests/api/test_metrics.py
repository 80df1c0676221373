"""Prometheus /metrics: open to loopback clients without a token, hidden from everyone else,
a bearer token from anywhere when configured, 404 when disabled; counts only, matching the
database, never an identifier, a name or content."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.service import service_settings
from tests.stats.dataset import (
    HOSTILE_TYPE,
    REPORTS,
    SECRET_EMAIL,
    SECRET_IP,
    insert,
)
from vigil.api.routes.metrics import DatabaseCollector, is_loopback
from vigil.core.settings import Settings
from vigil.server.app import create_app
from vigil.store import Database, open_database
from vigil.store.models import (
    DeliveryStatus,
    IntakeState,
    ReferralState,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

TOKEN = "metrics-token-0123456789abcdef"
LOOPBACK = ("127.0.0.1", 40000)
REMOTE = ("203.0.113.5", 1234)


@contextmanager
def _client(settings: Settings, client: tuple[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, background_jobs=False), client=client) as test:
        yield test


def _settings(database_url: str, tmp_path: Path, **metrics: Any) -> Settings:
    return service_settings(database_url, tmp_path / "data", metrics=metrics)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _with_webhooks(database: Database) -> None:
    with database.transaction(write=True) as session:
        endpoint = WebhookEndpoint(
            url="https://hooks.example.invalid/secret-path",
            sealed_secret="v1:" + "0" * 16 + ":x",
            events=["verdict"],
            created_by="test",
        )
        session.add(endpoint)
        session.flush()
        for status in (DeliveryStatus.PENDING, DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            session.add(
                WebhookDelivery(
                    event_id="e",
                    endpoint_id=endpoint.id,
                    event="verdict",
                    payload={"sha256": "ab" * 32},
                    status=status,
                )
            )


def test_loopback_without_token_gets_counts(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    with database.transaction(write=True) as session:
        insert(session)
    _with_webhooks(database)
    with _client(_settings(database_url, tmp_path), LOOPBACK) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    for state in IntakeState:
        assert samples[("vigil_intake_reports", (("state", state.value),))] == sum(
            1 for spec in REPORTS if spec.state is state
        )
    referrals = [r for spec in REPORTS for r in spec.referrals]
    for state in ReferralState:
        assert samples[("vigil_referrals", (("state", state.value),))] == sum(
            1 for r in referrals if r.state is state
        )
    assert samples[("vigil_routing_queue_reports", ())] == sum(
        1 for r in referrals if r.state is ReferralState.UNROUTED
    )
    assert samples[("vigil_intake_files", (("verdict", "unclassified"),))] == sum(
        1 for spec in REPORTS for verdict in spec.verdicts if verdict is None
    )
    assert samples[("vigil_triage_untriaged_reports", ())] == sum(
        1 for spec in REPORTS if spec.state is IntakeState.FINISHED and not spec.triage_after
    )
    assert samples[("vigil_intake_finished_reports_total", ())] == sum(
        1 for spec in REPORTS if spec.finished_at is not None
    )
    now = utcnow()
    infos = [i for r in referrals for i in r.info]
    still_open = [i for i in infos if not i.answered_after and not i.withdrawn]
    assert samples[("vigil_info_requests_open", ())] == len(still_open)
    assert samples[("vigil_info_requests_overdue", ())] == sum(
        1 for i in still_open if i.requested_at + timedelta(days=i.due_days) < now
    )
    assert samples[("vigil_webhook_deliveries_pending", ())] == 2
    assert samples[("vigil_webhook_deliveries", (("status", "failed"),))] == 1
    assert samples[("vigil_database_up", ())] == 1
    assert (
        sum(value for (name, _), value in samples.items() if name == "vigil_triage_queue_reports")
        > 0
    )
    assert any(name.startswith("process_") for name, _ in samples)
    for secret in (
        SECRET_EMAIL,
        SECRET_IP,
        "Springfield",
        "Alpha",
        "Beta",
        "Gamma",
        "ICAC",
        "Bundeskriminalamt",
        HOSTILE_TYPE,
        "secret",
        "hooks.example",
        "ab" * 32,
        "private note",
    ):
        assert secret not in answer.text


def test_remote_without_token_is_not_found(database_url: str, tmp_path: Path) -> None:
    with _client(_settings(database_url, tmp_path), REMOTE) as client:
        answer = client.get("/metrics")
        assert answer.status_code == 404
        assert "vigil_" not in answer.text
        # A bearer header does not open it either: no token is configured to match.
        assert (
            client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        )


def test_token_is_required_when_configured(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path, token=TOKEN)
    for address in (REMOTE, LOOPBACK):  # loopback is no exception once a token is set
        with _client(settings, address) as client:
            assert client.get("/metrics").status_code == 401
            for header in (
                f"Bearer {TOKEN}x",
                f"Bearer {TOKEN[:-1]}",
                f"Basic {TOKEN}",
                "Bearer",
                f"Bearer {'x' * 10_000}",
                TOKEN,
            ):
                assert (
                    client.get("/metrics", headers={"Authorization": header}).status_code == 401
                ), header
            answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200 and "vigil_intake_reports" in answer.text


def test_disabled_is_not_found(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path, enabled=False, token=TOKEN)
    with _client(settings, LOOPBACK) as client:
        assert (
            client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        )


def test_session_and_api_key_middleware_does_not_apply(database_url: str, tmp_path: Path) -> None:
    """Prometheus has no session: the answer must not be a redirect to /login or a 401
    from the API-key check, and the exemption is this one path only."""
    with _client(_settings(database_url, tmp_path), LOOPBACK) as client:
        assert client.get("/metrics", follow_redirects=False).status_code == 200
        assert client.get("/metrics/", follow_redirects=False).status_code != 200
        assert client.get("/metricsx", follow_redirects=False).status_code in (303, 401, 404)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("203.0.113.5", False),
        ("10.0.0.1", False),
        ("::ffff:203.0.113.5", False),
        ("testclient", False),
        ("", False),
        (None, False),
        ("localhost", False),
        ("127.0.0.1.evil.example", False),
        ("0.0.0.0", False),
    ],
)
def test_loopback_detection(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_an_unreachable_database_is_a_gauge_not_a_failed_scrape() -> None:
    database = open_database("postgresql+psycopg://vigil@127.0.0.1:1/vigil?connect_timeout=2")
    try:
        families = list(DatabaseCollector(database).collect())
    finally:
        database.dispose()
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [
        ("vigil_database_up", [0])
    ]
