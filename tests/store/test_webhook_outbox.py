"""The webhook outbox: endpoint registration, queuing in the caller's transaction, claiming."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from vigil.store import Database
from vigil.store.evidence import MasterKey
from vigil.store.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, utcnow
from vigil.store.records.outbox import (
    InvalidWebhook,
    claim_due,
    deliveries_for,
    delivery_summary,
    disable_endpoint,
    endpoint_summary,
    enqueue_event,
    list_endpoints,
    record_attempt,
    register_endpoint,
    set_endpoint_enabled,
)

URL = "https://platform.example/hooks/vigil"
KEY = MasterKey.generate()


def _register(database: Database, events: list[str], url: str = URL) -> tuple[int, str]:
    with database.transaction(write=True) as session:
        endpoint, secret = register_endpoint(
            session, url, events, created_by="admin", master_key=KEY
        )
        return endpoint.id, secret


def _delivery_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://platform.example/hook",
        "https:///no-host",
        "platform.example/hook",
        "https://user:pass@platform.example/hook",
        "https://token@platform.example/hook",
        "https://platform.example/a b",
        "https://platform.example/\r\nX-Injected: 1",
        "https://platform.example:99999/hook",
        "javascript:alert(1)",
        "https://platform.example/" + "a" * 2000,
        "",
    ],
)
def test_register_rejects_bad_urls(database: Database, url: str) -> None:
    with database.transaction(write=True) as session, pytest.raises(InvalidWebhook):
        register_endpoint(session, url, ["verdict"], created_by="admin", master_key=KEY)
    with database.session() as session:
        assert list_endpoints(session) == []


@pytest.mark.parametrize("events", [[], ["verdict", "deleted"], ["VERDICT"], [""]])
def test_register_rejects_unknown_or_no_events(database: Database, events: list[str]) -> None:
    with database.transaction(write=True) as session, pytest.raises(InvalidWebhook):
        register_endpoint(session, URL, events, created_by="admin", master_key=KEY)


def test_register_returns_a_fresh_secret_that_the_summary_hides(database: Database) -> None:
    first_id, first_secret = _register(database, ["verdict", "verdict", "decision"])
    _second_id, second_secret = _register(database, ["decision"])
    assert first_secret != second_secret and len(first_secret) >= 40
    with database.session() as session:
        endpoint = session.get(WebhookEndpoint, first_id)
        assert endpoint is not None and endpoint.events == ["decision", "verdict"]
        summary = endpoint_summary(endpoint)
    assert first_secret not in repr(summary) and "secret" not in summary
    assert summary["url"] == URL and summary["created_by"] == "admin"


def test_enqueue_goes_to_enabled_subscribed_endpoints_only(database: Database) -> None:
    verdicts, _ = _register(database, ["verdict"])
    both, _ = _register(database, ["verdict", "decision"])
    decisions, _ = _register(database, ["decision"])
    disabled, _ = _register(database, ["verdict"])
    with database.transaction(write=True) as session:
        disable_endpoint(session, disabled)
    with database.transaction(write=True) as session:
        queued = enqueue_event(session, "verdict", {"record": 7})
        assert sorted(d.endpoint_id for d in queued) == [verdicts, both]
    with database.session() as session:
        rows = session.scalars(select(WebhookDelivery)).all()
    assert sorted(row.endpoint_id for row in rows) == [verdicts, both]
    assert len({row.event_id for row in rows}) == 1  # one event, one id for every endpoint
    assert all(
        row.status == DeliveryStatus.PENDING and row.payload == {"record": 7} for row in rows
    )
    assert decisions not in {row.endpoint_id for row in rows}


def test_enqueue_rejects_unknown_events(database: Database) -> None:
    _register(database, ["verdict"])
    with database.transaction(write=True) as session, pytest.raises(InvalidWebhook):
        enqueue_event(session, "everything", {})
    assert _delivery_count(database) == 0


def test_enqueue_rolls_back_with_the_callers_transaction(database: Database) -> None:
    _register(database, ["verdict"])

    class Boom(Exception):
        pass

    with pytest.raises(Boom), database.transaction(write=True) as session:
        enqueue_event(session, "verdict", {"record": 1})
        session.flush()
        raise Boom
    assert _delivery_count(database) == 0
    with database.transaction(write=True) as session:
        enqueue_event(session, "verdict", {"record": 2})
    assert _delivery_count(database) == 1


def test_claim_leases_due_deliveries_once(database: Database) -> None:
    endpoint_id, _ = _register(database, ["verdict"])
    now = utcnow()
    with database.transaction(write=True) as session:
        enqueue_event(session, "verdict", {"n": 1}, now=now)
        enqueue_event(session, "verdict", {"n": 2}, now=now + timedelta(hours=1))  # not due
    lease = now + timedelta(seconds=40)
    with database.transaction(write=True) as session:
        claimed = claim_due(session, now, lease_until=lease)
        assert [d.payload for d in claimed] == [{"n": 1}]
        assert claimed[0].endpoint.id == endpoint_id
    with database.transaction(write=True) as session:
        assert claim_due(session, now + timedelta(seconds=39), lease_until=lease) == []
    with database.transaction(write=True) as session:  # the lease ran out: taken again
        assert len(claim_due(session, lease, lease_until=lease + timedelta(seconds=1))) == 1
    with database.transaction(write=True) as session, pytest.raises(ValueError):
        claim_due(session, now, lease_until=now)


def test_deliveries_of_a_disabled_endpoint_wait(database: Database) -> None:
    endpoint_id, _ = _register(database, ["verdict"])
    now = utcnow()
    with database.transaction(write=True) as session:
        enqueue_event(session, "verdict", {}, now=now)
        disable_endpoint(session, endpoint_id)
    with database.transaction(write=True) as session:
        assert claim_due(session, now, lease_until=now + timedelta(seconds=1)) == []
    with database.transaction(write=True) as session:
        set_endpoint_enabled(session, endpoint_id, True)
    with database.transaction(write=True) as session:
        assert len(claim_due(session, now, lease_until=now + timedelta(seconds=1))) == 1
    with database.transaction(write=True) as session, pytest.raises(InvalidWebhook):
        disable_endpoint(session, endpoint_id + 100)


def test_record_attempt_moves_the_delivery_on_and_logs(database: Database) -> None:
    endpoint_id, _ = _register(database, ["decision"])
    now = utcnow()
    with database.transaction(write=True) as session:
        enqueue_event(session, "decision", {"d": 1}, now=now)
        session.flush()
        delivery_id = session.scalars(select(WebhookDelivery.id)).one()
    retry = now + timedelta(seconds=5)
    with database.transaction(write=True) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        record_attempt(
            session,
            delivery,
            at=now,
            status_code=503,
            error="x" * 900,
            duration_ms=12,
            next_attempt_at=retry,
        )
    with database.transaction(write=True) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        record_attempt(
            session,
            delivery,
            at=retry,
            status_code=204,
            error=None,
            duration_ms=3,
            next_attempt_at=None,
        )
    with database.transaction(write=True) as session:  # a late failure changes nothing
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        record_attempt(
            session,
            delivery,
            at=retry,
            status_code=None,
            error="timed out",
            duration_ms=3,
            next_attempt_at=None,
        )
    with database.session() as session:
        [delivery] = deliveries_for(session, endpoint_id)
        summary = delivery_summary(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_at == retry
    assert delivery.attempts == 3
    assert [entry["status_code"] for entry in summary["log"]] == [503, 204, None]
    assert len(summary["log"][0]["error"]) == 500
    assert "payload" not in summary


def test_record_attempt_fails_for_good_without_a_next_time(database: Database) -> None:
    endpoint_id, _ = _register(database, ["verdict"])
    with database.transaction(write=True) as session:
        enqueue_event(session, "verdict", {})
    with database.transaction(write=True) as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        record_attempt(
            session,
            delivery,
            at=utcnow(),
            status_code=302,
            error="redirect",
            duration_ms=1,
            next_attempt_at=None,
        )
    with database.session() as session:
        assert deliveries_for(session, endpoint_id, status=DeliveryStatus.PENDING) == []
        [failed] = deliveries_for(session, endpoint_id, status=DeliveryStatus.FAILED)
    assert failed.attempts == 1
