"""A stored exchange fetched over real HTTP on loopback: the Tech Against Terrorism client
built from the stored configuration (credentials opened under the master key) against its
fake server, into a Vigil list; a crash mid-fetch, deletions and refused credentials."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.exchanges.fakes.serving import FakeService, serving
from tests.exchanges.fakes.tat import CREDENTIALS, WRONG_CREDENTIALS, FakeTat
from tests.exchanges.memory_exchange import Crash
from tests.exchanges.no_wait import quick_transport
from vigil.exchanges.clients import client_class, exchange_config
from vigil.exchanges.fetching import fetch_exchange
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import FailureKind, FetchedPage
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange, replace_credentials
from vigil.store.lists.catalogue import create_list
from vigil.store.models import EntryStatus, FetchState, HashList, ListEntry

KEY = MasterKey.generate()


@pytest.fixture
def fake() -> FakeTat:
    service = FakeTat(page_size=3)
    for number in range(8):
        service.add("PDQ" if number % 2 else "MD5", _digest(number % 2 == 1))
        if number % 3 == 2:
            service.tick()
    return service


@pytest.fixture
def service(fake: FakeTat) -> Iterator[FakeService]:
    with serving(fake) as running:
        yield running


def _digest(pdq: bool) -> str:
    return secrets.token_hex(32 if pdq else 16)


def _store(database: Database, name: str, service: FakeService) -> None:
    with database.transaction(write=True) as session:
        create_list(session, f"{name}-list", actor="admin")
        create_exchange(
            session,
            name,
            kind="tat",
            base_url=service.url(""),
            credentials=CREDENTIALS,
            list_names=[f"{name}-list"],
            master_key=KEY,
            actor="admin",
        )


def _client(database: Database, name: str) -> ExchangeClient:
    with database.session() as session:
        config = exchange_config(get_exchange(session, name), KEY)
    client: ExchangeClient = client_class("tat")(config, transport=quick_transport(config))
    return client


class _CrashAfter:
    """The real client, with the process dying once ``pages`` pages are stored."""

    def __init__(self, client: ExchangeClient, pages: int) -> None:
        self.client, self.pages = client, pages

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        for count, page in enumerate(self.client.fetch(checkpoint)):
            if count == self.pages:
                raise Crash
            yield page


def _held(database: Database, list_name: str) -> dict[str, set[tuple[str, str]]]:
    with database.session() as session:
        rows = session.execute(
            select(ListEntry.external_id, ListEntry.signal_type, ListEntry.signal)
            .join(HashList)
            .where(HashList.name == list_name, ListEntry.status == EntryStatus.ACTIVE)
        ).all()
    held: dict[str, set[tuple[str, str]]] = {}
    for external_id, signal_type, signal in rows:
        held.setdefault(external_id, set()).add((str(signal_type), signal))
    return held


def test_a_served_fetch_crashed_midway_resumes_to_the_same_list(
    database: Database, service: FakeService, fake: FakeTat
) -> None:
    _store(database, "whole", service)
    assert fetch_exchange(database, "whole", _client(database, "whole"), actor="op").succeeded
    whole = _held(database, "whole-list")
    assert set(whole) == {str(entry.id) for entry in fake.entries}

    _store(database, "crashed", service)
    with pytest.raises(Crash):
        crashing = _CrashAfter(_client(database, "crashed"), 1)
        fetch_exchange(database, "crashed", crashing, actor="op")  # type: ignore[arg-type]
    assert 0 < len(_held(database, "crashed-list")) < len(whole)
    assert fetch_exchange(database, "crashed", _client(database, "crashed"), actor="op").succeeded
    assert _held(database, "crashed-list") == whole

    fake.delete(fake.entries[0])
    fake.tick()
    for name in ("whole", "crashed"):
        assert fetch_exchange(database, name, _client(database, name), actor="op").succeeded
        assert str(fake.entries[0].id) not in _held(database, f"{name}-list")


def test_refused_credentials_are_recorded_and_replacing_them_resumes(
    database: Database, service: FakeService
) -> None:
    _store(database, "tat", service)
    with database.transaction(write=True) as session:
        replace_credentials(session, "tat", WRONG_CREDENTIALS, master_key=KEY, actor="admin")
    report = fetch_exchange(database, "tat", _client(database, "tat"), actor="op")
    assert report.failure is not None and report.failure.kind is FailureKind.CREDENTIALS
    with database.session() as session:
        exchange = get_exchange(session, "tat")
        assert (exchange.fetch_state, exchange.last_error_kind) == (
            FetchState.FAILED,
            "credentials",
        )
        assert exchange.last_error and WRONG_CREDENTIALS["password"] not in exchange.last_error
    with database.transaction(write=True) as session:
        replace_credentials(session, "tat", CREDENTIALS, master_key=KEY, actor="admin")
    assert fetch_exchange(database, "tat", _client(database, "tat"), actor="op").succeeded
    assert len(_held(database, "tat-list")) == 8
