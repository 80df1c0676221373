"""Every round that builds an exchange client closes it when the round ends (issue 16): the
scheduled fetch, whether it succeeds or the service fails, and a feedback round, once per
exchange it built a client for; otherwise each round's connection waits for garbage
collection."""

from __future__ import annotations

import secrets

from tests.exchanges.memory_exchange import MemoryExchange, md5, record
from vigil.exchanges.feedback_sending import send_due_feedback
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.scheduled import fetch_due_exchanges
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange
from vigil.store.exchanges.feedback_queue import enqueue_feedback
from vigil.store.lists.catalogue import create_list
from vigil.store.models import Exchange

KEY = MasterKey.generate()


def _exchange(database: Database, name: str) -> None:
    with database.transaction(write=True) as session:
        create_list(session, f"{name}-list", actor="admin")
        create_exchange(
            session,
            name,
            kind="ncmec",
            base_url="https://exchange.example",
            credentials={"username": "u", "password": "p"},
            list_names=[f"{name}-list"],
            master_key=KEY,
            actor="admin",
        )


class Built:
    """A client factory that keeps every client it built."""

    def __init__(self, **memory: object) -> None:
        self.clients: list[MemoryExchange] = []
        self.memory = memory

    def __call__(self, _exchange: Exchange, _key: MasterKey) -> ExchangeClient:
        client = MemoryExchange([[record("e1", md5(1))]], **self.memory)  # type: ignore[arg-type]
        self.clients.append(client)
        return client


def test_a_scheduled_fetch_closes_its_client(database: Database) -> None:
    _exchange(database, "a")
    built = Built()
    [report] = fetch_due_exchanges(database, KEY, client_for=built)
    assert report.failure is None
    assert [client.closed for client in built.clients] == [1]


def test_a_failed_fetch_closes_its_client_too(database: Database) -> None:
    _exchange(database, "a")
    built = Built(fail_at=0)
    [report] = fetch_due_exchanges(database, KEY, client_for=built)
    assert report.failure is not None
    assert [client.closed for client in built.clients] == [1]


def test_a_feedback_round_closes_each_client_once(database: Database) -> None:
    _exchange(database, "a")
    _exchange(database, "b")
    with database.transaction(write=True) as session:
        for name in ("a", "a", "b"):
            enqueue_feedback(
                session,
                name,
                external_id=secrets.token_hex(8),
                signal_type="md5",
                signal=md5(7),
                verdict="negative",
                reason="false positive",
                actor="reviewer",
            )
    built = Built()
    result = send_due_feedback(database, KEY, client_for=built)
    assert result.sent == 3
    assert sorted(len(client.feedback) for client in built.clients) == [1, 2]
    assert [client.closed for client in built.clients] == [1, 1]
