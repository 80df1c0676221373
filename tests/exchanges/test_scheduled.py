"""The scheduled fetch (vigil.exchanges.scheduled): due exchanges run once each, an exchange
being fetched elsewhere is skipped, unopenable credentials are recorded and the others run;
the next fetch waits for the interval plus a bounded jitter."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.exchanges.memory_exchange import MemoryExchange, md5, record
from vigil.exchanges.fetching import fetch_lock_name
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.scheduled import SCHEDULER, fetch_due_exchanges
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import (
    create_exchange,
    exchange_credentials,
    get_exchange,
    set_exchange_enabled,
)
from vigil.store.exchanges.fetch_state import JITTER_FRACTION, due_exchanges, next_fetch_at
from vigil.store.job_locks import held_alone
from vigil.store.lists.catalogue import create_list
from vigil.store.models import Exchange, FetchState

KEY = MasterKey.generate()
PAGES = [[record("e1", md5(1))], [record("e2", md5(2))]]


def _exchanges(database: Database, *names: str, key: MasterKey = KEY) -> None:
    with database.transaction(write=True) as session:
        for name in names:
            create_list(session, f"{name}-list", actor="admin")
            create_exchange(
                session,
                name,
                kind="ncmec",
                base_url="https://exchange.example",
                credentials={"username": "u", "password": "p"},
                list_names=[f"{name}-list"],
                master_key=key,
                actor="admin",
                fetch_interval_seconds=3600,
            )


def _memory(_exchange: Exchange, _key: MasterKey) -> ExchangeClient:
    return MemoryExchange(PAGES)


def test_due_exchanges_are_fetched_once_and_wait_for_their_interval(
    database: Database,
) -> None:
    _exchanges(database, "a", "b", "off")
    with database.transaction(write=True) as session:
        set_exchange_enabled(session, "off", False, actor="admin")
    reports = fetch_due_exchanges(database, KEY, client_for=_memory)
    assert sorted((r.exchange, r.pages) for r in reports) == [("a", 2), ("b", 2)]
    assert fetch_due_exchanges(database, KEY, client_for=_memory) == []
    with database.session() as session:
        exchange = get_exchange(session, "a")
        started = exchange.last_fetch_started_at
        due = next_fetch_at(exchange)
        assert started is not None and due is not None
        assert timedelta(hours=1) <= due - started <= timedelta(hours=1 + JITTER_FRACTION)
        assert "a" not in {e.name for e in due_exchanges(session, due - timedelta(seconds=1))}
        assert "a" in {e.name for e in due_exchanges(session, due)}
        assert sorted(e.name for e in due_exchanges(session, due + timedelta(hours=1))) == [
            "a",
            "b",
        ]


def test_an_exchange_being_fetched_elsewhere_is_skipped(database: Database) -> None:
    _exchanges(database, "busy", "free")
    with database.session() as session:
        busy_id = get_exchange(session, "busy").id
    with held_alone(database, fetch_lock_name(busy_id)) as held:
        assert held
        reports = fetch_due_exchanges(database, KEY, client_for=_memory)
    assert [r.exchange for r in reports] == ["free"]
    with database.session() as session:
        assert get_exchange(session, "busy").fetch_state is FetchState.NEVER


def test_credentials_under_another_key_are_recorded_and_the_others_still_run(
    database: Database,
) -> None:
    _exchanges(database, "lost", key=MasterKey.generate())
    _exchanges(database, "fine")

    def opening(exchange: Exchange, key: MasterKey) -> ExchangeClient:
        exchange_credentials(exchange, key)  # as build_client does
        return MemoryExchange(PAGES)

    reports = fetch_due_exchanges(database, KEY, client_for=opening)
    assert [r.exchange for r in reports] == ["fine"]
    with database.session() as session:
        lost = get_exchange(session, "lost")
        assert (lost.fetch_state, lost.last_error_kind) == (FetchState.FAILED, "credentials")
        assert lost.last_error is not None and "master key" in lost.last_error
        assert lost.checkpoint is None
        assert due_exchanges(session) == []  # tried again after the interval, not at once
    with database.session() as session:
        audits = session.scalars(select(AuditRecord)).all()
        [audit] = [r for r in audits if r.details.get("change") == "fetch"]
        assert (audit.actor, audit.subject_id) == (SCHEDULER, "fine")
