"""The scheduled fetch: every enabled exchange whose interval has passed, one after another.

Meant for a background job (vigil.jobs.registry) that may run in several processes at once:
each fetch takes its exchange's lock, so a process that finds an exchange being fetched
elsewhere skips it (FetchAlreadyRunning) and the next one is tried. Credentials that do not
open under the loaded master key are recorded on the exchange as a credentials failure,
and the other exchanges still run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from vigil.exchanges.clients import build_client
from vigil.exchanges.fetching import FetchRefused, FetchReport, fetch_exchange
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import FailureKind
from vigil.store.database import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import get_exchange
from vigil.store.exchanges.errors import UnknownExchange
from vigil.store.exchanges.fetch_state import begin_fetch, due_exchanges, fail_fetch
from vigil.store.models import Exchange
from vigil.store.sealed_secrets import SealedSecretError

SCHEDULER = "exchange-fetcher"  # the actor of scheduled fetches' audit records

ClientFactory = Callable[[Exchange, MasterKey], ExchangeClient]


def fetch_due_exchanges(
    database: Database,
    master_key: MasterKey,
    *,
    now: datetime | None = None,
    client_for: ClientFactory = build_client,
) -> list[FetchReport]:
    """Fetch each due exchange; returns the reports of the fetches that ran (a fetch that
    failed on the service's side is among them, with its failure)."""
    with database.session() as session:
        names = [exchange.name for exchange in due_exchanges(session, now)]
    reports = []
    for name in names:
        report = fetch_one(database, name, master_key, client_for)
        if report is not None:
            reports.append(report)
    return reports


def fetch_one(
    database: Database,
    name: str,
    master_key: MasterKey,
    client_for: ClientFactory = build_client,
    *,
    actor: str = SCHEDULER,
) -> FetchReport | None:
    """Fetch one exchange as the schedule does (also when an administrator asks for it over
    HTTP); None when it did not run: disabled, removed, fetched elsewhere now, or its
    credentials do not open (recorded on the exchange)."""
    try:
        with database.session() as session:
            exchange = get_exchange(session, name)
            exchange_id = exchange.id
            client = client_for(exchange, master_key)
        try:
            return fetch_exchange(database, name, client, actor=actor)
        finally:
            client.close()  # the round's connection, not left to garbage collection
    except (FetchRefused, UnknownExchange):
        return None  # fetched elsewhere now, disabled or removed meanwhile
    except SealedSecretError as exc:
        with database.transaction(write=True) as session:
            begin_fetch(session, exchange_id)  # so it is tried again after its interval
            fail_fetch(
                session,
                exchange_id,
                kind=FailureKind.CREDENTIALS.value,
                message=f"the stored credentials cannot be opened: {exc}",
            )
        return None
